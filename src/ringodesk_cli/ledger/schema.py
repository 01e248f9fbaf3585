"""The ledger's SQLite schema and the conversion of its rows to records (``ledger_records``)."""

from __future__ import annotations

import json
import sqlite3

from ringodesk_cli.contacts.index import SCHEMA as CONTACT_INDEX_SCHEMA
from ringodesk_cli.ledger.records import CallRow, CallState, QuarantinedRow

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS calls (
    ringostat_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    client_number TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    delivered_hash TEXT,
    state TEXT NOT NULL,
    record TEXT NOT NULL,
    source TEXT,
    line INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_state ON calls (state, started_at);
CREATE TABLE IF NOT EXISTS ops (
    key TEXT PRIMARY KEY,
    ringostat_id TEXT NOT NULL,
    op TEXT NOT NULL,
    state TEXT NOT NULL,
    zoho_id TEXT,
    updated_at TEXT NOT NULL,
    owner_id TEXT,
    web_url TEXT
);
CREATE INDEX IF NOT EXISTS ops_call ON ops (ringostat_id);
CREATE TABLE IF NOT EXISTS contacts (
    number TEXT PRIMARY KEY,
    contact_id TEXT,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    ringostat_id TEXT,
    reason TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    field TEXT
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    read_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
    + CONTACT_INDEX_SCHEMA
)


# Columns added after the first release: (table, column, type).
ADDED_COLUMNS = (
    ("quarantine", "field", "TEXT"),  # the field a bad row was refused for
    ("ops", "owner_id", "TEXT"),  # the owner ringodesk set on the record (tickets)
    ("ops", "web_url", "TEXT"),  # the webUrl Zoho answered the create with
)


def add_quarantine_field(db: sqlite3.Connection) -> None:
    """Ledgers written before a column of ``ADDED_COLUMNS`` existed get it now (nullable;
    a record made before has no owner to follow and a built link, docs/zoho-readings.md)."""
    for table, column, kind in ADDED_COLUMNS:
        columns = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    db.commit()


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
