"""The ledger's schema, every table of the state SQLite in one place, and its migrations.

Each migration is numbered; the ledger's ``PRAGMA user_version`` holds the last one applied.
Opening a ledger read-write applies those it lacks, in order, each in its own transaction
(``migrate``). Version 1 is the schema of the first release that numbered it, every
statement ``IF NOT EXISTS``: a ledger written before (user_version 0) already has most of it
and gets what it lacks. Version 2 adds the columns earlier releases added one by one (a
ledger from before them lacks them; nullable: a record made before has no owner to follow
and a built link, docs/zoho-readings.md).

Tables: ``calls`` (one row a call: its record, content hash and state), ``ops`` (one row an
operation, intended before its request and done with Zoho's id after), ``contacts`` (the
contact made or found per number), ``quarantine`` (bad rows under a stable key), ``files``
(exports read, by digest), ``meta`` (key/value: watermarks, the last run), ``events`` (each
call's history), ``contact_index`` (the local index of Zoho's contacts), ``open_tickets``
(a contact's open ticket per department, for ``reuse-open``), ``recordings`` (the attachment
pass's state per call) and ``serve_before`` (the before events `serve` creates records for
early, with their ``BeforeState``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from enum import StrEnum

SCHEMA_V1 = """
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
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);
CREATE INDEX IF NOT EXISTS calls_number ON calls (client_number, started_at);
CREATE INDEX IF NOT EXISTS calls_updated ON calls (updated_at);
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
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    ringostat_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    op TEXT,
    zoho_id TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_call ON events (ringostat_id, id);
CREATE TABLE IF NOT EXISTS contact_index (
    contact_id TEXT PRIMARY KEY,
    phone TEXT,
    mobile TEXT,
    modified_time TEXT NOT NULL DEFAULT '',
    created_time TEXT NOT NULL DEFAULT '',
    web_url TEXT,
    name TEXT
);
CREATE INDEX IF NOT EXISTS contact_index_phone ON contact_index (phone);
CREATE INDEX IF NOT EXISTS contact_index_mobile ON contact_index (mobile);
CREATE TABLE IF NOT EXISTS open_tickets (
    contact_id TEXT NOT NULL,
    department_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    last_activity TEXT NOT NULL,
    filled TEXT,
    PRIMARY KEY (contact_id, department_id)
);
CREATE TABLE IF NOT EXISTS recordings (
    ringostat_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    reason TEXT,
    detail TEXT,
    first_tried TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_state ON recordings (state);
CREATE TABLE IF NOT EXISTS serve_before (
    ringostat_id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    error TEXT
);
CREATE INDEX IF NOT EXISTS serve_before_state ON serve_before (state);
"""

# Columns added after the first release: (table, column, type).
ADDED_COLUMNS = (
    ("quarantine", "field", "TEXT"),  # the field a bad row was refused for
    ("ops", "owner_id", "TEXT"),  # the owner ringodesk set on the record (tickets)
    ("ops", "web_url", "TEXT"),  # the webUrl Zoho answered the create with
)


class BeforeState(StrEnum):
    """A before event's step (``serve_before.state``): ``pending`` (the step is to run),
    ``done``, ``skipped`` (the after event came first, or the step is not for this call),
    ``failed`` (Zoho refused; the after event does all), ``final`` (delivered, and the
    ticket made early got the after event's values)."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    FINAL = "final"


def _v1(db: sqlite3.Connection) -> None:
    for statement in SCHEMA_V1.split(";"):
        if statement.strip():
            db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    for table, column, kind in ADDED_COLUMNS:
        columns = {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2)
LATEST = len(MIGRATIONS)


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations ``db`` lacks, in order; each commits with its version number.
    Each runs under the write lock and looks at the version again there: two processes
    opening one ledger (the receiver and the worker of `serve`) migrate it once. A ledger
    from a later release (a higher version) is left as it is."""
    for number, step in enumerate(MIGRATIONS, start=1):
        if version(db) >= number:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if version(db) < number:
                step(db)
                db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.rollback()
            raise
        db.commit()
