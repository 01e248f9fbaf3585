"""End to end: the installed `ringodesk sync` against the sandbox on 127.0.0.1, asserting
the exact records Zoho Desk ends up with: owners, tickets and tasks per call (R4-R7 below),
what travels with a call (R6), reruns and replays that never send twice (R9)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e import (
    Call,
    Desk,
    agent_id,
    ago,
    by_marker,
    contacts_by_phone,
    in_utc,
    keeps_call_descriptions,
    kill_after_write,
    revoke_after,
    wrap_desk,
    write_export,
    zoho_utc,
)
from sandbox_fixture import (
    both_readings,
    desk_session,
    sandbox,  # noqa: F401
)

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.setup.fields import create_body

pytestmark = both_readings


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    return Desk(sandbox, subprocess_env, tmp_path)


def utc(when: datetime, plus: timedelta = timedelta(0)) -> str:
    """What Zoho should hold for an export's Kyiv wall-clock time ``when`` plus ``plus``:
    the deadline is added to the UTC moment, never to the wall-clock time (a DST change in
    between would shift it by an hour)."""
    return zoho_utc(in_utc(when) + plus)


def one(records: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(records) == 1, records
    return records[0]


def totals(sb: Sandbox) -> dict[str, int]:
    return {k: len(sb.records(k)) for k in ("contacts", "tickets", "calls", "tasks")}


# -- R4-R7: owners, due times, fields, links -------------------------------------------
def test_rules_r4_to_r7_give_exact_owners_due_times_fields_and_links(
    desk: Desk, tmp_path: Path
) -> None:
    sb = desk.sb
    # English texts: the ones asserted below (a new profile writes Ukrainian).
    desk.setup(settings={"integration.task_deadline": "90m", "integration.language": "en"})
    session = desk_session(sb)
    for module in ("tickets", "contacts"):
        answer = session.post(
            f"{sb.url}/api/v1/fields", params={"module": module}, json=create_body("Landing")
        )
        assert answer.ok, answer.text
    for target in ("ticket", "contact"):
        assert desk.run("mapping", "set", target, "landing", "Landing").code == 0
    senior = agent_id(sb, "olena@sandbox.example")
    taras = agent_id(sb, "taras@sandbox.example")  # anna_sip
    iryna = agent_id(sb, "iryna@sandbox.example")  # petro_sip
    utm = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "kitchens",
           "utm_term": "кухні", "utm_content": "ad_1"}  # fmt: skip
    calls = [
        # a new caller answered by a linked agent (R7), with UTM, client id and a mapping
        Call(
            "t-1",
            "0671110001",
            ago(300),
            sip="anna_sip",
            utm=utm,
            gcid="178.171",
            landing="https://kuhni.example.com/kyiv",
            recording="https://rec.example.com/t-1.mp3",
        ),
        # the same caller again, missed: senior manager, a task, no second ticket (R4b, R5)
        Call("t-2", "+380671110001", ago(200), disposition="NO ANSWER"),
        # a new caller, missed: everything is the senior manager's
        Call("t-3", "+380671110003", ago(150), disposition="BUSY", sip="anna_sip"),
        # outbound unanswered by a linked agent: Missed call, no ticket, no task
        Call(
            "t-4",
            "+380671110004",
            ago(100),
            call_type="out",
            disposition="NO ANSWER",
            sip="petro_sip",
        ),
        # answered on a SIP linked to nobody (R4c): a task to check the setup
        Call("t-5", "+380671110005", ago(50), sip="reception_sip"),
    ]
    export = write_export(tmp_path / "calls.csv", calls)
    result = desk.sync(str(export))
    assert result.code == 0, result
    assert result.json()["delivered"] == 5
    assert totals(sb) == {"contacts": 4, "tickets": 3, "calls": 5, "tasks": 3}

    contact1 = one(contacts_by_phone(sb, "+380671110001"))
    assert contact1["ownerId"] == taras
    assert contact1["lastName"] == "+380 67 111 0001"
    assert contact1["cf"]["cf_rs_utm_source"] == "google"
    assert contact1["cf"]["cf_rs_utm_term"] == "кухні"
    assert contact1["cf"]["cf_rs_google_client_id"] == "178.171"
    assert contact1["cf"]["cf_landing"] == "https://kuhni.example.com/kyiv"

    ticket1 = one(by_marker(sb.records("tickets"), "t-1"))
    assert ticket1["contactId"] == contact1["id"]
    assert ticket1["assigneeId"] == taras
    assert ticket1["channel"] == "Phone"
    assert ticket1["departmentId"] == sb.department_id
    assert {k: ticket1["cf"][f"cf_rs_{k}"] for k in utm} == utm
    assert ticket1["cf"]["cf_rs_google_client_id"] == "178.171"
    assert ticket1["cf"]["cf_landing"] == "https://kuhni.example.com/kyiv"

    call1 = one(by_marker(sb.records("calls"), "t-1"))
    assert call1["contactId"] == contact1["id"]
    assert call1["ticketId"] == ticket1["id"]
    assert call1["ownerId"] == taras
    assert (call1["status"], call1["direction"], call1["duration"]) == (
        "Completed",
        "inbound",
        "60",
    )
    assert call1["startTime"] == utc(calls[0].when)
    # R6: from/to numbers, status, recording, call card and UTM travel with the call; where
    # Zoho refuses a description on calls (the strict reading), with its ticket.
    if keeps_call_descriptions(sb):
        carrier = call1
    else:
        assert call1["description"] is None
        carrier = ticket1
    for text in (
        "From: +380671110001",
        "To: +380443334455",
        "Ringostat status: ANSWERED",
        "Recording: https://rec.example.com/t-1.mp3",
        "Call card: https://app.example.com/call-card/t-1",
        "utm_campaign: kitchens",
    ):
        assert text in carrier["description"]
    assert not by_marker(sb.records("tasks"), "t-1")

    # t-2: a repeat caller's missed call: no ticket, a call and a task for the senior manager
    assert not by_marker(sb.records("tickets"), "t-2")
    call2 = one(by_marker(sb.records("calls"), "t-2"))
    assert (call2["status"], call2["ownerId"], call2["contactId"]) == (
        "Missed",
        senior,
        contact1["id"],
    )
    task2 = one(by_marker(sb.records("tasks"), "t-2"))
    assert task2["ownerId"] == senior
    assert task2["contactId"] == contact1["id"]
    assert task2["dueDate"] == utc(calls[1].when, plus=timedelta(minutes=90))
    assert task2["statusType"] == "Open"

    # t-3: a new caller's missed call, the export names an agent: still the senior manager
    contact3 = one(contacts_by_phone(sb, "+380671110003"))
    ticket3 = one(by_marker(sb.records("tickets"), "t-3"))
    call3 = one(by_marker(sb.records("calls"), "t-3"))
    task3 = one(by_marker(sb.records("tasks"), "t-3"))
    assert contact3["ownerId"] == ticket3["assigneeId"] == call3["ownerId"] == senior
    assert task3["ownerId"] == senior
    assert ticket3["contactId"] == call3["contactId"] == task3["contactId"] == contact3["id"]
    assert call3["ticketId"] == task3["ticketId"] == ticket3["id"]
    assert task3["dueDate"] == utc(calls[2].when, plus=timedelta(minutes=90))
    assert ticket3["subject"].startswith("Missed call from +380 67 111 0003")

    # t-4: outbound unanswered: a Missed call owned by the agent who dialled, nothing else
    contact4 = one(contacts_by_phone(sb, "+380671110004"))
    call4 = one(by_marker(sb.records("calls"), "t-4"))
    assert contact4["ownerId"] == call4["ownerId"] == iryna
    assert (call4["status"], call4["direction"]) == ("Missed", "outbound")
    assert not by_marker(sb.records("tickets"), "t-4")
    assert not by_marker(sb.records("tasks"), "t-4")

    # t-5: answered on an unlinked SIP: senior manager owns it, and a task says what to link
    call5 = one(by_marker(sb.records("calls"), "t-5"))
    task5 = one(by_marker(sb.records("tasks"), "t-5"))
    assert call5["ownerId"] == task5["ownerId"] == senior
    assert "reception_sip" in task5["subject"]
    assert task5["dueDate"] == utc(calls[4].when, plus=timedelta(minutes=90))


@pytest.mark.parametrize(
    ("wall", "start", "due"),
    [
        # Last Sunday of March: 03:00 EET becomes 04:00 EEST; 4 h after 01:30 EET is 06:30 EEST.
        ("2026-03-29 01:30:00", "2026-03-28T23:30:00.000Z", "2026-03-29T03:30:00.000Z"),
        # Last Sunday of October: 04:00 EEST becomes 03:00 EET; 4 h after 02:30 is 05:30 EET.
        ("2026-10-25 02:30:00", "2026-10-24T23:30:00.000Z", "2026-10-25T03:30:00.000Z"),
    ],
)
def test_a_task_due_across_a_dst_change_is_due_four_real_hours_after_the_call(
    desk: Desk, tmp_path: Path, wall: str, start: str, due: str
) -> None:
    desk.setup(settings={"integration.task_deadline": "4h"})
    when = datetime.strptime(wall, "%Y-%m-%d %H:%M:%S")
    assert utc(when) == start and utc(when, plus=timedelta(hours=4)) == due  # the helper agrees
    export = write_export(
        tmp_path / "dst.csv", [Call("dst-1", "+380671119001", when, disposition="NO ANSWER")]
    )
    result = desk.sync(str(export))
    assert result.code == 0, result
    assert one(by_marker(desk.sb.records("calls"), "dst-1"))["startTime"] == start
    assert one(by_marker(desk.sb.records("tasks"), "dst-1"))["dueDate"] == due


@pytest.mark.parametrize(("policy", "tickets"), [("every-inbound", 3), ("never", 0)])
def test_ticket_policy_decides_tickets_for_repeat_callers(
    desk: Desk, tmp_path: Path, policy: str, tickets: int
) -> None:
    desk.setup(settings={"integration.tickets": policy})
    export = write_export(
        tmp_path / "calls.csv",
        [
            Call("p-1", "+380671120001", ago(30), sip="anna_sip"),
            Call("p-2", "+380671120001", ago(20), disposition="NO ANSWER"),
            Call("p-3", "+380671120001", ago(15), call_type="out", sip="anna_sip"),
            Call("p-4", "+380671120002", ago(10), sip="petro_sip"),
        ],
    )
    assert desk.sync(str(export)).code == 0
    assert len(desk.sb.records("tickets")) == tickets
    assert len(desk.sb.records("calls")) == 4
    assert len(desk.sb.records("contacts")) == 2
    if tickets:
        ticket = one(by_marker(desk.sb.records("tickets"), "p-2"))
        assert one(by_marker(desk.sb.records("tasks"), "p-2"))["ticketId"] == ticket["id"]


# -- R9: reruns and replays never send twice -------------------------------------------
def test_rerun_and_replay_after_success_send_no_creating_request(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup()
    export = write_export(
        tmp_path / "calls.csv",
        [
            Call("r-1", "+380671130001", ago(60 * 30), sip="anna_sip"),  # yesterday-ish
            Call("r-2", "+380671130002", ago(60), disposition="NO ANSWER"),
            Call("r-3", "+380671130001", ago(30), call_type="out", sip="olena_sip"),
        ],
    )
    assert desk.sync(str(export)).code == 0
    before = desk.sb.records("calls"), desk.creating()
    for args in ((str(export),), (str(export), "--replay", "3d"), ("--replay", "3d")):
        result = desk.sync(*args)
        assert result.code == 0, result
        assert result.json()["delivered"] == 0
    assert desk.creating() == before[1]
    assert desk.patches() == 0
    assert desk.sb.records("calls") == before[0]


def test_tokens_revoked_mid_run_exit_4_then_reactivate_and_replay_delivers_all_once(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup()
    calls = [
        Call(f"v-{i}", f"+38067114{i:04d}", ago(200 - i * 5), sip="anna_sip") for i in range(8)
    ]
    calls.append(
        Call("v-old", "+380671149999", ago(60 * 24 * 5), sip="anna_sip")
    )  # outside --replay 3d
    export = write_export(tmp_path / "calls.csv", calls)
    undo = revoke_after(desk.sb, 5)  # a contact, ticket, call for v-0, then v-1's contact...
    result = desk.sync(str(export))
    undo()
    assert result.code == 4, result
    data = result.json()
    assert data["pending"] > 0
    assert "activate" in (data["hint"] or "")
    assert len(desk.sb.records("calls")) < 9

    assert desk.activate().code == 0
    result = desk.sync("--replay", "3d")
    assert result.code == 0, result
    assert len(desk.sb.records("calls")) == 8  # the 5-day-old call is outside the window
    assert not by_marker(desk.sb.records("calls"), "v-old")
    assert desk.sync("--replay", "7d").code == 0
    for call in calls:
        assert len(by_marker(desk.sb.records("calls"), call.id)) == 1
        assert len(by_marker(desk.sb.records("tickets"), call.id)) == 1
        assert len(contacts_by_phone(desk.sb, call.client)) == 1
    assert totals(desk.sb) == {"contacts": 9, "tickets": 9, "calls": 9, "tasks": 0}
    assert desk.sync("--replay", "7d").json()["delivered"] == 0


@pytest.mark.parametrize("path", ["contacts", "tickets", "calls", "tasks"])
def test_crash_between_request_and_commit_then_rerun_creates_no_duplicate(
    desk: Desk, tmp_path: Path, path: str
) -> None:
    """The client is killed right after Zoho wrote the record, before the ledger knows its
    id; search lags by an hour, so only reconciliation through lists can find it."""
    desk.setup()
    desk.sb.set_limits(search_lag_seconds=3600)
    calls = [
        Call("k-1", "+380671150001", ago(40), disposition="NO ANSWER"),
        Call("k-2", "+380671150002", ago(30), sip="anna_sip"),
    ]
    export = write_export(tmp_path / "calls.csv", calls)
    proc: list[Any] = []
    undo = kill_after_write(desk.sb, f"/api/v1/{path}", lambda: proc[0].pid)
    proc.append(desk.popen("sync", "--json", str(export)))
    proc[0].communicate(timeout=60)
    undo()
    assert proc[0].returncode == -9
    before = totals(desk.sb)
    assert before[path] >= 1
    result = desk.sync(str(export))
    assert result.code == 0, result
    assert totals(desk.sb) == {"contacts": 2, "tickets": 2, "calls": 2, "tasks": 1}
    for call in calls:
        assert len(by_marker(desk.sb.records("calls"), call.id)) == 1
        assert len(contacts_by_phone(desk.sb, call.client)) == 1


# -- input problems, in-progress calls, changed content --------------------------------
def test_bad_rows_are_reported_with_file_and_line_the_rest_delivered_rerun_exits_0(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup()
    export = write_export(
        tmp_path / "calls.csv",
        [
            Call("b-1", "+380671160001", ago(30)),
            Call("b-2", "+38 (067) 12", ago(25)),
            Call("b-3", "+380671160003", ago(20), raw_date="yesterday at noon"),
            Call("b-4", "+380671160004", ago(10)),
        ],
    )
    result = desk.sync(str(export))
    assert result.code == 6, result
    data = result.json()
    assert (data["delivered"], data["quarantined"]) == (2, 2)
    assert f"{export}:3: caller" in data["bad_rows"][0]
    assert f"{export}:4: calldate" in data["bad_rows"][1]
    assert f"{export}:3" in result.stderr
    assert len(desk.sb.records("calls")) == 2
    rerun = desk.sync(str(export))
    assert rerun.code == 0, rerun
    assert (rerun.json()["quarantined"], rerun.json()["quarantined_before"]) == (0, 2)


def test_in_progress_call_is_delivered_once_when_completed_and_changes_are_patched(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup()
    when = ago(15)
    first = write_export(
        tmp_path / "a.csv", [Call("i-1", "+380671170001", when, disposition="IN PROGRESS")]
    )
    result = desk.sync(str(first))
    assert result.code == 0
    assert result.json()["waiting_in_progress"] == 1
    assert desk.creating() == 0

    done = Call("i-1", "+380671170001", when, sip="anna_sip", billsec=95)
    assert desk.sync(str(write_export(tmp_path / "b.csv", [done]))).code == 0
    assert desk.sync(str(first)).code == 0  # the stale IN PROGRESS row changes nothing
    call = one(by_marker(desk.sb.records("calls"), "i-1"))
    assert (call["status"], call["duration"]) == ("Completed", "95")
    creating = desk.creating()

    done.recording = "https://rec.example.com/i-1.mp3"
    result = desk.sync(str(write_export(tmp_path / "c.csv", [done])))
    assert result.code == 0, result
    assert result.json()["updated"] == 1
    assert desk.creating() == creating
    assert desk.sb.request_counts().get("PATCH /api/v1/calls/{id}") == 1
    call = one(by_marker(desk.sb.records("calls"), "i-1"))
    if keeps_call_descriptions(desk.sb):
        # a new profile writes Ukrainian: "Запис" is the recording's line
        assert "Запис: https://rec.example.com/i-1.mp3" in call["description"]
    else:
        assert call["description"] is None
    assert desk.sync(str(tmp_path / "c.csv")).json()["updated"] == 0


def test_a_second_concurrent_sync_exits_busy(desk: Desk, tmp_path: Path) -> None:
    desk.setup()
    export = write_export(
        tmp_path / "calls.csv", [Call(f"c-{i}", f"+38067118{i:04d}", ago(30)) for i in range(3)]
    )
    # The first run's first Desk request is held in the sandbox until the second run has
    # ended: the first run certainly holds the lock then, however slow the machine.
    started, release = threading.Event(), threading.Event()

    def hold(method: str, path: str, reply: object) -> None:
        started.set()
        release.wait(60)

    undo = wrap_desk(desk.sb, hold)
    first = desk.popen("sync", "--json", str(export))
    try:
        assert started.wait(30), "the first sync sent no request"
        second = desk.sync(str(export))
    finally:
        release.set()
    _out, err = first.communicate(timeout=60)
    undo()
    assert second.code == 7, second
    assert first.returncode == 0, err
    assert len(desk.sb.records("calls")) == 3


def test_dry_run_prints_each_record_and_the_total_and_writes_nothing(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup()
    export = write_export(
        tmp_path / "dry.csv",
        [
            Call("d-1", "+380671280001", ago(30), disposition="NO ANSWER"),
            Call("d-2", "+380671280001", ago(20), sip="anna_sip"),
        ],
    )
    state = Path(desk.env["RINGODESK_HOME"]) / "state" / "default"
    before = sorted(p.name for p in state.iterdir())
    result = desk.run("sync", "--dry-run", str(export))
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert any(
        "d-1" in line and "POST /contacts" in line and "POST /tasks" in line for line in lines
    )
    assert any("d-2" in line and "POST /calls" in line and "contacts" not in line for line in lines)
    assert "dry run: nothing sent, nothing written" in result.stdout
    assert sorted(p.name for p in state.iterdir()) == before  # no ledger, no lock
    assert desk.creating() == 0
    offline = desk.run("sync", "--dry-run", "--offline", "--json", str(export))
    assert offline.json()["planned"]["POST /calls"] == 2


def _state_snapshot(state: Path) -> dict[str, bytes]:
    """The state dir's files and contents. SQLite's shared-memory index (``-shm``), which a
    reader of a WAL database may create, is left out; a ``-wal`` must hold no frames."""
    files = {p.name: p.read_bytes() for p in sorted(state.iterdir()) if p.is_file()}
    files.pop("ledger.sqlite3-shm", None)
    if not files.pop("ledger.sqlite3-wal", b""):
        return files
    raise AssertionError("the ledger's write-ahead log holds frames")


def test_rows_without_an_id_and_unreadable_rows_are_reported_by_dry_runs_and_quarantined_once(
    desk: Desk, tmp_path: Path
) -> None:
    """Each run is its own process: a quarantine key must not depend on anything but the
    row (no per-process hash seed, no clock)."""
    desk.setup()
    export = write_export(
        tmp_path / "calls.csv",
        [
            Call("q-1", "+380671190001", ago(30)),
            Call("", "+380671190002", ago(25)),  # line 3: no Ringostat id
            Call("", "+380671190003", ago(24)),  # line 4: no id, the same reason
            # line 5: a value over the csv module's field-size limit (131,072 characters)
            Call("q-4", "+380671190004", ago(20), landing="https://x.example/?" + "a" * 140_000),
            Call("q-5", "+380671190005", ago(10)),
        ],
    )
    expected_bad = [
        f"{export}:3: uniqueid: the call has no Ringostat id",
        f"{export}:4: uniqueid: the call has no Ringostat id",
        f"{export}:5: landing: longer than the csv module's limit of 131072 characters",
    ]
    state = Path(desk.env["RINGODESK_HOME"]) / "state" / "default"
    before = _state_snapshot(state)

    dry = desk.run("sync", "--dry-run", "--json", str(export))
    assert dry.code == 6, dry
    assert dry.json()["bad_rows"] == expected_bad
    assert (dry.json()["quarantined"], dry.json()["planned"]["POST /calls"]) == (3, 2)
    assert _state_snapshot(state) == before  # no ledger, no lock, nothing
    assert desk.creating() == 0

    first = desk.sync(str(export))
    assert first.code == 6, first
    assert first.json()["bad_rows"] == expected_bad
    assert (first.json()["quarantined"], first.json()["delivered"]) == (3, 2)
    for line in expected_bad:
        assert f"quarantined: {line}" in first.stderr
    written = _state_snapshot(state)

    dry = desk.run("sync", "--dry-run", "--json", str(export))
    assert dry.code == 0, dry
    assert (dry.json()["quarantined"], dry.json()["quarantined_before"]) == (0, 3)
    assert _state_snapshot(state) == written

    again = desk.sync(str(export))
    assert again.code == 0, again
    assert (again.json()["quarantined"], again.json()["quarantined_before"]) == (0, 3)
    assert again.json()["already_delivered"] == 2
    assert len(desk.sb.records("calls")) == 2
