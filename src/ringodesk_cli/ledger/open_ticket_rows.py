"""The ``open_tickets`` table: per contact and department, the open ticket a call may join
(``reuse-open``; rules/open_tickets.py decides). A read-only ledger from before the table
has none: its read answers nothing."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger


def open_ticket_row(
    ledger: Ledger, contact_id: str, department_id: str
) -> tuple[str, str, str | None] | None:
    """(ticket_id, last_activity, filled as JSON) of the contact's ticket in the department."""
    try:
        with ledger.reading() as db:
            row = db.execute(
                "SELECT ticket_id, last_activity, filled FROM open_tickets "
                "WHERE contact_id = ? AND department_id = ?",
                (contact_id, department_id),
            ).fetchone()
    except sqlite3.OperationalError:  # a read-only ledger from before this table
        return None
    if row is None:
        return None
    return str(row[0]), str(row[1]), None if row[2] is None else str(row[2])


def remember_open_ticket(
    ledger: Ledger,
    contact_id: str,
    department_id: str,
    ticket_id: str,
    last_activity: str,
    filled: str | None,
) -> None:
    """Keep the ticket; its last activity only moves forward."""
    with ledger.writing() as db:
        db.execute(
            """INSERT INTO open_tickets
                   (contact_id, department_id, ticket_id, last_activity, filled)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (contact_id, department_id) DO UPDATE SET
                   ticket_id = excluded.ticket_id,
                   last_activity = MAX(open_tickets.last_activity, excluded.last_activity),
                   filled = excluded.filled""",
            (contact_id, department_id, ticket_id, last_activity, filled),
        )


def forget_open_ticket(ledger: Ledger, contact_id: str, department_id: str) -> None:
    with ledger.writing() as db:
        db.execute(
            "DELETE FROM open_tickets WHERE contact_id = ? AND department_id = ?",
            (contact_id, department_id),
        )
