"""The history read by `ringodesk log`: statuses, filters, links, the events of a call, and
the calls `retry` takes -- over a ledger written through its own API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ringodesk_cli.errors import UsageError
from ringodesk_cli.ledger.history import (
    LogQuery,
    WebLinks,
    call_story,
    list_calls,
    retry_rows,
)
from ringodesk_cli.ledger.store import CallState, Ledger, OpKind

LINKS = WebLinks("https://desk.zoho.eu", "acme")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def ledger(state: Path) -> Ledger:
    return Ledger(state / "ledger.sqlite3")


def add(
    ledger: Ledger, rid: str, day: int, state: CallState, number: str = "+380671234567"
) -> None:
    record = {
        "direction": "inbound",
        "disposition": "ANSWERED",
        "employee": ["Anna", None, "anna_sip"],
    }
    ledger.upsert_call(
        ringostat_id=rid, started_at=f"2026-12-{day:02d}T10:00:00+00:00", client_number=number,
        content_hash="h-" + rid, state=state, record=record, source="calls.csv", line=day,
    )  # fmt: skip


def ids(entries: list) -> list[str | None]:  # type: ignore[type-arg]
    return [e.ringostat_id for e in entries]


def test_statuses_are_the_ledger_states_in_plain_words_newest_first(
    ledger: Ledger, state: Path
) -> None:
    add(ledger, "a", 1, CallState.DELIVERED)
    add(ledger, "b", 2, CallState.PENDING)
    add(ledger, "c", 3, CallState.CHANGED)
    add(ledger, "d", 4, CallState.FAILED)
    add(ledger, "e", 5, CallState.WAITING)
    ledger.quarantine("k1", "calls.csv", 9, "q-1", "calldate is not a date")
    entries = list_calls(state, LogQuery(since="2026-12-01T00:00:00+00:00"), LINKS)
    by_id = {e.ringostat_id: e.status for e in entries}
    assert by_id == {"a": "delivered", "b": "pending", "c": "pending", "d": "failed",
                     "e": "in-progress", "q-1": "quarantined"}  # fmt: skip
    calls = [e for e in entries if e.status != "quarantined"]
    assert ids(calls) == ["e", "d", "c", "b", "a"]
    assert calls[-1].employee == "Anna / anna_sip" and calls[-1].outcome == "ANSWERED"


def test_filters_by_time_number_and_status_and_limit(ledger: Ledger, state: Path) -> None:
    add(ledger, "a", 1, CallState.FAILED)
    add(ledger, "b", 2, CallState.FAILED, number="+380501112233")
    add(ledger, "c", 3, CallState.DELIVERED)
    add(ledger, "d", 4, CallState.FAILED)
    since2 = "2026-12-02T00:00:00+00:00"
    assert ids(list_calls(state, LogQuery(since=since2, status="failed"), LINKS)) == ["d", "b"]
    assert ids(list_calls(state, LogQuery(number="+380501112233"), LINKS)) == ["b"]
    assert ids(list_calls(state, LogQuery(status="failed", limit=2), LINKS)) == ["d", "b"]
    assert list_calls(state, LogQuery(status="quarantined"), LINKS) == []
    with pytest.raises(UsageError):
        LogQuery(status="lost")


def test_zoho_records_with_links_to_the_web_ui(ledger: Ledger, state: Path) -> None:
    add(ledger, "a", 1, CallState.DELIVERED)
    ledger.intend("a", OpKind.CONTACT)
    ledger.done("a", OpKind.CONTACT, "11")
    ledger.done("a", OpKind.TICKET, "22")
    ledger.done("a", OpKind.CALL, "33")
    ledger.done("a", OpKind.TASK, "44")
    ledger.intend("b", OpKind.CALL)  # intended only: nothing known in Zoho
    (entry,) = list_calls(state, LogQuery(), LINKS)
    base = "https://desk.zoho.eu/support/acme/ShowHomePage.do#"
    assert entry.as_dict()["zoho"] == {
        "contact": {"id": "11", "url": base + "Contacts/dv/11"},
        "ticket": {"id": "22", "url": base + "Cases/dv/22"},
        "call": {"id": "33", "url": base + "Calls/dv/33"},
        "tasks": [{"id": "44", "url": base + "Tasks/dv/44"}],
    }
    (no_portal,) = list_calls(state, LogQuery(), WebLinks("https://desk.zoho.eu", None))
    assert no_portal.zoho["call"] == {"id": "33", "url": None}


def test_the_links_follow_the_region_unless_a_desk_url_is_set() -> None:
    class FakeSettings(dict):  # type: ignore[type-arg]
        pass

    eu = WebLinks.of(FakeSettings({"zoho.region": "eu", "zoho.portal": "acme"}))
    assert eu == WebLinks("https://desk.zoho.eu", "acme")
    own = WebLinks.of(FakeSettings({"zoho.desk_url": "http://127.0.0.1:9/", "zoho.portal": "p"}))
    assert own.url("ticket", "5") == "http://127.0.0.1:9/support/p/ShowHomePage.do#Cases/dv/5"


def test_a_story_tells_each_step_in_order(ledger: Ledger, state: Path) -> None:
    add(ledger, "a", 1, CallState.PENDING)
    ledger.intend("a", OpKind.CONTACT)
    ledger.done("a", OpKind.CONTACT, "11", reconciled=True)
    ledger.intend("a", OpKind.CALL)
    ledger.note_failure("a", OpKind.CALL, "INVALID_DATA: POST /calls: nope")
    ledger.set_call_state("a", CallState.FAILED, error="INVALID_DATA: POST /calls: nope")
    story = call_story(state, "a", LINKS)
    assert [(e.kind, e.op, e.zoho_id) for e in story.events] == [
        ("read", None, None),
        ("intended", "contact", None),
        ("reconciled", "contact", "11"),
        ("intended", "call", None),
        ("failed", "call", None),
        ("state", None, None),
    ]
    assert story.events[-1].detail == "failed: INVALID_DATA: POST /calls: nope"
    assert (story.source, story.line, story.entry.status) == ("calls.csv", 1, "failed")
    with pytest.raises(UsageError, match="no call 'zz'"):
        call_story(state, "zz", LINKS)


def test_a_ledger_from_before_the_history_reads_and_gets_its_indexes(state: Path) -> None:
    old = Ledger(state / "ledger.sqlite3")
    add(old, "a", 1, CallState.DELIVERED)
    old._db.execute("DROP TABLE events")
    old._db.execute("DROP INDEX calls_started")
    old._db.execute("PRAGMA user_version = 0")  # as a ledger before ledger/schema.py's numbers
    old._db.commit()
    old.close()
    assert call_story(state, "a", LINKS).events == []
    Ledger(state / "ledger.sqlite3").close()
    db = sqlite3.connect(state / "ledger.sqlite3")
    plan = " ".join(
        str(r) for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM calls WHERE started_at >= '2026' "
            "ORDER BY started_at DESC"
        )
    )  # fmt: skip
    assert "calls_started" in plan


def test_retry_takes_named_and_failed_calls_and_notes_the_rest(ledger: Ledger) -> None:
    add(ledger, "a", 1, CallState.FAILED)
    add(ledger, "b", 2, CallState.DELIVERED)
    add(ledger, "c", 3, CallState.PENDING)
    add(ledger, "d", 4, CallState.FAILED)
    rows, notes = retry_rows(ledger, ["c", "b"], failed=True)
    assert sorted(r.ringostat_id for r in rows) == ["a", "c", "d"]
    assert notes == ["b: delivered, nothing to retry"]
    rows, notes = retry_rows(ledger, ["c"], failed=False)
    assert [r.ringostat_id for r in rows] == ["c"] and notes == []
    with pytest.raises(UsageError, match="no call 'x'"):
        retry_rows(ledger, ["x"], failed=False)


def test_no_ledger_yet_is_an_empty_log(state: Path) -> None:
    assert list_calls(state, LogQuery(), LINKS) == []
