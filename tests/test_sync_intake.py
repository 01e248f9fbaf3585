"""What a read record does to the ledger (shared by the live run and the dry run), the
ledger's batched and deferred commits, and the last-sync record `doctor` reads."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringodesk_cli import doctor
from ringodesk_cli.delivery.intake import triage
from ringodesk_cli.delivery.summary import LastSync, Summary
from ringodesk_cli.ledger.store import CallRow, CallState, Ledger, OpKind, OpRecord, OpState
from ringodesk_cli.ringostat.records import Outcome
from test_sync_planner import record


def row(state: CallState, delivered_hash: str | None = None) -> CallRow:
    return CallRow("ua-1", "2024-05-14T06:00:00+00:00", "+380671234567", "h", delivered_hash,
                   state, {}, None, 1)  # fmt: skip


@pytest.mark.parametrize(
    ("known", "digest", "store", "send", "changed", "counter"),
    [
        (None, "h", CallState.PENDING, True, False, "new"),
        (row(CallState.DELIVERED, "h"), "h", None, False, False, "already_delivered"),
        (row(CallState.DELIVERED, "h"), "h2", CallState.CHANGED, True, True, ""),
        (row(CallState.PENDING), "h", CallState.PENDING, True, False, ""),
        (row(CallState.FAILED), "h", CallState.FAILED, True, False, ""),
        (row(CallState.CHANGED, "h0"), "h", CallState.CHANGED, True, True, ""),
        (row(CallState.WAITING), "h", CallState.PENDING, True, False, "new"),
    ],
)
def test_triage_of_a_completed_call(
    known: CallRow | None,
    digest: str,
    store: CallState | None,
    send: bool,
    changed: bool,
    counter: str,
) -> None:
    verdict = triage(record(), known, digest)
    assert (verdict.store, verdict.send, verdict.changed, verdict.counter) == (
        store, send, changed, counter,
    )  # fmt: skip
    assert verdict.undelivered == (known is not None and known.state is not CallState.DELIVERED)


def test_a_call_in_progress_waits_and_is_never_sent() -> None:
    in_progress = replace(record(), outcome=Outcome.IN_PROGRESS)
    first = triage(in_progress, None, "h")
    assert (first.store, first.send, first.counter) == (CallState.WAITING, False, "waiting")
    # Once delivered (a completed copy was read before), an in-progress copy changes nothing.
    later = triage(in_progress, row(CallState.DELIVERED, "h"), "h")
    assert (later.store, later.send) == (None, False)


def _other_connection(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def test_every_write_is_durable_at_once_and_no_transaction_stays_open(tmp_path: Path) -> None:
    """No write transaction stays open after a write (across the request that follows, or
    while idle): another process sees each outcome at once and can write right away."""
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    ledger.intend("ua-1", OpKind.CONTACT)
    ledger.done("ua-1", OpKind.CONTACT, "9")
    ledger.remember_contact("+380671234567", "9")
    ledger.set_call_state("ua-1", CallState.PENDING)
    other = _other_connection(path)
    assert other.execute("SELECT state FROM ops").fetchall() == [("done",)]
    assert other.execute("SELECT contact_id FROM contacts").fetchone()[0] == "9"
    other.execute("PRAGMA busy_timeout = 0")
    other.execute("BEGIN IMMEDIATE")  # the write lock is free: nothing of ours holds it
    other.rollback()
    other.close()
    ledger.close()


def test_close_commits_a_pending_done(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    ledger.done("ua-1", OpKind.CALL, "7")
    ledger.close()
    assert Ledger(path).op("ua-1", OpKind.CALL) == OpRecord(OpState.DONE, "7")


def test_a_batch_commits_at_its_end(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    other = _other_connection(path)
    with ledger.batch():
        for n in range(3):
            ledger.upsert_call(
                ringostat_id=f"ua-{n}", started_at="2024-05-14T06:00:00+00:00",
                client_number="+380671234567", content_hash="h", state=CallState.PENDING,
                record={}, source="f.csv", line=n + 2,
            )  # fmt: skip
        assert other.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 0
        assert ledger.get_call("ua-2") is not None
    assert other.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 3
    other.close()
    ledger.close()


def test_last_sync_has_one_writer_and_one_reader_and_doctor_shows_it(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    summary = Summary(read=5, new=4, delivered=3, failed=1, pending=1)
    at = datetime(2024, 5, 14, 6, 0, tzinfo=UTC)
    LastSync.of(summary, at).save(ledger)
    last = LastSync.load(ledger)
    assert last is not None and last.exit_code == 6 and last.at == at.isoformat()
    assert last.counts() == {
        "read": 5, "new": 4, "delivered": 3, "failed": 1, "quarantined": 0, "pending": 1,
    }  # fmt: skip
    result = doctor.check_last_sync(ledger, datetime(2024, 5, 14, 7, 0, tzinfo=UTC))
    assert not result.ok and result.exit_code == 6
    assert "read 5, new 4, delivered 3, failed 1, quarantined 0, pending 1" in result.detail


def test_an_unreadable_last_sync_record_is_reported(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.set_meta("last_sync", "{not json")
    with pytest.raises(ValueError, match="unreadable"):
        LastSync.load(ledger)
    assert "unreadable" in doctor.check_last_sync(ledger, datetime.now(UTC)).detail


def test_a_complete_read_closes_only_its_own_calls_quarantined_rows(tmp_path: Path) -> None:
    from ringodesk_cli.delivery.intake import admit, quarantine_key
    from ringodesk_cli.ringostat.records import BadRow

    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for rid, line in (("ua-1", 3), ("ua-1", 9), ("ua-10", 4), ("ua-1:x", 5), (None, 6)):
        bad = BadRow("cut.csv", line, rid, None, f"2 values for 8 columns (line {line})")
        ledger.quarantine(quarantine_key(bad), bad.source, bad.line, rid, bad.reason)
    ringing = admit(ledger, replace(record(rid="ua-1"), outcome=Outcome.IN_PROGRESS))
    assert ringing.resolved == 0 and len(ledger.quarantined_rows()) == 5  # not complete yet
    summary = Summary()
    verdict = admit(ledger, record(rid="ua-1"))
    verdict.count(summary)
    assert (verdict.resolved, summary.quarantine_resolved) == (2, 2)
    left = sorted((r.ringostat_id or "", r.line) for r in ledger.quarantined_rows())
    assert left == [("", 6), ("ua-10", 4), ("ua-1:x", 5)]
    again = admit(ledger, record(rid="ua-1"))  # read once more: nothing left to close
    assert again.resolved == 0
    ledger.close()


def test_talk_longer_than_the_call_is_a_warning_only_when_something_is_stored() -> None:
    long_talk = replace(record(), talk_seconds=90, total_seconds=30, source="calls.csv", line=4)
    verdict = triage(long_talk, None, "h")
    assert verdict.warning == (
        "calls.csv:4: ua-1: billsec 90 is more than duration 30 (talk longer than the whole "
        "call); delivered as read"
    )
    summary = Summary()
    verdict.count(summary)
    assert summary.warnings == 1 and summary.as_dict()["warnings"] == 1
    assert summary.notices == [f"warning: {verdict.warning}"]
    assert triage(long_talk, row(CallState.DELIVERED, "h"), "h").warning is None
    assert triage(record(), None, "h").warning is None  # 42 s of 50
