"""What the ledger stores and returns: call states, operation kinds and states (their values
are the strings in the SQLite columns), and the named records its queries return."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CallState(StrEnum):
    """Where a call stands. The values are what the ``calls.state`` column holds."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    WAITING = "waiting"  # still IN PROGRESS at Ringostat: delivered once an export completes it
    CHANGED = "changed"  # delivered, then seen with new content: the call activity gets a PATCH


class OpState(StrEnum):
    """An operation is written ``intended`` before its request and ``done`` after it."""

    INTENDED = "intended"
    DONE = "done"


class OpKind(StrEnum):
    """What an operation creates in Zoho Desk. The values are the ``ops.op`` column's."""

    CONTACT = "contact"
    TICKET = "ticket"
    CALL = "call"
    TASK = "task"
    ATTACHMENT = "attachment"  # the call's recording, attached to its call activity


@dataclass(frozen=True)
class OpRecord:
    """One operation of a call as the ledger knows it."""

    state: OpState
    zoho_id: str | None

    @property
    def done_id(self) -> str | None:
        """Zoho's id when the operation is done, else None."""
        return self.zoho_id if self.state is OpState.DONE and self.zoho_id else None

    @property
    def intended(self) -> bool:
        return self.state is OpState.INTENDED


@dataclass(frozen=True)
class ContactRecord:
    """A client number's contact: ``done`` with its id, or ``intended`` (a create was sent,
    maybe without an answer)."""

    state: OpState
    contact_id: str | None

    @property
    def done_id(self) -> str | None:
        return self.contact_id if self.state is OpState.DONE and self.contact_id else None


@dataclass(frozen=True)
class CallRow:
    ringostat_id: str
    started_at: str
    client_number: str
    content_hash: str
    delivered_hash: str | None
    state: CallState
    record: dict[str, Any]
    error: str | None
    attempts: int


@dataclass(frozen=True)
class QuarantinedRow:
    """A row that could not become a call, kept until it is fixed or dropped. ``id`` is what
    `ringodesk quarantine drop` takes; ``first_seen`` is an ISO time in UTC."""

    id: int
    source: str
    line: int
    ringostat_id: str | None
    field: str | None
    reason: str
    first_seen: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "file": self.source,
            "line": self.line,
            "ringostat_id": self.ringostat_id,
            "field": self.field,
            "reason": self.reason,
            "first_seen": self.first_seen,
        }


def web_address(url: object) -> str | None:
    """A record's ``webUrl`` as the ledger keeps it: Zoho's text, shown as a link by `log`,
    so only an http(s) address; anything else is not kept (the log builds a link)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def quarantined_row(row: sqlite3.Row) -> QuarantinedRow:
    # A read-only look at a ledger from before the column (``in`` on a Row tests values).
    field = row["field"] if "field" in row.keys() else None  # noqa: SIM118
    return QuarantinedRow(
        id=int(row["id"]),
        source=row["source"],
        line=int(row["line"]),
        ringostat_id=row["ringostat_id"],
        field=field,
        reason=row["reason"],
        first_seen=row["first_seen"],
    )


def call_row(row: sqlite3.Row) -> CallRow:
    return CallRow(
        ringostat_id=row["ringostat_id"],
        started_at=row["started_at"],
        client_number=row["client_number"],
        content_hash=row["content_hash"],
        delivered_hash=row["delivered_hash"],
        state=CallState(row["state"]),
        record=json.loads(row["record"]),
        error=row["error"],
        attempts=int(row["attempts"]),
    )
