"""One engine: the same day of calls delivered by `ringodesk sync` into one sandbox and by
`ringodesk serve` (after-call webhooks) into another makes the same records, field by field
(ids aside), under the strict and the lenient readings of Zoho.

The day exercises what once worked in cron only: a routed call (department and senior
manager given by name and e-mail), business-hours deadlines, reuse-open, a recording
attached, and a missed call that later turns out answered (its ticket and activity follow
the new state, its call-back task is completed, never left open)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e import KYIV, SENIOR, Call, Desk, agent_id, ago, by_marker, write_export
from sandbox_fixture import desk_session
from serving import Server

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.webhooks import send, webhooks

CLIENT = "+380671110001"
SALES_NUMBER = "+380445551000"
KB = 1024
SETTINGS = {
    "integration.tickets": "reuse-open",
    "integration.deadline_in": "business-hours",
    "integration.language": "en",
    "recordings.attach": True,
}
ROUTE = (
    '\n[[routing]]\ndst = "+38 (044) 555-10-00"\ndepartment = "Sales"\n'
    'senior_manager = "iryna@sandbox.example"\n'
)
# Zoho's own values that differ between two portals whatever the product does.
VOLATILE = {"id", "createdTime", "modifiedTime", "webUrl", "ticketNumber", "contactId",
            "ticketId", "callId", "uploadedTime", "completedTime", "href"}  # fmt: skip


class Routed(Call):
    """A call to one of our numbers other than the main one."""

    def row(self) -> dict[str, str]:
        row = super().row()
        row["dst"] = SALES_NUMBER
        return row


def the_day(sb: Sandbox) -> list[Call]:
    def rec(rid: str) -> str:
        return str(sb.recordings.put({"uniqueid": rid, "size": 20 * KB})["recording"])

    return [
        # A repeat caller: the second call joins the first one's open ticket.
        Call("e-1", CLIENT, when=ago(300), sip="anna_sip", recording=rec("e-1")),
        Call("e-2", CLIENT, when=ago(280), sip="petro_sip", utm={"utm_source": "google"}),
        # Missed, later answered (see the second wave).
        Call("e-3", "+380671110002", when=ago(260), disposition="NO ANSWER"),
        # Routed: Sales and its senior manager; missed, so a task due in working time.
        Routed("e-4", "+380671110003", when=ago(240), disposition="NO ANSWER"),
        # Missed at night: a deadline in working time, never at 03:30.
        Call("e-5", "+380671110004", when=last_night(), disposition="NO ANSWER"),
        Call("e-6", "+380671110005", when=ago(200), call_type="out", sip="anna_sip"),
        Call("e-7", "+380671110006", when=ago(180), sip="nobody_sip"),
        # Missed; an agent takes its ticket before it turns out answered (second wave).
        Call("e-8", "+380671110007", when=ago(160), disposition="NO ANSWER"),
    ]


def last_night() -> datetime:
    """23:30 of the day before, Kyiv wall time (outside every working hour)."""
    return (datetime.now(KYIV) - timedelta(days=1)).replace(
        hour=23, minute=30, second=0, microsecond=0, tzinfo=None
    )


def turned_answered(calls: list[Call]) -> list[Call]:
    """The second wave: e-3 and e-8 turn out answered by Anna (a second after event, a
    later export with ANSWERED)."""
    return [
        Call(c.id, c.client, when=c.when, sip="anna_sip", billsec=95)
        for c in calls
        if c.id in ("e-3", "e-8")
    ]


def reassign(sb: Sandbox, rid: str, email: str) -> None:
    """An agent gives the call's ticket to someone (Zoho's own PATCH, as the web UI does)."""
    (ticket,) = by_marker(sb.records("tickets"), rid)
    answer = desk_session(sb).patch(
        f"{sb.url}/api/v1/tickets/{ticket['id']}",
        json={"assigneeId": agent_id(sb, email)},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def sandbox_for(reading: str) -> Sandbox:
    return start_sandbox(
        SandboxConfig(
            port=0,
            token_requests_per_10min=10_000,
            ringostat_timezone="Europe/Kyiv",
            readings=reading,
            seed=11,
        )
    )


@pytest.fixture(params=["strict", "lenient"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, Sandbox]]:
    one, two = sandbox_for(request.param), sandbox_for(request.param)
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


def profile(sb: Sandbox, env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:
    home.mkdir(exist_ok=True)
    env = {**env, "RINGODESK_HOME": str(home), "RINGODESK_RINGOSTAT_KEY": sb.cfg.ringostat_key}
    monkeypatch.setenv("RINGODESK_HOME", str(home))  # Desk.setup writes the profile here
    desk = Desk(sb, env, home)
    desk.setup(settings={**SETTINGS, "ringostat.api_url": sb.url})
    path = Paths.discover().config_file("default")
    path.write_text(path.read_text(encoding="utf-8") + ROUTE, encoding="utf-8")
    allowed = Settings.load("default", Paths.discover())
    assert allowed.get("integration.deadline_in") == "business-hours"
    return desk


def normalised(sb: Sandbox) -> dict[str, Any]:
    """Every record, keyed by what identifies it in both portals (the marker, the phone),
    without the values two portals assign on their own."""

    def clean(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in VOLATILE}

    def marker(record: dict[str, Any]) -> str:
        return str(record.get("subject", "")).rsplit("[rs:", 1)[-1].rstrip("]")

    contacts = {str(c["phone"]): clean(c) for c in sb.records("contacts") if c.get("phone")}
    phones = {str(c["id"]): str(c.get("phone")) for c in sb.records("contacts")}
    tickets = {str(t["id"]): marker(t) for t in sb.records("tickets")}
    out: dict[str, Any] = {"contacts": contacts}
    for kind in ("tickets", "calls", "tasks"):
        rows: dict[str, Any] = {}
        for record in sb.records(kind):
            item = clean(record)
            item["contact"] = phones.get(str(record.get("contactId")))
            item["ticket"] = tickets.get(str(record.get("ticketId")))
            rows[marker(record)] = item
        out[kind] = rows
    calls = {str(c["id"]): marker(c) for c in sb.records("calls")}
    out["attachments"] = sorted(
        (calls[str(a["callId"])], a["name"], a.get("size")) for a in sb.attachments.all()
    )
    # A recording's link names its own sandbox's port.
    return dict(json.loads(json.dumps(out).replace(sb.url, "http://ringostat.sandbox")))


def test_sync_and_serve_make_the_same_records(
    pair: tuple[Sandbox, Sandbox],
    subprocess_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cron_sb, live_sb = pair
    cron = profile(cron_sb, subprocess_env, tmp_path / "cron", monkeypatch)
    live = profile(live_sb, subprocess_env, tmp_path / "live", monkeypatch)
    # The same recordings in both Ringostats (a recording's URL names its own sandbox).
    day_cron, day_live = the_day(cron_sb), the_day(live_sb)
    second = turned_answered(day_cron)

    for name, calls in (("day", day_cron), ("later", second)):
        done = cron.sync(str(write_export(tmp_path / f"{name}.csv", calls)))
        assert done.code == 0, done
        if name == "day":
            reassign(cron_sb, "e-8", "petro@sandbox.example")

    server = Server(live)
    try:
        for calls in (day_live, turned_answered(day_live)):
            after = [hook for hook in webhooks(c.row() for c in calls) if hook.event == "after"]
            sent = send(after, server.hook_url(), rate=50, workers=1)
            assert sent.statuses == {200: len(after)}, sent.as_dict()
            assert server.drained()["queue"] == 0
            _wait_for_recordings(live_sb)
            if calls is day_live:
                reassign(live_sb, "e-8", "petro@sandbox.example")
    finally:
        code, err = server.stop()
    assert code == 0, err

    cron_records, live_records = normalised(cron_sb), normalised(live_sb)
    for kind in ("contacts", "tickets", "calls", "tasks", "attachments"):
        assert live_records[kind] == cron_records[kind], _difference(
            kind, live_records[kind], cron_records[kind]
        )

    # What the day must show (the same in both, as just compared).
    tickets, calls, tasks = (cron_records[k] for k in ("tickets", "calls", "tasks"))
    sales = next(str(d["id"]) for d in cron_sb.records("departments") if d["name"] == "Sales")
    iryna = agent_id(cron_sb, "iryna@sandbox.example")
    assert (tickets["e-4"]["departmentId"], tickets["e-4"]["assigneeId"]) == (sales, iryna)
    assert calls["e-2"]["ticket"] == "e-1"  # reuse-open: joined e-1's ticket
    assert tasks["e-3"]["status"] == "Completed"  # turned answered: the task is done
    assert calls["e-3"]["status"] == "Completed" and calls["e-3"]["duration"] == "95"
    anna = agent_id(cron_sb, "taras@sandbox.example")  # anna_sip is linked to Taras
    assert tickets["e-3"]["assigneeId"] == anna  # it followed the answered call
    assert tickets["e-3"]["subject"] == "Call from +380 67 111 0002 [rs:e-3]"  # no longer missed
    # An agent's reassignment stands; the rest of the ticket follows the call.
    petro = agent_id(cron_sb, "petro@sandbox.example")
    assert tickets["e-8"]["assigneeId"] == petro
    assert tickets["e-8"]["subject"] == "Call from +380 67 111 0007 [rs:e-8]"
    assert tasks["e-8"]["status"] == "Completed"
    # `log show` tells each update.
    for desk in (cron, live):
        story = desk.run("log", "show", "e-3", "--json")
        assert story.code == 0, story
        updated = {e["op"] for e in story.json()["events"] if e["kind"] == "updated"}
        assert updated == {"call", "ticket", "task"}, story.json()["events"]
    # Business hours (the sandbox's: Monday to Friday from 09:00 Kyiv, Friday's first slot
    # 09:00-13:00): 4 working hours after a call at 23:30 end at 13:00 of the next working
    # day, never 4 hours of the clock later.
    due = datetime.fromisoformat(tasks["e-5"]["dueDate"].replace("Z", "+00:00")).astimezone(KYIV)
    assert due.weekday() < 5 and due.date() > last_night().date()
    assert (due.hour, due.minute) == (13, 0), due
    assert cron_records["attachments"] == [["e-1", "rs-e-1.mp3", str(20 * KB)]]
    senior = agent_id(cron_sb, SENIOR)
    assert {tasks[k]["ownerId"] for k in ("e-5", "e-7")} == {senior}
    open_tasks = [k for k, t in tasks.items() if t.get("status") != "Completed"]
    assert "e-3" not in open_tasks


def _wait_for_recordings(sb: Sandbox, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not sb.attachments.all():
        assert time.monotonic() < deadline, "no recording was attached"
        time.sleep(0.1)


def _difference(kind: str, live: Any, cron: Any) -> str:
    if not (isinstance(live, dict) and isinstance(cron, dict)):
        return f"{kind}: live {live!r} != cron {cron!r}"
    lines = [kind]
    for key in sorted(set(live) | set(cron)):
        one, two = live.get(key), cron.get(key)
        if one == two:
            continue
        if not (isinstance(one, dict) and isinstance(two, dict)):
            lines.append(f"  {key}: live {one!r} != cron {two!r}")
            continue
        for field in sorted(set(one) | set(two)):
            if one.get(field) != two.get(field):
                lines.append(f"  {key}.{field}: live {one.get(field)!r} != cron {two.get(field)!r}")
    return "\n".join(lines)
