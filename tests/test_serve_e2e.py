"""`ringodesk serve` end to end: the installed command receives webhooks sent the way
Ringostat sends them (``sandbox/webhooks.py``) and delivers to the sandbox's Zoho Desk;
the same calls then read from a file and from the API create nothing more."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from e2e import SENIOR, Call, Desk, agent_id, ago, by_marker, contacts_by_phone, write_export
from sandbox_fixture import kyiv_sandbox  # noqa: F401
from serving import Server

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.webhooks import Webhook, send, webhooks


@pytest.fixture
def desk(sb: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:
    d = Desk(sb, subprocess_env, tmp_path)
    d.setup(settings={"ringostat.api_url": sb.url})
    return d


def day() -> list[Call]:
    """A small day: new and repeat callers, missed and answered, an unlinked answerer,
    an outbound call."""
    return [
        Call("wh-1", "+380671230001", when=ago(50), sip="anna_sip", utm={"utm_source": "g"}),
        Call("wh-2", "+380671230002", when=ago(45), disposition="NO ANSWER"),
        Call("wh-3", "+380671230001", when=ago(40), sip="petro_sip"),
        Call("wh-4", "+380671230003", when=ago(35), sip="nobody_sip"),
        Call("wh-5", "+380671230004", when=ago(30), call_type="out", sip="anna_sip"),
        Call("wh-6", "+380671230002", when=ago(25), disposition="BUSY"),
    ]


def stop_ok(server: Server) -> str:
    code, err = server.stop()
    assert code == 0, err
    return err


def test_a_day_of_webhooks_is_delivered_once_then_file_and_api_add_nothing(
    sb: Sandbox, desk: Desk
) -> None:
    calls = day()
    server = Server(desk)
    try:
        replay = send(webhooks(c.row() for c in calls), server.hook_url(), rate=200, workers=1)
        assert replay.statuses == {200: 2 * len(calls)}, replay.as_dict()
        assert server.drained()["queue"] == 0
        for call in calls:
            assert len(by_marker(sb.records("calls"), call.id)) == 1, call.id
        # R4: a ticket for each new inbound caller only; R5/R6: a task per missed call and
        # for the unlinked answerer; missed work is the senior manager's.
        tickets = sb.records("tickets")
        assert sorted(t["subject"].split("[rs:")[1][:-1] for t in tickets) == [
            "wh-1",
            "wh-2",
            "wh-4",
        ]
        senior = agent_id(sb, SENIOR)
        tasks = sb.records("tasks")
        assert sorted(t["subject"].split("[rs:")[1][:-1] for t in tasks) == ["wh-2", "wh-4", "wh-6"]
        assert all(t["ownerId"] == senior for t in tasks)
        answered = by_marker(sb.records("calls"), "wh-1")[0]
        assert answered["ownerId"] == agent_id(sb, "taras@sandbox.example")
        assert len(contacts_by_phone(sb, "+380671230001")) == 1
        creating = desk.creating()
    finally:
        err = stop_ok(server)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    per_hook = [line for line in lines if "event" in line]
    assert len(per_hook) == 2 * len(calls)
    assert {line["outcome"] for line in per_hook} <= {"waiting", "new"}
    assert server.key not in err
    # The same calls from an export and from calls/list: nothing new is created.
    export = write_export(desk.tmp / "day.csv", calls)
    again = desk.sync(str(export))
    assert again.code == 0, again
    sb.ringostat_add_calls([c.row() for c in calls])
    login = desk.tmp / "key.txt"
    login.write_text("sandbox-ringostat-key\n")
    assert desk.run("ringostat", "login", "--key-file", str(login)).code == 0
    assert desk.run("config", "set", "source.kind", "api").code == 0
    api = desk.sync("--replay", "3d")
    assert api.code == 0, api
    assert desk.creating() == creating
    for call in calls:
        assert len(by_marker(sb.records("calls"), call.id)) == 1, call.id


@pytest.mark.parametrize("sb", ["strict"], indirect=True)
def test_before_call_mode_and_refused_requests(sb: Sandbox, desk: Desk) -> None:
    """Before-call: the contact and a new caller's ticket (the senior manager's) exist before
    the after event, which adds exactly one call activity on that ticket. Refused requests
    get their 4xx, store nothing, and the server goes on answering."""
    assert desk.run("config", "set", "integration.create_records", "before-call").code == 0
    # The texts asserted below are the English set's (a new profile writes Ukrainian).
    assert desk.run("config", "set", "integration.language", "en").code == 0
    server = Server(desk)
    call = Call("bc-1", "+380671239001", when=ago(2), sip="anna_sip")
    before, after = webhooks([call.row()])
    try:
        assert _post(server, before).status_code == 200
        server.drained()
        contacts = contacts_by_phone(sb, "+380671239001")
        tickets = by_marker(sb.records("tickets"), "bc-1")
        senior = agent_id(sb, SENIOR)
        assert len(contacts) == 1 and len(tickets) == 1
        assert tickets[0]["assigneeId"] == senior
        assert by_marker(sb.records("calls"), "bc-1") == []
        _refused_requests(server, Call("rq-1", "+380671238001", when=ago(5)).row())
        assert by_marker(sb.records("calls"), "rq-1") == []
        assert _post(server, after, form=True).status_code == 200
        server.drained()
        activities = by_marker(sb.records("calls"), "bc-1")
        assert len(activities) == 1
        assert activities[0]["ticketId"] == tickets[0]["id"]
        assert len(by_marker(sb.records("tickets"), "bc-1")) == 1
        assert len(contacts_by_phone(sb, "+380671239001")) == 1
        # The ticket made while it rang gets the final values; it stays the senior manager's.
        deadline = time.monotonic() + 10
        while "ANSWERED" not in by_marker(sb.records("tickets"), "bc-1")[0]["description"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        final = by_marker(sb.records("tickets"), "bc-1")[0]
        assert final["subject"].startswith("Call from") and "ANSWERED" in final["description"]
        assert final["assigneeId"] == senior
    finally:
        stop_ok(server)


def _refused_requests(server: Server, good: dict[str, str]) -> None:
    cases = [
        (server.hook_url(key="wrong"), {"json": good}, 403),
        (f"{server.url}/ringostat/webhook?event=after", {"json": good}, 403),
        (server.hook_url(), {"data": b"x" * (65 * 1024)}, 413),
        (server.hook_url(), {"json": {**good, "uniqueid": ""}}, 422),
        (server.hook_url(), {"json": {**good, "calldate": "yesterday"}}, 422),
        (server.hook_url(), {"json": {**good, "billsec": {"n": 1}}}, 422),
        (server.hook_url(), {"data": "not json {"}, 422),
        (server.hook_url(event="during"), {"json": good}, 422),
    ]
    for url, body, status in cases:
        answer = requests.post(url, timeout=10, **body)  # type: ignore[arg-type]
        assert answer.status_code == status, (url, body, answer.text)
    assert server.drained()["queue"] == 0


def _post(server: Server, hook: Webhook, *, form: bool = False) -> requests.Response:
    url = server.hook_url(hook.event)
    if form:
        return requests.post(url, data=hook.body, timeout=10)
    return requests.post(url, json=hook.body, timeout=10)


def test_setup_rotate_makes_a_new_secret_and_the_old_url_is_refused(desk: Desk) -> None:
    first = Server(desk)
    stop_ok(first)
    again = desk.run("serve", "setup", "--public-url", "https://calls.example.com", "--json")
    assert again.code == 0, again
    assert f"key={first.key}" in again.json()["after"]  # without --rotate: the same secret
    rotated = desk.run(
        "serve", "setup", "--public-url", "https://calls.example.com", "--rotate", "--json"
    )
    assert rotated.code == 0, rotated
    assert f"key={first.key}" not in rotated.json()["after"]
    server = Server(desk)  # its own setup keeps the rotated secret
    try:
        assert server.key != first.key and f"key={server.key}" in rotated.json()["after"]
        good = Call("rot-1", "+380671237001", when=ago(3)).row()
        old = requests.post(server.hook_url(key=first.key), json=good, timeout=10)
        assert old.status_code == 403, old.text
        new = requests.post(server.hook_url(), json=good, timeout=10)
        assert new.status_code == 200, new.text
        server.drained()
        assert len(by_marker(desk.sb.records("calls"), "rot-1")) == 1
    finally:
        stop_ok(server)
