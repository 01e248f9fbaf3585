"""How a record read from an export, the API or a webhook meets the ledger: the rules shared
by the live run (``runner.Runner``), the dry run (``preview.Preview``) and the webhook
receiver (``serve``), decided without I/O (``triage``), and ``admit``, the one place a read
record is written to the ledger."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Literal

from ringodesk_cli.delivery.summary import Summary
from ringodesk_cli.ledger.record_json import to_json
from ringodesk_cli.ledger.store import CallRow, CallState, Ledger
from ringodesk_cli.ringostat.records import BadRow, CallRecord, Outcome

Counter = Literal["new", "waiting", "already_delivered", ""]


@dataclass(frozen=True)
class Triage:
    """What to do with one record: the state to store (None: store nothing), whether it is
    sent in this run, whether it was delivered before (its activity gets a PATCH), which
    summary count it adds to, and whether the ledger held it undelivered (a replay may
    already include it)."""

    store: CallState | None
    send: bool
    changed: bool
    counter: Counter
    undelivered: bool = False
    warning: str | None = None  # delivered as read, but worth a look (billsec > duration)
    resolved: int = 0  # quarantined rows of the same call closed by this complete read

    def count(self, summary: Summary) -> None:
        if self.warning is not None:
            summary.warn(self.warning)
        if self.resolved:
            summary.quarantine_resolved += self.resolved
        if self.counter == "new":
            summary.new += 1
        elif self.counter == "waiting":
            summary.waiting += 1
        elif self.counter == "already_delivered":
            summary.already_delivered += 1


def triage(record: CallRecord, row: CallRow | None, digest: str) -> Triage:
    """``row``: the ledger's row for the call, if any; ``digest``: the record's content hash
    (compared with what was delivered)."""
    verdict = _triage(record, row, digest)
    if verdict.store is not None and record.talk_seconds > record.total_seconds:
        where = f"{record.source}:{record.line}" if record.line else record.source
        warning = (
            f"{where}: {record.ringostat_id}: billsec {record.talk_seconds} is more than "
            f"duration {record.total_seconds} (talk longer than the whole call); delivered as read"
        )
        return replace(verdict, warning=warning)
    return verdict


def _triage(record: CallRecord, row: CallRow | None, digest: str) -> Triage:
    if record.outcome is Outcome.IN_PROGRESS:
        # Not delivered yet: a later export shows it completed.
        keep = row is None or row.state is CallState.WAITING
        return Triage(CallState.WAITING if keep else None, False, False, "waiting")
    if row is None:
        return Triage(CallState.PENDING, True, False, "new")
    if row.state is CallState.DELIVERED:
        if row.delivered_hash == digest:
            return Triage(None, False, False, "already_delivered")
        return Triage(CallState.CHANGED, True, True, "")
    state = row.state if row.state in (CallState.CHANGED, CallState.FAILED) else CallState.PENDING
    counter: Counter = "new" if row.state is CallState.WAITING else ""
    return Triage(state, True, state is CallState.CHANGED, counter, undelivered=True)


def admit(ledger: Ledger, record: CallRecord) -> Triage:
    """Triage ``record`` against its ledger row and store what the verdict says to store, as
    one step: a webhook and a sync storing the same call never undo each other. The call's
    quarantined rows (a half-written row of an earlier read) are closed: it is read complete."""
    digest = record.content_hash()
    with ledger.atomic():
        verdict = triage(record, ledger.get_call(record.ringostat_id), digest)
        if verdict.store is not None:
            ledger.upsert_call(
                ringostat_id=record.ringostat_id,
                started_at=record.started_at.isoformat(),
                client_number=record.client_number,
                content_hash=digest,
                state=verdict.store,
                record=to_json(record),
                source=record.source,
                line=record.line,
            )
        resolved = 0
        if record.outcome is not Outcome.IN_PROGRESS:  # a ringing call is not yet complete
            resolved = ledger.close_quarantined(record.ringostat_id, quarantine_prefix(record))
    return replace(verdict, resolved=resolved) if resolved else verdict


def quarantine_key(bad: BadRow) -> str:
    """The same bad row read again (in this file or a later copy) has the same key."""
    if bad.ringostat_id:
        return f"id:{bad.ringostat_id}:{bad.field}:{bad.reason}"
    digest = hashlib.sha1(f"{bad.source}:{bad.line}:{bad.reason}".encode()).hexdigest()
    return f"row:{digest}"


def quarantine_prefix(record: CallRecord) -> str:
    """What the keys of the call's quarantined rows start with (see ``quarantine_key``): a
    complete read of the call closes them (a half-written row delivered by a later run)."""
    return f"id:{record.ringostat_id}:"
