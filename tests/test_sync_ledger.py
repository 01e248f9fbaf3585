"""The ledger: intended/done operations, call states, the retry window, quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringodesk_cli.ledger.store import CallState, ContactRecord, Ledger, OpKind, OpRecord, OpState


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.sqlite3")


def add(ledger: Ledger, rid: str, started: str, state: CallState = CallState.PENDING) -> None:
    ledger.upsert_call(
        ringostat_id=rid, started_at=started, client_number="+380671234567",
        content_hash="h-" + rid, state=state, record={"id": rid}, source="f.csv", line=2,
    )  # fmt: skip


def test_the_file_is_private_and_in_wal_mode(ledger: Ledger) -> None:
    assert ledger.path.stat().st_mode & 0o777 == 0o600
    assert ledger._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.integrity_ok()


def test_an_op_is_intended_then_done_and_never_goes_back(ledger: Ledger) -> None:
    ledger.intend("ua-1", OpKind.CALL)
    intended = ledger.op("ua-1", OpKind.CALL)
    assert intended == OpRecord(OpState.INTENDED, None)
    assert intended.intended and intended.done_id is None
    ledger.done("ua-1", OpKind.CALL, "777")
    ledger.intend("ua-1", OpKind.CALL)  # a later attempt cannot forget what was created
    done = ledger.op("ua-1", OpKind.CALL)
    assert done == OpRecord(OpState.DONE, "777") and done.done_id == "777"
    assert ledger.ops_of("ua-1") == {OpKind.CALL: OpRecord(OpState.DONE, "777")}


def test_operation_kinds_and_states_are_stored_as_the_plain_strings(ledger: Ledger) -> None:
    """Ledgers written before the enums existed hold the same strings: they still read."""
    ledger.intend("ua-1", OpKind.TASK)
    ledger.remember_contact("+380671234567", "9")
    db = ledger._db
    assert db.execute("SELECT op, state, typeof(op) FROM ops").fetchone()[:] == (
        "task", "intended", "text",
    )  # fmt: skip
    assert db.execute("SELECT state FROM contacts").fetchone()[0] == "done"
    db.execute(
        "INSERT INTO ops (key, ringostat_id, op, state, zoho_id, updated_at) "
        "VALUES ('old:ticket', 'old', 'ticket', 'done', '5', 'x')"
    )
    assert ledger.op("old", OpKind.TICKET) == OpRecord(OpState.DONE, "5")


def test_outcomes_survive_reopening(ledger: Ledger, tmp_path: Path) -> None:
    ledger.done("ua-1", OpKind.TASK, "42")
    ledger.remember_contact("+380671234567", "9")
    ledger.close()
    again = Ledger(tmp_path / "state" / "ledger.sqlite3")
    assert again.op("ua-1", OpKind.TASK) == OpRecord(OpState.DONE, "42")
    assert again.contact("+380671234567") == ContactRecord(OpState.DONE, "9")


def test_a_contact_intent_does_not_overwrite_a_known_contact(ledger: Ledger) -> None:
    ledger.remember_contact("+380671234567", "9")
    ledger.intend_contact("+380671234567")
    known = ledger.contact("+380671234567")
    assert known == ContactRecord(OpState.DONE, "9") and known.done_id == "9"


def test_calls_to_retry_are_the_undelivered_ones_inside_the_window(ledger: Ledger) -> None:
    add(ledger, "old", "2024-05-10T08:00:00+00:00")
    add(ledger, "new", "2024-05-14T08:00:00+00:00")
    add(ledger, "failed", "2024-05-14T09:00:00+00:00", CallState.FAILED)
    add(ledger, "done", "2024-05-14T10:00:00+00:00", CallState.DELIVERED)
    add(ledger, "waiting", "2024-05-14T11:00:00+00:00", CallState.WAITING)
    since = "2024-05-11T21:00:00+00:00"
    assert [r.ringostat_id for r in ledger.calls_to_retry(since)] == ["new", "failed"]
    assert [r.ringostat_id for r in ledger.calls_to_retry(None)] == ["old", "new", "failed"]


def test_set_call_state_counts_attempts_and_keeps_the_delivered_hash(ledger: Ledger) -> None:
    add(ledger, "ua-1", "2024-05-14T08:00:00+00:00")
    ledger.set_call_state("ua-1", CallState.FAILED, error="422")
    ledger.set_call_state("ua-1", CallState.DELIVERED, delivered_hash="h-ua-1")
    row = ledger.get_call("ua-1")
    assert row is not None
    assert (row.state, row.delivered_hash, row.attempts, row.error) == (
        CallState.DELIVERED, "h-ua-1", 2, None,
    )  # fmt: skip


def test_a_bad_row_is_new_once(ledger: Ledger) -> None:
    assert ledger.quarantine("k", "f.csv", 22, None, "caller: junk")
    assert not ledger.quarantine("k", "f.csv", 22, None, "caller: junk")
    assert ledger.is_quarantined("k") and ledger.quarantine_count() == 1


def test_read_only_ledger_refuses_writes_and_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "none" / "ledger.sqlite3"
    readonly = Ledger(path, readonly=True)
    assert readonly.get_call("x") is None
    with pytest.raises(RuntimeError, match="read-only"):
        readonly.intend("x", OpKind.CALL)
    assert not path.exists()


def test_an_atomic_step_keeps_another_process_from_writing_between_its_read_and_write(
    ledger: Ledger, tmp_path: Path
) -> None:
    # Two connections to one file stand for `serve` and a sync in two processes: the other
    # one's write waits until the step that read first has written and committed.
    import threading
    import time

    other = Ledger(ledger.path)
    ready, order = threading.Event(), []

    def write_from_the_other_process() -> None:
        ready.wait(5)
        other.set_meta("owner", "other")
        order.append("other")

    thread = threading.Thread(target=write_from_the_other_process)
    thread.start()
    try:
        with ledger.atomic():
            assert ledger.meta("owner") is None
            ready.set()
            time.sleep(0.3)
            ledger.set_meta("owner", "first")
            order.append("first")
        thread.join(10)
    finally:
        other.close()
    assert order == ["first", "other"]
    assert ledger.meta("owner") == "other"
