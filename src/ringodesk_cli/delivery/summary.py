"""What a sync run reports (``Summary``) and what it leaves for `doctor` (``LastSync``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ExitCode, RingodeskError

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger

UNKNOWN_OUTCOME_HINT = (
    "some creates got no answer from Zoho; those calls stay pending and the next "
    "run checks for them before creating anything (ringodesk sync --replay 3d)"
)


@dataclass
class Summary:
    read: int = 0
    new: int = 0
    delivered: int = 0
    updated: int = 0
    already_delivered: int = 0
    waiting: int = 0
    failed: int = 0
    quarantined: int = 0  # bad rows first seen in this run
    quarantined_before: int = 0
    pending: int = 0
    ambiguous_contacts: int = 0
    unknown_outcomes: int = 0  # creates sent without an answer; pending, reconciled next run
    cf_values_dropped: int = 0  # cf values Zoho refused; sent without, kept in the description
    warnings: int = 0  # calls delivered as read with something odd (billsec > duration)
    quarantine_resolved: int = 0  # quarantined rows closed: their call was read complete
    stopped: str | None = None
    stop_code: int | None = None
    stop_hint: str | None = None
    failures: list[str] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)  # files that could not be read
    empty_files: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # e.g. a duplicate id settled
    open_quarantine: int | None = None  # rows in quarantine after the run (all runs')
    requests: dict[str, int] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    interrupted: bool = False  # asked to stop: what was not sent stays pending
    recordings: dict[str, Any] | None = None  # the attachment pass (recordings.attach on)
    # A new or emptied ledger's recovery (recovery.py): since when, and records per kind.
    recovered: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        if self.stop_code is not None:
            return self.stop_code
        if self.unknown_outcomes:
            return ExitCode.UNAVAILABLE
        if self.failed or self.quarantined or self.failed_files:
            return ExitCode.PARTIAL
        return ExitCode.OK

    def stop(self, exc: RingodeskError) -> None:
        """The run stops on ``exc`` (the first stop wins)."""
        if self.stopped is None:
            self.stopped = str(exc)
            self.stop_code = int(exc.exit_code)
            self.stop_hint = exc.hint

    def bad_row(self, text: str, *, new: bool) -> None:
        self.read += 1
        if new:
            self.quarantined += 1
            self.bad_rows.append(text)
        else:
            self.quarantined_before += 1

    def file_failed(self, text: str) -> None:
        self.failed_files.append(text)

    def file_empty(self, text: str) -> None:
        self.empty_files.append(text)

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def warn(self, text: str) -> None:
        """A call delivered as read, with something worth a look: counted and listed."""
        self.warnings += 1
        self.notices.append(f"warning: {text}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "new": self.new,
            "delivered": self.delivered,
            "updated": self.updated,
            "already_delivered": self.already_delivered,
            "waiting_in_progress": self.waiting,
            "failed": self.failed,
            "quarantined": self.quarantined,
            "quarantined_before": self.quarantined_before,
            "pending": self.pending,
            "ambiguous_contacts": self.ambiguous_contacts,
            "unknown_outcomes": self.unknown_outcomes,
            "cf_values_dropped": self.cf_values_dropped,
            "warnings": self.warnings,
            "quarantine_resolved": self.quarantine_resolved,
            "stopped": self.stopped,
            "hint": self.stop_hint or (UNKNOWN_OUTCOME_HINT if self.unknown_outcomes else None),
            "failures": self.failures,
            "bad_rows": self.bad_rows,
            "failed_files": self.failed_files,
            "empty_files": self.empty_files,
            "notices": self.notices,
            "open_quarantine": self.open_quarantine,
            "requests": self.requests,
            "planned": self.planned,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "recordings": self.recordings,
            "recovered": self.recovered,
            "exit_code": int(self.exit_code),
        }


LAST_SYNC_KEY = "last_sync"  # the ledger's meta key


@dataclass(frozen=True)
class LastSync:
    """The outcome of the last real (not dry) sync, kept in the ledger for `doctor`.

    Stored as one JSON object: ``at`` (ISO time), ``exit_code`` and the counts below. A
    count missing from an older record reads as None."""

    at: str
    exit_code: int
    read: int | None = None
    new: int | None = None
    delivered: int | None = None
    failed: int | None = None
    quarantined: int | None = None
    pending: int | None = None

    COUNTS = ("read", "new", "delivered", "failed", "quarantined", "pending")

    @classmethod
    def of(cls, summary: Summary, at: datetime) -> LastSync:
        return cls(
            at=at.isoformat(),
            exit_code=int(summary.exit_code),
            read=summary.read,
            new=summary.new,
            delivered=summary.delivered,
            failed=summary.failed,
            quarantined=summary.quarantined,
            pending=summary.pending,
        )

    def counts(self) -> dict[str, int]:
        """The counts the record holds, in a fixed order."""
        values = {key: getattr(self, key) for key in self.COUNTS}
        return {key: int(value) for key, value in values.items() if value is not None}

    def save(self, ledger: Ledger) -> None:
        ledger.set_meta(
            LAST_SYNC_KEY, json.dumps({"at": self.at, **self.counts(), "exit_code": self.exit_code})
        )

    @classmethod
    def load(cls, ledger: Ledger) -> LastSync | None:
        """None before any sync; ValueError when the record cannot be read."""
        raw = ledger.meta(LAST_SYNC_KEY)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            counts = {k: int(data[k]) for k in cls.COUNTS if data.get(k) is not None}
            code = int(data.get("exit_code", 1))
            return cls(at=str(data.get("at", "")), exit_code=code, **counts)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"the last sync's record is unreadable: {exc}") from None
