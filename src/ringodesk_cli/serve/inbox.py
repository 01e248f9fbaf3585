"""A webhook's call into the ledger, committed before the webhook is answered.

The same triage as `sync` (``intake.triage``): a new call is stored pending, a call still
ringing (a before event) waiting, a delivered call whose content changed is marked changed
(its activity gets a PATCH), a delivered call seen again unchanged is left alone. Delivery
is the worker's job; this module only writes rows, one committed transaction each.

Before events that are to create records early (``integration.create_records =
"before-call"``) are also noted in ``serve_before``, a table of the ledger kept by this
module: the worker's before-call step takes them from there, so a server killed between the
answer and the step still does it after a restart.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ringodesk_cli.delivery.intake import admit
from ringodesk_cli.ledger import inbox_rows as rows
from ringodesk_cli.ledger.schema import BeforeState
from ringodesk_cli.ledger.store import CallRow, CallState, Ledger
from ringodesk_cli.ringostat.records import CallRecord

# serve_before.state: ledger/schema.py's BeforeState.
BEFORE_PENDING, BEFORE_DONE = BeforeState.PENDING, BeforeState.DONE
BEFORE_SKIPPED, BEFORE_FAILED = BeforeState.SKIPPED, BeforeState.FAILED
BUSY_WAIT = 5.0  # seconds a webhook may wait for the ledger (another process's commit)
FAILING_SINCE = "serve_failing_since"  # ledger meta, kept by the worker: failing since
LAST_ERROR = "serve_last_error"
BUSY_POLL = 0.0005


@dataclass(frozen=True)
class DeliveryState:
    queue: int  # calls waiting for delivery
    oldest: datetime | None  # the start of the oldest of them
    before_pending: int  # before events waiting for their step
    failed: int  # calls Zoho refused (`ringodesk retry --failed`)
    failing_since: datetime | None  # delivery failing since (the worker says so)
    last_error: str | None

    def as_dict(self, now: datetime) -> dict[str, Any]:
        age = round((now - self.oldest).total_seconds(), 1) if self.oldest else None
        return {
            "queue": self.queue,
            "oldest_undelivered_age_s": age,
            "before_call_pending": self.before_pending,
            "failed": self.failed,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class Stored:
    """What storing one webhook did: ``outcome`` is ``new``, ``waiting`` (still ringing),
    ``queued`` (known, not delivered yet: the newer content replaces it), ``changed``
    (delivered, content changed: an update follows) or ``unchanged`` (nothing to do)."""

    outcome: str
    to_deliver: bool


class Inbox:
    """The receiving side's ledger connection; safe to call from many request threads."""

    def __init__(self, ledger: Ledger, *, receiving: bool = False) -> None:
        """``receiving``: the receiver's own connection (webhooks are stored through it)."""
        self.ledger = ledger
        self._lock = threading.Lock()
        if receiving:
            # SQLite's own wait for a busy database sleeps 1, 2, 5, 10, 15... ms between
            # looks: a webhook stored while the worker commits would wait for the next
            # look. This connection looks again every half millisecond (``store``).
            rows.no_busy_wait(ledger)

    def store(self, record: CallRecord, *, before_step: bool = False) -> Stored:
        """Stores ``record`` (committed when this returns). ``before_step``: a before event
        whose records are created early."""
        deadline = time.monotonic() + BUSY_WAIT
        while True:
            try:
                return self._store(record, before_step)
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(BUSY_POLL)

    def _store(self, record: CallRecord, before_step: bool) -> Stored:
        with self._lock:
            verdict = admit(self.ledger, record)
            if before_step and verdict.store is CallState.WAITING:
                self._note_before(record.ringostat_id)
        return Stored(_outcome(verdict.store, verdict.changed, verdict.counter), verdict.send)

    def _note_before(self, ringostat_id: str) -> None:
        rows.note_before(self.ledger, ringostat_id, datetime.now(UTC).isoformat())

    def queue(self) -> tuple[int, str | None]:
        """(calls waiting for delivery, the start time of the oldest of them)."""
        return rows.queue(self.ledger)

    def version(self) -> int:
        """SQLite's ``data_version``: it changes when another connection commits (a webhook
        stored by the receiver), not for this connection's own writes."""
        return rows.data_version(self.ledger)

    def pending_rows(self) -> list[CallRow]:
        """The calls waiting for delivery (pending or changed), oldest call first."""
        return rows.pending_rows(self.ledger)

    def before_notes(self) -> list[tuple[str, str]]:
        """(Ringostat id, client number) of each before event waiting for its step."""
        return rows.before_notes(self.ledger)

    def before_pending(self) -> int:
        return rows.before_pending(self.ledger)

    def delivery_state(self) -> DeliveryState:
        """What the health answer shows of delivery, from the ledger alone."""
        queued, oldest = self.queue()
        failed = rows.failed_count(self.ledger)
        since = self.ledger.meta(FAILING_SINCE) or None
        return DeliveryState(
            queue=queued,
            oldest=datetime.fromisoformat(oldest) if oldest else None,
            before_pending=self.before_pending(),
            failed=failed,
            failing_since=datetime.fromisoformat(since) if since else None,
            last_error=self.ledger.meta(LAST_ERROR) if since else None,
        )

    def probe_write(self) -> None:
        """A write that proves the ledger is writable (the health check)."""
        self.ledger.set_meta("serve_health", datetime.now(UTC).isoformat())


def _outcome(store: CallState | None, changed: bool, counter: str) -> str:
    if store is None:
        return "unchanged"
    if store is CallState.WAITING:
        return "waiting"
    if changed:
        return "changed"
    return "new" if counter == "new" else "queued"
