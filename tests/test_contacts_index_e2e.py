"""End to end: the installed `ringodesk` finds existing Zoho contacts through its local
contact index, however their numbers were typed, under the strict and the lenient reading
of Zoho's search; `contacts duplicates --merge`; an index build killed half-way resumes."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from e2e import RINGODESK, Call, Desk, ago, by_marker, wrap_desk, write_export
from sandbox_fixture import people_sandbox, sandbox  # noqa: F401

from ringodesk_cli.ringostat.phones import to_e164
from ringodesk_cli.sandbox import Sandbox
from test_activate_e2e import run_on_terminal


@pytest.fixture
def desk(people_sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    return Desk(people_sandbox, subprocess_env, tmp_path)


def contact_id(sb: Sandbox, last_name: str) -> str:
    return next(str(c["id"]) for c in sb.records("contacts") if c["lastName"] == last_name)


def owners(sb: Sandbox, e164: str) -> list[dict[str, Any]]:
    """Zoho contacts whose phone or mobile is ``e164`` once normalised."""

    def norm(raw: Any) -> str | None:
        try:
            return to_e164(str(raw), "UA") if raw else None
        except ValueError:
            return None

    return [c for c in sb.records("contacts") if e164 in (norm(c["phone"]), norm(c["mobile"]))]


def test_contacts_typed_by_people_get_their_calls_under_either_reading(
    desk: Desk, tmp_path: Path
) -> None:
    """Search lags an hour (longer than the gap between the two runs): a phone typed with
    spaces and brackets, a mobile typed nationally with dashes, and a contact an agent
    typed between the runs in yet another format each get their calls; no new contact."""
    sb = desk.sb
    desk.setup()
    sb.set_limits(search_lag_seconds=3600)
    before = len(sb.records("contacts"))
    first = [
        Call("p-1", "0442223344", ago(50), sip="anna_sip"),  # "+380 (44) 222-33-44"
        Call("p-2", "+380671112233", ago(40), disposition="NO ANSWER"),  # "067-111-22-33"
    ]
    result = desk.sync(str(write_export(tmp_path / "one.csv", first)))
    assert result.code == 0, result
    assert "GET /contacts/search" not in result.json()["requests"]
    typed = sb.add_contact(firstName="Marta", lastName="Typed", phone="+38 093 555-12-34")
    second = [Call("p-3", "380935551234", ago(10), sip="anna_sip")]
    result = desk.sync(str(write_export(tmp_path / "two.csv", second)))
    assert result.code == 0, result
    expected = {"p-1": "Hnatiuk", "p-2": "Savchenko", "p-3": "Typed"}
    for rid, last in expected.items():
        call = by_marker(sb.records("calls"), rid)
        assert [c["contactId"] for c in call] == [contact_id(sb, last)], rid
    assert contact_id(sb, "Typed") == str(typed["id"])
    assert len(sb.records("contacts")) == before + 1  # only the agent's own
    assert sb.request_counts().get("POST /api/v1/contacts", 0) == 0
    for number in ("+380442223344", "+380671112233", "+380935551234"):
        assert len(owners(sb, number)) == 1, number
    preview = [Call("p-4", "+380507778899", ago(5), sip="anna_sip")]  # "050 777 88 99"
    dry = desk.sync("--dry-run", str(write_export(tmp_path / "three.csv", preview)))
    assert dry.code == 0, dry
    assert "POST /contacts" not in dry.json()["planned"]
    assert "GET /contacts/search" not in dry.json()["requests"]
    status = desk.run("contacts", "status", "--json")
    assert status.code == 0, status
    data = status.json()
    assert data["mode"] == "index"
    assert data["contacts"] == before + 1
    assert data["contacts_without_number"] == 0


def test_duplicates_merge_into_the_oldest_and_leave_the_switchboard_alone(desk: Desk) -> None:
    sb = desk.sb
    desk.setup()
    listed = desk.run("contacts", "duplicates", "--json")
    assert listed.code == 0, listed
    groups = {g["number"]: g for g in listed.json()["groups"]}
    assert sorted(groups) == ["+380322456789", "+380445000000", "+380634445566"]
    assert groups["+380445000000"]["switchboard"] is True
    assert [len(groups[n]["contacts"]) for n in sorted(groups)] == [2, 6, 3]
    assert all(c["url"] for g in groups.values() for c in g["contacts"])
    assert listed.json()["merged"] == []
    assert len(owners(sb, "+380634445566")) == 3  # dry by default
    oldest = {n: groups[n]["contacts"][0]["id"] for n in groups}
    merged = desk.run("contacts", "duplicates", "--merge", "--yes", "--json")
    assert merged.code == 0, merged
    outcomes = {m["number"]: m for m in merged.json()["merged"]}
    assert sorted(outcomes) == ["+380322456789", "+380634445566"]
    for number in outcomes:
        assert [str(c["id"]) for c in owners(sb, number)] == [oldest[number]]
        assert outcomes[number]["error"] is None
    assert len(owners(sb, "+380445000000")) == 6
    again = desk.run("contacts", "duplicates", "--json")
    assert [g["number"] for g in again.json()["groups"]] == ["+380445000000"]


def test_merge_without_yes_and_without_a_terminal_is_refused(desk: Desk) -> None:
    desk.setup()
    refused = desk.run("contacts", "duplicates", "--merge")
    assert refused.code == 2, refused
    assert "--yes" in refused.stderr
    assert len(owners(desk.sb, "+380634445566")) == 3


@pytest.mark.parametrize(("answer", "merged"), [("n", False), ("", False), ("y", True)])
def test_merge_on_a_terminal_asks_and_only_yes_merges(
    desk: Desk, answer: str, merged: bool
) -> None:
    desk.setup()
    env = desk.env | {"TERM": "dumb", "COLUMNS": "200"}
    args = [str(RINGODESK), "contacts", "duplicates", "--merge"]
    code, terminal = run_on_terminal(args, env, {"into its oldest contact?": answer})
    assert code == 0, terminal
    assert "+380634445566" in terminal  # the groups were shown before the question
    # Enter takes the default, "no": a merge cannot be undone in Zoho.
    assert "[y/N]" in terminal
    expected = 1 if merged else 3
    assert len(owners(desk.sb, "+380634445566")) == expected, terminal
    assert len(owners(desk.sb, "+380445000000")) == 6  # the switchboard: never
    assert ("merged" in terminal.split("oldest contact?")[-1]) is merged


@pytest.fixture
def big_desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    return Desk(sandbox, subprocess_env, tmp_path)


def test_an_index_build_killed_half_way_resumes_and_duplicates_nothing(
    big_desk: Desk, tmp_path: Path
) -> None:
    desk = big_desk
    sb = desk.sb
    desk.setup()
    for n in range(450):  # five pages of 99 (and a short one)
        sb.add_contact(lastName=f"Client {n}", phone=f"+38 (067) 8{n:02d}-00-{n % 100:02d}"[:20])
    total = len(sb.records("contacts"))
    pages: list[str] = []
    proc_box: list[Any] = []
    killed = threading.Event()

    def kill_on_third_page(method: str, path: str, reply: Any) -> None:
        if method == "GET" and path == "/api/v1/contacts":
            pages.append(path)
            if len(pages) == 3 and not killed.is_set():
                killed.set()
                os.kill(proc_box[0].pid, signal.SIGKILL)

    undo = wrap_desk(sb, kill_on_third_page)
    proc = desk.popen("contacts", "index")
    proc_box.append(proc)
    proc.wait(timeout=60)
    undo()
    assert killed.is_set() and proc.returncode == -signal.SIGKILL
    half = desk.run("contacts", "status", "--json").json()
    assert half["build_interrupted"] is True
    assert 0 < half["contacts"] < total
    before = sb.request_counts().get("GET /api/v1/contacts", 0)
    last = sb.records("contacts")[-1]
    call = Call("k-1", str(last["phone"]), ago(5), sip="anna_sip")
    result = desk.sync(str(write_export(tmp_path / "k.csv", [call])))
    assert result.code == 0, result
    listed = sb.request_counts().get("GET /api/v1/contacts", 0) - before
    assert listed < 5  # the build resumed: fewer pages than a full build's five
    assert [c["contactId"] for c in by_marker(sb.records("calls"), "k-1")] == [str(last["id"])]
    assert len(sb.records("contacts")) == total
    after = desk.run("contacts", "status", "--json").json()
    assert after["contacts"] == total
    assert after["build_interrupted"] is False


def test_a_contact_merged_away_in_zoho_is_looked_up_again_not_a_failed_call(
    sandbox: Sandbox,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The ledger links a number to a contact that agents then merged into another: the
    next call's create is refused naming ``contactId``; the number is looked up again in the
    refreshed index and the call goes to the surviving contact."""
    from e2e import Harness
    from sandbox_fixture import desk_session

    from ringodesk_cli.errors import ExitCode

    harness = Harness(sandbox, tmp_path)
    first = harness.sync([Call("g-1", "+380671400001", ago(30), sip="anna_sip")])
    assert first.exit_code == ExitCode.OK, first
    ours = str(sandbox.records("contacts")[0]["id"])
    session = desk_session(sandbox)
    other = session.post(
        f"{sandbox.url}/api/v1/contacts",
        json={"lastName": "Typed Again", "phone": "067 140 00 01"},
        timeout=5,
    ).json()["id"]
    merged = session.post(
        f"{sandbox.url}/api/v1/contacts/{other}/merge", json={"ids": [other, ours]}, timeout=5
    )
    assert merged.ok, merged.text
    second = harness.sync([Call("g-2", "+380671400001", ago(10), sip="anna_sip")])
    assert second.exit_code == ExitCode.OK, second
    assert second.failed == 0
    assert [c["contactId"] for c in by_marker(sandbox.records("calls"), "g-2")] == [str(other)]
    assert [str(c["id"]) for c in sandbox.records("contacts")] == [str(other)]
