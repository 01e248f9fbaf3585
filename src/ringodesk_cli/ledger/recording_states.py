"""Where each call's recording stands, in the ledger's ``recordings`` table (one row per call
whose recording was looked for), and the pass's counts.

States: ``waiting`` (not attached yet: looked for again by later runs until
``recordings.retry_days`` after the first try), ``attached``, ``skipped`` (too large, or
refused by Zoho: never tried again), ``given-up`` (still missing after the retry days) and
``unconfirmed`` (an upload whose answer was lost, on a portal that cannot list a call's
attachments: never sent again, so never twice). The upload itself is the ledger operation
``attachment`` (``intended`` before, ``done`` with Zoho's attachment id after).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.ledger.connection import stamp

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger


WAITING = "waiting"
ATTACHED = "attached"
SKIPPED = "skipped"
GIVEN_UP = "given-up"
UNCONFIRMED = "unconfirmed"
FINAL = frozenset({ATTACHED, SKIPPED, GIVEN_UP, UNCONFIRMED})
STATES = (WAITING, ATTACHED, SKIPPED, GIVEN_UP, UNCONFIRMED)


@dataclass(frozen=True)
class RecordingRow:
    ringostat_id: str
    state: str
    reason: str | None
    detail: str | None
    first_tried: datetime
    tries: int


def _table_exists(ledger: Ledger) -> bool:
    with ledger.reading() as db:
        row = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'recordings'"
        ).fetchone()
    return row is not None


class RecordingStates:
    """The ``recordings`` table of one ledger (created on first use; read-only ledgers of
    a dry run read it only when it exists)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.present = _table_exists(ledger)

    def get(self, ringostat_id: str) -> RecordingRow | None:
        if not self.present:
            return None
        with self.ledger.reading() as db:
            row = db.execute(
                "SELECT ringostat_id, state, reason, detail, first_tried, tries "
                "FROM recordings WHERE ringostat_id = ?",
                (ringostat_id,),
            ).fetchone()
        if row is None:
            return None
        return RecordingRow(
            ringostat_id=str(row[0]),
            state=str(row[1]),
            reason=row[2],
            detail=row[3],
            first_tried=datetime.fromisoformat(str(row[4]).replace("Z", "+00:00")),
            tries=int(row[5]),
        )

    def waiting(self) -> list[str]:
        """The calls whose recording later runs still look for."""
        if not self.present:
            return []
        with self.ledger.reading() as db:
            rows = db.execute(
                "SELECT ringostat_id FROM recordings WHERE state = ? ORDER BY first_tried",
                (WAITING,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def candidates(self, since: datetime) -> list[str]:
        """The calls the pass looks at: those waiting, then every call delivered (or
        updated) since ``since`` that has a recording link and no row yet. Read from the
        ledger, so a call delivered by a run that crashed before its pass is not missed."""
        found = self.waiting()
        query = """SELECT c.ringostat_id FROM calls AS c
                   LEFT JOIN recordings AS r ON r.ringostat_id = c.ringostat_id
                   WHERE c.state = 'delivered' AND c.updated_at >= ?
                     AND r.ringostat_id IS NULL
                     AND (json_extract(c.record, '$.recording_url') IS NOT NULL
                          OR json_extract(c.record, '$.extra.recording_wav') IS NOT NULL)
                   ORDER BY c.started_at"""
        if self.present:
            with self.ledger.reading() as db:
                found.extend(str(r[0]) for r in db.execute(query, (stamp(since),)).fetchall())
        elif not self.ledger.empty:
            plain = query.replace(
                "LEFT JOIN recordings AS r ON r.ringostat_id = c.ringostat_id", ""
            )
            plain = plain.replace("AND r.ringostat_id IS NULL", "")
            with self.ledger.reading() as db:
                found.extend(str(r[0]) for r in db.execute(plain, (stamp(since),)).fetchall())
        return list(dict.fromkeys(found))

    def counts(self) -> dict[str, int]:
        if not self.present:
            return {}
        with self.ledger.reading() as db:
            rows = db.execute("SELECT state, COUNT(*) FROM recordings GROUP BY state").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def set(
        self,
        ringostat_id: str,
        state: str,
        now: datetime,
        *,
        reason: str | None = None,
        detail: str | None = None,
        tried: bool = False,
    ) -> None:
        """Write the call's state (its first try is kept once written). Committed: it also
        makes the ``attachment`` operation's ``done`` before it durable."""
        with self.ledger.writing() as db:
            db.execute(
                """INSERT INTO recordings
                       (ringostat_id, state, reason, detail, first_tried, tries, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (ringostat_id) DO UPDATE SET state = excluded.state,
                       reason = excluded.reason, detail = excluded.detail,
                       tries = recordings.tries + excluded.tries,
                       updated_at = excluded.updated_at""",
                (ringostat_id, state, reason, detail, stamp(now), int(tried), stamp(now)),
            )


@dataclass
class RecordingReport:
    """What the attachment pass did in one run (``--json``: ``recordings``)."""

    attached: int = 0  # uploaded in this run
    reconciled: int = 0  # an earlier upload whose answer was lost, found at Zoho
    waiting: int = 0  # not there yet (or not reachable): looked for again by later runs
    too_large: int = 0
    not_allowed: int = 0  # the link's host is not in recordings.hosts: never fetched
    refused: int = 0  # Zoho refused the file
    given_up: int = 0  # still missing after recordings.retry_days
    unknown: int = 0  # uploads without an answer: reconciled by the next run
    unconfirmed: int = 0  # a lost answer that cannot be checked: not sent again
    planned: int = 0  # dry run: uploads a live run would try
    reasons: list[str] = field(default_factory=list)
    waiting_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attached": self.attached,
            "reconciled": self.reconciled,
            "waiting": self.waiting,
            "waiting_by_reason": dict(sorted(self.waiting_by_reason.items())),
            "too_large": self.too_large,
            "not_allowed": self.not_allowed,
            "refused": self.refused,
            "given_up": self.given_up,
            "unknown_outcomes": self.unknown,
            "unconfirmed": self.unconfirmed,
            "planned": self.planned,
            "reasons": list(self.reasons),
        }
