"""reuse-open without I/O (sync/open_tickets.py): the open ticket a call joins is the NEWEST
open one of the contact within the reuse window, whatever order Zoho lists them in; a Closed
ticket, one without an id or one older than the window is never joined; the window's edge is
inside it; what the ledger knows beats Zoho's modifiedTime; one look-up per contact and run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.rules.open_tickets import OpenTicket, OpenTickets

# Any moment works (nothing here reads the clock); taken from now so that nothing rots.
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = timedelta(hours=1)


def stamp(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ticket(tid: str | None, minutes_ago: int, status: str = "Open") -> dict[str, Any]:
    return {"id": tid, "statusType": status, "modifiedTime": stamp(minutes_ago),
            "createdTime": stamp(minutes_ago + 600), "cf": {"cf_utm": ""}}  # fmt: skip


class FakeDesk:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, params: Any = None, **_: Any) -> Any:
        assert method == "GET"
        self.asked.append((path, dict(params or {})))
        return {"data": self.rows}


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def find(ledger: Ledger, rows: list[dict[str, Any]], **kw: Any) -> tuple[str | None, FakeDesk]:
    desk = FakeDesk(rows)
    tickets = OpenTickets(ledger, desk, WINDOW)  # type: ignore[arg-type]
    found = tickets.find("c1", "d1", NOW, new_contact=kw.get("new_contact", False))
    return (found.ticket_id if found else None), desk


@pytest.mark.parametrize(
    ("rows", "joined"),
    [
        # newest open wins, in any listed order; Closed ones are never joined
        ([ticket("mid", 30), ticket("old", 50), ticket("new", 10)], "new"),
        ([ticket("new", 10), ticket("old", 50)], "new"),
        ([ticket("old", 50), ticket("new", 10), ticket("closed", 1, "Closed")], "new"),
        ([ticket(None, 1), ticket("old", 50)], "old"),  # a row without an id is skipped
        # the window's edge: 60 minutes ago is inside, 61 is not
        ([ticket("edge", 60)], "edge"),
        ([ticket("stale", 61)], None),
        ([ticket("closed", 1, "Closed")], None),
        ([], None),
    ],
)
def test_the_newest_open_ticket_within_the_window_is_joined(
    ledger: Ledger, rows: list[dict[str, Any]], joined: str | None
) -> None:
    found, desk = find(ledger, rows)
    assert found == joined
    assert desk.asked == [("/contacts/c1/tickets", {"departmentId": "d1", "limit": 100})]


def test_the_ledger_knows_a_ticket_s_last_call_better_than_zoho(ledger: Ledger) -> None:
    tickets = OpenTickets(ledger, FakeDesk([]), WINDOW)  # type: ignore[arg-type]
    tickets.remember("c1", "d1", OpenTicket("ours", NOW - timedelta(minutes=5), None))
    # Zoho's modifiedTime for "ours" is 3 hours old, "theirs" 20 minutes: ours is newer.
    found, _ = find(ledger, [ticket("theirs", 20), ticket("ours", 180)])
    assert found == "ours"


def test_one_look_up_per_contact_and_run_and_none_for_a_new_contact(ledger: Ledger) -> None:
    desk = FakeDesk([ticket("old", 40), ticket("new", 20)])
    tickets = OpenTickets(ledger, desk, WINDOW)  # type: ignore[arg-type]
    first = tickets.find("c1", "d1", NOW, new_contact=False)
    again = tickets.find("c1", "d1", NOW, new_contact=False)
    assert first is not None and again is not None
    assert (first.ticket_id, again.ticket_id, tickets.lookups) == ("new", "new", 1)
    assert tickets.find("c2", "d1", NOW, new_contact=True) is None
    assert tickets.lookups == 1 and len(desk.asked) == 1


def test_a_joining_call_fills_only_the_fields_the_ticket_lacks(ledger: Ledger) -> None:
    tickets = OpenTickets(ledger, None, WINDOW)
    cf = {"cf_a": "new a", "cf_b": "b", "cf_c": "", "cf_d": None}
    known = OpenTicket("t1", NOW - timedelta(minutes=30), frozenset({"cf_a"}))
    assert tickets.joined("c1", "d1", known, NOW, cf) == {"cf_b": "b"}  # never cf_a again
    unknown = OpenTicket("t1", NOW - timedelta(minutes=30), None)  # what it holds: unknown
    assert tickets.joined("c1", "d1", unknown, NOW, cf) == {}


def test_a_ticket_zoho_no_longer_lists_open_is_forgotten(ledger: Ledger) -> None:
    earlier = OpenTickets(ledger, FakeDesk([]), WINDOW)  # type: ignore[arg-type]
    earlier.remember("c1", "d1", OpenTicket("gone", NOW - timedelta(minutes=5), None))
    first = OpenTickets(ledger, FakeDesk([]), WINDOW)  # type: ignore[arg-type]
    assert first.find("c1", "d1", NOW, new_contact=False) is None  # Zoho: closed or deleted
    later = OpenTickets(ledger, FakeDesk([]), WINDOW)  # type: ignore[arg-type]
    assert later.find("c1", "d1", NOW, new_contact=True) is None  # the ledger forgot it too
