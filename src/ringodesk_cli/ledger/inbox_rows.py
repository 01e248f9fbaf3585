"""What `ringodesk serve` reads and writes in the ledger besides the calls themselves: the
delivery queue, the before events waiting for their step (``serve_before``, its states
``BeforeState``), and SQLite's ``data_version`` (another connection committed)."""

from __future__ import annotations

from ringodesk_cli.ledger.records import CallRow, CallState, call_row
from ringodesk_cli.ledger.schema import BeforeState
from ringodesk_cli.ledger.store import Ledger

_TO_DELIVER = (CallState.PENDING, CallState.CHANGED)


def no_busy_wait(ledger: Ledger) -> None:
    """This connection does not wait for a busy database itself (its caller polls)."""
    with ledger.writing() as db:
        db.execute("PRAGMA busy_timeout = 0")


def data_version(ledger: Ledger) -> int:
    with ledger.reading() as db:
        return int(db.execute("PRAGMA data_version").fetchone()[0])


def queue(ledger: Ledger) -> tuple[int, str | None]:
    """(calls waiting for delivery, the start time of the oldest of them)."""
    with ledger.reading() as db:
        row = db.execute(
            "SELECT COUNT(*), MIN(started_at) FROM calls WHERE state IN (?, ?)", _TO_DELIVER
        ).fetchone()
    return int(row[0]), (str(row[1]) if row[1] else None)


def pending_rows(ledger: Ledger) -> list[CallRow]:
    """The calls waiting for delivery (pending or changed), oldest call first."""
    with ledger.reading() as db:
        rows = db.execute(
            "SELECT * FROM calls WHERE state IN (?, ?) ORDER BY started_at", _TO_DELIVER
        ).fetchall()
    return [call_row(r) for r in rows]


def failed_count(ledger: Ledger) -> int:
    with ledger.reading() as db:
        row = db.execute("SELECT COUNT(*) FROM calls WHERE state = ?", (CallState.FAILED,))
        return int(row.fetchone()[0])


def note_before(ledger: Ledger, ringostat_id: str, received_at: str) -> None:
    """A before event whose step is to run (kept once: a repeat changes nothing)."""
    with ledger.writing() as db:
        db.execute(
            "INSERT OR IGNORE INTO serve_before (ringostat_id, received_at) VALUES (?, ?)",
            (ringostat_id, received_at),
        )


def before_notes(ledger: Ledger) -> list[tuple[str, str]]:
    """(Ringostat id, client number) of each before event waiting for its step."""
    with ledger.reading() as db:
        rows = db.execute(
            "SELECT b.ringostat_id, c.client_number FROM serve_before b JOIN calls c"
            " ON c.ringostat_id = b.ringostat_id WHERE b.state = ? ORDER BY b.received_at",
            (BeforeState.PENDING,),
        ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def before_pending(ledger: Ledger) -> int:
    with ledger.reading() as db:
        row = db.execute(
            "SELECT COUNT(*) FROM serve_before WHERE state = ?", (BeforeState.PENDING,)
        ).fetchone()
    return int(row[0])


def mark_before(ledger: Ledger, ringostat_id: str, state: str, error: str | None = None) -> None:
    with ledger.writing() as db:
        db.execute(
            "UPDATE serve_before SET state = ?, error = ? WHERE ringostat_id = ?",
            (state, error, ringostat_id),
        )


def before_state(ledger: Ledger, ringostat_id: str) -> str | None:
    """The state of the call's before event; None when it had none."""
    with ledger.reading() as db:
        row = db.execute(
            "SELECT state FROM serve_before WHERE ringostat_id = ?", (ringostat_id,)
        ).fetchone()
    return None if row is None else str(row[0])
