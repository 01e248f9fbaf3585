"""End to end on the sandbox: the team rules. A repeat caller joins the open ticket
(reuse-open), a closed ticket makes the next call open a new one, a short call gets an
activity only, and each routed number lands in its department with its senior manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e import KYIV, SENIOR, Call, Desk, agent_id, ago, by_marker, write_export, zoho_utc
from sandbox_fixture import both_readings, desk_session
from sandbox_fixture import sandbox as sandbox

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.sandbox import Sandbox

CLIENT = "+380671110001"
SALES_NUMBER = "+380445551000"
KHARKIV_NUMBER = "+380575552000"


@dataclass
class RoutedCall(Call):
    ours: str = "+380443334455"

    def row(self) -> dict[str, str]:
        row = super().row()
        row["dst" if self.call_type != "out" else "caller"] = self.ours
        return row


# Under every reading of Zoho the sandbox models (docs/zoho-readings.md).
pytestmark = both_readings


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    return Desk(sandbox, subprocess_env, tmp_path)


def sync(desk: Desk, tmp: Path, name: str, *calls: Call) -> dict[str, Any]:
    done = desk.sync(str(write_export(tmp / f"{name}.csv", calls)))
    assert done.code == 0, done
    return dict(done.json())


def append_config(text: str) -> None:
    path = Paths.discover().config_file("default")
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def tickets_of(sb: Sandbox, call_ids: list[str]) -> set[str | None]:
    calls = sb.records("calls")
    return {one["ticketId"] for cid in call_ids for one in by_marker(calls, cid)}


def test_reuse_open_joins_the_open_ticket_and_opens_a_new_one_once_it_is_closed(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup(settings={"integration.tickets": "reuse-open"})
    sb = desk.sb
    sync(
        desk, tmp_path, "a", Call("r-1", CLIENT, when=ago(300)), Call("r-2", CLIENT, when=ago(240))
    )
    tickets = sb.records("tickets")
    assert len(tickets) == 1, tickets
    assert tickets_of(sb, ["r-1", "r-2"]) == {tickets[0]["id"]}  # one ticket, two calls
    key = "GET /api/v1/contacts/{id}/tickets"
    assert key not in sb.request_counts()  # the ledger knew: no look-up in Zoho

    # A third call in a later run joins the same (still open) ticket, after asking Zoho.
    sync(desk, tmp_path, "b", Call("r-3", CLIENT, when=ago(200)))
    assert len(sb.records("tickets")) == 1
    assert tickets_of(sb, ["r-3"]) == {tickets[0]["id"]}
    before = sb.request_counts()[key]
    assert before == 1  # one look-up: the contact's tickets

    # The agent closes it: the next call opens a new ticket, and the call after joins that.
    session = desk_session(sb)
    answer = session.patch(f"{sb.url}/api/v1/tickets/{tickets[0]['id']}",
                           json={"status": "Closed"}, timeout=5)  # fmt: skip
    assert answer.status_code == 200, answer.text
    sync(desk, tmp_path, "c", Call("r-4", CLIENT, when=ago(100)), Call("r-5", CLIENT, when=ago(90)))
    assert sb.request_counts()[key] - before == 1  # once per contact and run
    tickets = sb.records("tickets")
    assert len(tickets) == 2
    new = next(t for t in tickets if t["status"] != "Closed")
    assert by_marker([new], "r-4") and tickets_of(sb, ["r-4", "r-5"]) == {new["id"]}


def test_reuse_open_fills_empty_fields_only_within_the_window(desk: Desk, tmp_path: Path) -> None:
    desk.setup(settings={"integration.tickets": "reuse-open", "integration.reuse_window": "1h"})
    sb = desk.sb
    sync(desk, tmp_path, "a", Call("w-1", CLIENT, when=ago(400)),
         Call("w-2", CLIENT, when=ago(380), utm={"utm_source": "google"}))  # fmt: skip
    # w-2 joined w-1's ticket and filled its empty utm_source; w-3 is beyond the 1h window.
    ticket = next(iter(sb.records("tickets")))
    assert tickets_of(sb, ["w-1", "w-2"]) == {ticket["id"]}
    assert "google" in ticket["cf"].values()
    sync(desk, tmp_path, "b", Call("w-3", CLIENT, when=ago(100), utm={"utm_source": "bing"}),
         Call("w-4", CLIENT, when=ago(90), utm={"utm_source": "yahoo"}))  # fmt: skip
    tickets = sb.records("tickets")
    assert len(tickets) == 2
    first = next(t for t in tickets if t["id"] == ticket["id"])
    second = next(t for t in tickets if t["id"] != ticket["id"])
    assert "bing" not in first["cf"].values()  # never overwritten
    assert tickets_of(sb, ["w-3", "w-4"]) == {second["id"]}
    assert "bing" in second["cf"].values() and "yahoo" not in second["cf"].values()


def test_rules_per_call_type_and_routes_to_departments_and_senior_managers(
    desk: Desk, tmp_path: Path
) -> None:
    desk.setup(settings={"integration.tickets": "every-inbound", "rules.min_talk_seconds": "10"})
    sb = desk.sb
    support, sales = (str(d["id"]) for d in sb.records("departments"))
    append_config(
        '[rules.callback]\nmissed_task_for = "inbound"\nticket_for_missed = false\n'
        "[rules.in]\nskip_voicemail = true\n\n"
        '[[routing]]\ndst = "+38 (044) 555-10-00"\ndepartment = "Sales"\n'
        'senior_manager = "iryna@sandbox.example"\n\n'
        f'[[routing]]\npool = "Kharkiv"\ndepartment = "{support}"\n'
        'senior_manager = "petro@sandbox.example"\n'
    )
    sync(
        desk, tmp_path, "a",
        Call("s-short", "+380671110002", billsec=4),
        Call("s-long", "+380671110003", billsec=40),
        Call("s-vm", "+380671110004", disposition="VOICEMAIL"),
        Call("s-cb", "+380671110005", call_type="callback", disposition="NO ANSWER"),
        Call("s-miss", "+380671110006", disposition="NO ANSWER"),
        RoutedCall("t-sales", "+380671110011", disposition="NO ANSWER", ours=SALES_NUMBER),
    )  # fmt: skip
    tickets, tasks, calls = (sb.records(k) for k in ("tickets", "tasks", "calls"))
    ids = {"s-short", "s-long", "s-vm", "s-cb", "s-miss", "t-sales"}
    assert {cid for cid in ids if by_marker(calls, cid)} == ids  # every call has its activity
    assert not by_marker(tickets, "s-short") and by_marker(tickets, "s-long")  # short: no ticket
    assert not by_marker(tickets, "s-vm") and not by_marker(tasks, "s-vm")  # voicemail skipped
    assert not by_marker(tickets, "s-cb") and not by_marker(tasks, "s-cb")  # callback rules
    # A routed number: its department and senior manager; any other: the profile's own.
    expect = {
        "t-sales": (sales, agent_id(sb, "iryna@sandbox.example")),
        "s-miss": (support, agent_id(sb, SENIOR)),
    }
    for cid, (dep, owner) in expect.items():
        (ticket,) = by_marker(tickets, cid)
        (task,) = by_marker(tasks, cid)
        assert (ticket["departmentId"], ticket["assigneeId"]) == (dep, owner), cid
        assert (task["departmentId"], task["ownerId"]) == (dep, owner), cid
    check = desk.run("routing", "check", "--json")
    assert check.code == 0, check
    assert [r["ok"] for r in check.json()["routes"]] == [True, True]
    append_config('[[routing]]\npool = "Lviv"\ndepartment = "Marketing"\n')
    check = desk.run("routing", "check")
    assert check.code == 3, check
    assert "routing[3].department: no enabled department 'Marketing'" in check.stdout + check.stderr


# The sandbox's seeded set (sandbox/business_hours.py), copied by hand: Monday-Thursday
# 09:00-18:00 and Friday 09:00-13:00 + 14:00-18:00 in Kyiv; holidays 01-01, 08-24, 12-25.
SEED_HOLIDAYS = {(1, 1), (8, 24), (12, 25)}
# (call, day after the anchor Monday, Kyiv wall time) -> (day after the anchor, due wall time),
# worked out on paper for a 4-hour deadline.
BUSINESS_HOURS_TABLE = [
    ("b-1", 0, "14:00", 0, "18:00"),  # ends exactly at closing: due at closing, same day
    ("b-2", 0, "17:00", 1, "12:00"),  # 1h Monday, 3h Tuesday
    ("b-3", 4, "12:00", 4, "17:00"),  # Friday: 1h before lunch, 3h after
    ("b-4", 4, "16:00", 7, "11:00"),  # 2h Friday, the weekend off, 2h Monday
    ("b-5", 5, "11:00", 7, "13:00"),  # Saturday: not working, so Monday 09:00 + 4h
]


def anchor_monday(today: date) -> date:
    """A Monday at least two weeks before ``today`` whose eight days (to the next Monday)
    hold no seeded holiday: derived from the clock, so the test never rots."""
    monday = today - timedelta(days=today.weekday() + 14)
    while any(((d := monday + timedelta(days=n)).month, d.day) in SEED_HOLIDAYS for n in range(8)):
        monday -= timedelta(days=7)
    return monday


def test_business_hours_deadline_from_zoho_cached_for_the_day(desk: Desk, tmp_path: Path) -> None:
    desk.setup(settings={"integration.deadline_in": "business-hours"})
    sb = desk.sb
    monday = anchor_monday(datetime.now(KYIV).date())

    def wall(days: int, hhmm: str) -> datetime:
        return datetime.combine(monday + timedelta(days=days), time.fromisoformat(hhmm))

    calls = {
        cid: Call(cid, f"+38067111{n:04d}", disposition="NO ANSWER", when=wall(day, at))
        for n, (cid, day, at, _, _) in enumerate(BUSINESS_HOURS_TABLE)
    }
    ids = list(calls)
    sync(desk, tmp_path, "a", *(calls[c] for c in ids[:3]))
    sync(desk, tmp_path, "b", *(calls[c] for c in ids[3:]))
    for cid, _, _, due_day, due_at in BUSINESS_HOURS_TABLE:
        (task,) = by_marker(sb.records("tasks"), cid)
        expected = wall(due_day, due_at).replace(tzinfo=KYIV)  # zoneinfo: Kyiv's UTC offset
        assert task["dueDate"] == zoho_utc(expected), cid
    counts = sb.request_counts()
    assert counts["GET /api/v1/businessHours/{id}"] == 1  # the second run used the day's copy
    assert counts["GET /api/v1/holidayList/{id}"] == 1
