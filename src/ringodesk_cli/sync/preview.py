"""The dry run: the same records, the same ledger and the same planning rules as a live run,
but nothing is sent to Zoho and nothing is written.

Records are planned as they are read and none is kept, so the dry run's memory stays flat
whatever the size of the export; the only state is which client numbers were met.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ringodesk_cli.contacts.finder import ContactFinder
from ringodesk_cli.contacts.index import ContactIndex
from ringodesk_cli.delivery.intake import quarantine_key, triage
from ringodesk_cli.delivery.recordings import recording_link
from ringodesk_cli.delivery.summary import Summary
from ringodesk_cli.ledger.record_json import from_json
from ringodesk_cli.ledger.seen_numbers import SeenNumbers
from ringodesk_cli.ledger.store import CallRow, CallState, Ledger
from ringodesk_cli.ringostat.records import BadRow, CallRecord
from ringodesk_cli.rules.planner import Policy, planned_operations

if TYPE_CHECKING:
    # Imported for types only: a dry run with --offline never loads requests.
    from ringodesk_cli.zoho.desk import DeskClient

UPDATE_CALL = "PATCH /calls/{id}"


def _dry_summary() -> Summary:
    return Summary(dry_run=True)


@dataclass
class Preview:
    """Plans what a sync would send. ``desk``: for read-only contact searches (None with
    ``--offline``: a number unknown to the ledger counts as a new contact)."""

    desk: DeskClient | None
    ledger: Ledger
    policy: Policy
    default_region: str
    on_plan: Callable[[CallRecord, list[str]], None] | None = None  # per record
    replay_since: str | None = None  # set before ingest, so a replayed call counts once
    summary: Summary = field(default_factory=_dry_summary)
    contact_index: ContactIndex | None = None  # looked up when built, never written
    recording_format: str | None = None  # recordings.attach on: the format, else None

    recordings_planned: int = field(default=0, init=False)  # attachment uploads planned

    def __post_init__(self) -> None:
        self._planned: Counter[str] = Counter()
        self._finder = (
            ContactFinder(self.desk, self.default_region, self.contact_index)
            if self.desk is not None
            else None
        )
        self._seen_numbers: SeenNumbers | None = None

    def ingest(self, items: Iterable[CallRecord | BadRow]) -> None:
        for item in items:
            if isinstance(item, BadRow):
                new = not self.ledger.is_quarantined(quarantine_key(item))
                self.summary.bad_row(str(item), new=new)
                continue
            self.summary.read += 1
            row = self.ledger.get_call(item.ringostat_id)
            # A dry run stores no digest: it needs one only to compare with a known call.
            verdict = triage(item, row, item.content_hash() if row is not None else "")
            verdict.count(self.summary)
            if not verdict.send or (verdict.undelivered and self._replayed(row)):
                continue
            self._plan(item, changed=verdict.changed)

    def _replayed(self, row: CallRow | None) -> bool:
        return (
            row is not None
            and self.replay_since is not None
            and (row.started_at >= self.replay_since)
        )

    def add_replay(self, since_utc: str) -> int:
        """Plans everything pending, failed or changed from ``since_utc`` on."""
        added = 0
        for row in self.ledger.calls_to_retry(since_utc):
            self._plan(from_json(row.record), changed=row.state is CallState.CHANGED)
            added += 1
        return added

    def finish(self) -> Summary:
        self.summary.planned = dict(self._planned)
        if self._planned and (self.ledger.empty or not self.ledger.any_done()):
            # A dry run writes nothing, so it cannot recover a lost ledger from Zoho first.
            self.summary.notice(
                "the ledger holds nothing delivered yet: a live run first recovers from Zoho "
                "Desk what ringodesk made before (a lost or new ledger), so it may create "
                "fewer records than planned here"
            )
        if self.desk is not None and self._finder is not None:
            self.summary.requests = dict(sorted(self.desk.stats.items()))
            self.summary.ambiguous_contacts = self._finder.ambiguous
        return self.summary

    def _plan(self, record: CallRecord, *, changed: bool) -> None:
        planned = [UPDATE_CALL] if changed else self._creates(record)
        for op in planned:
            self._planned[op] += 1
        if self.recording_format and recording_link(record, self.recording_format):
            self.recordings_planned += 1
        if self.on_plan is not None:
            self.on_plan(record, planned)

    def _creates(self, record: CallRecord) -> list[str]:
        number = record.client_number
        if self._seen_numbers is None:
            self._seen_numbers = SeenNumbers()
        exists = not self._seen_numbers.add(number)
        # reuse-open: a number met earlier in this dry run is counted as joining its ticket
        # (whether Zoho holds an open one for an older contact is not asked in a dry run).
        seen = exists
        if not exists:
            known = self.ledger.contact(number)
            exists = known is not None and known.done_id is not None
            if not exists and self.contact_index is not None and self.contact_index.ready:
                exists = bool(self.contact_index.candidates(number))  # --offline too
            elif not exists and self._finder is not None:
                exists = self._finder.contact_by_number(number) is not None
        ops = [] if exists else ["POST /contacts"]
        ops.extend(
            f"POST /{op}s"
            for op in planned_operations(
                record, self.policy, new_caller=not exists, open_ticket=seen
            )
        )
        return ops
