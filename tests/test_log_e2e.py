"""End to end: `ringodesk log`, `log show` and `retry` through the installed command
against the sandbox. Calls refused by Zoho (an employee linked to an agent Zoho does not
know) are listed as failed, exactly those the run reported, and `retry --failed` delivers
them once the link is fixed, with nothing created twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import Call, Desk, agent_id, ago, by_marker, write_export
from sandbox_fixture import both_readings, sandbox  # noqa: F401

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.sandbox import Sandbox

GHOST = "1892000000999999"  # an agent id Zoho Desk does not know


# Under every reading of Zoho the sandbox models (docs/zoho-readings.md).
pytestmark = both_readings


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    return Desk(sandbox, subprocess_env, tmp_path)


def _link(sip: str, agent: str) -> None:
    profile = Settings.load("default", Paths.discover())
    profile.set_table_entry("employees", sip, agent)
    profile.save()


def test_log_lists_what_each_call_became_and_retry_delivers_the_failed_ones(
    desk: Desk, tmp_path: Path
) -> None:
    sb = desk.sb
    desk.setup()
    _link("ghost_sip", GHOST)
    calls = [
        Call("l-1", "+380671230001", ago(300), sip="anna_sip"),
        Call("l-2", "+380671230002", ago(250), disposition="NO ANSWER"),
        Call("l-3", "+380671230003", ago(200), sip="ghost_sip"),
        Call("l-4", "+380671230001", ago(150), sip="ghost_sip"),
        Call("l-5", "+380671230005", ago(100), call_type="out", sip="anna_sip"),
    ]
    export = write_export(tmp_path / "calls.csv", calls)
    run = desk.sync(str(export))
    assert run.code == 6, run
    reported = {line.split(":")[0] for line in run.json()["failures"]}
    assert reported == {"l-3", "l-4"}

    listed = desk.run("log", "--json")
    assert listed.code == 0, listed
    entries = {e["ringostat_id"]: e for e in listed.json()}
    assert set(entries) == {c.id for c in calls}
    assert [e["ringostat_id"] for e in listed.json()] == ["l-5", "l-4", "l-3", "l-2", "l-1"]
    first = entries["l-1"]
    assert first["status"] == "delivered"
    assert (first["direction"], first["client_number"]) == ("inbound", "+380671230001")
    ticket = by_marker(sb.records("tickets"), "l-1")[0]
    # The webUrl the sandbox answered the create with (an opaque token after dv/), not one
    # built from the id.
    assert ticket["webUrl"].startswith("https://desk.zoho.com/support/sandboxtelecom/")
    assert first["zoho"]["ticket"] == {"id": ticket["id"], "url": ticket["webUrl"]}
    assert first["zoho"]["contact"]["id"] == ticket["contactId"]
    contact = next(c for c in sb.records("contacts") if c["id"] == ticket["contactId"])
    assert first["zoho"]["contact"]["url"] == contact["webUrl"]
    (activity,) = by_marker(sb.records("calls"), "l-1")
    assert first["zoho"]["call"]["url"] == activity["webUrl"]
    # activate wrote integration.language = "uk" for this new profile
    assert ticket["subject"] == "Дзвінок від +380 67 123 0001 [rs:l-1]"
    assert first["zoho"]["call"]["id"] == by_marker(sb.records("calls"), "l-1")[0]["id"]
    missed = entries["l-2"]["zoho"]
    (task,) = by_marker(sb.records("tasks"), "l-2")
    assert missed["tasks"] == [{"id": task["id"], "url": task["webUrl"]}]
    assert entries["l-3"]["status"] == "failed" and "ownerId" in entries["l-3"]["error"]

    failed = desk.run("log", "--status", "failed", "--json")
    assert {e["ringostat_id"] for e in failed.json()} == reported
    by_number = desk.run("log", "--number", "067 123 00 01", "--json")
    assert [e["ringostat_id"] for e in by_number.json()] == ["l-4", "l-1"]

    story = desk.run("log", "show", "l-3", "--json")
    assert story.code == 0, story
    kinds = [(e["kind"], e["op"]) for e in story.json()["events"]]
    assert kinds[:3] == [("read", None), ("intended", "contact"), ("failed", "contact")]
    assert "INVALID_DATA" in story.json()["events"][2]["detail"]
    assert kinds[-1] == ("state", None) and story.json()["events"][-1]["detail"].startswith(
        "failed"
    )
    text = desk.run("log", "show", "l-1")
    assert "done ticket " + ticket["id"] in text.stdout, text

    _link("ghost_sip", agent_id(sb, "iryna@sandbox.example"))
    before = {k: len(sb.records(k)) for k in ("contacts", "tickets", "calls", "tasks")}
    again = desk.run("retry", "--failed", "--json")
    assert again.code == 0, again
    assert again.json()["delivered"] == 2
    after = {k: len(sb.records(k)) for k in ("contacts", "tickets", "calls", "tasks")}
    # l-3: a new caller (contact, ticket, call); l-4: a known caller's call (no new ticket)
    assert after == {**before, "contacts": before["contacts"] + 1,
                     "tickets": before["tickets"] + 1, "calls": before["calls"] + 2}  # fmt: skip
    for call in calls:
        assert len(by_marker(sb.records("calls"), call.id)) == 1
    assert desk.run("log", "--status", "failed", "--json").json() == []
    assert desk.run("retry", "--failed").code == 0  # nothing left: nothing sent
    assert {k: len(sb.records(k)) for k in after} == after

    # named calls: unknown ones are refused, delivered ones have nothing to retry
    unknown = desk.run("retry", "nope-1")
    assert unknown.code == 2 and "nope-1" in unknown.stderr
    assert desk.run("retry").code == 2
    done = desk.run("retry", "l-1", "--json")
    assert done.code == 0, done
    assert done.json()["notices"] == ["l-1: delivered, nothing to retry"]
    assert desk.run("log", "show", "nope-2").code == 2
    assert {k: len(sb.records(k)) for k in after} == after
