"""The ledger's history of each call, append-only: what `ringodesk log show` tells.

Every step the runner takes for a call is one row: the call read (and from where), each
operation ``intended`` before its request, ``done`` with Zoho's id after it (or
``reconciled``: found again through its ``[rs:<id>]`` marker after an answer was lost),
``failed`` with Zoho's error, and the call's state when a run settles it. Rows are written
in the same transaction as the ledger change they describe, and never updated.

The table and its indexes (calls by start time and by client number, for `ringodesk log`)
are in ledger/schema.py.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum


class EventKind(StrEnum):
    """What happened. The values are the ``events.kind`` column's."""

    READ = "read"  # the call was stored (new, changed, or still in progress)
    INTENDED = "intended"  # an operation's request is about to be sent
    DONE = "done"  # Zoho answered with the record's id
    RECONCILED = "reconciled"  # a lost answer: the record was found again by its marker
    UPDATED = "updated"  # a record brought to the call's last state: what changed in detail
    RECOVERED = "recovered"  # a new or emptied ledger found the record in Zoho (recovery.py)
    FAILED = "failed"  # the request was refused or got no answer: Zoho's error in detail
    STATE = "state"  # the run settled the call: delivered, failed, pending (detail: error)


def add_event(
    db: sqlite3.Connection,
    ringostat_id: str,
    kind: EventKind,
    at: str,
    *,
    op: str | None = None,
    zoho_id: str | None = None,
    detail: str | None = None,
) -> None:
    """One row, inside the caller's transaction."""
    db.execute(
        "INSERT INTO events (ringostat_id, at, kind, op, zoho_id, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (ringostat_id, at, str(kind), op, zoho_id, detail),
    )
