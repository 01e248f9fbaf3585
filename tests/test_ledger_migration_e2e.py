"""A ledger written by the release before numbered migrations opens, migrates and syncs.

``tests/data/ledger-release.sql`` is ``sqlite3 ledger.sqlite3 .dump`` of the ledger that
release (commit 1e2e6b6) wrote after one `ringodesk sync` of the four calls below into the
sandbox (its user_version is 0; it has no ``recordings`` and no ``serve_before`` table).
Opened by this version it migrates in place to the latest schema version, keeps every
call and operation, and a sync of the same calls creates nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from e2e import Call, Desk, write_export
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.sandbox import Sandbox

DUMP = Path(__file__).parent / "data" / "ledger-release.sql"
LATEST = 2  # ledger/schema.py: 1 the full schema, 2 the columns added one by one before


def release_ledger(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(DUMP.read_text(encoding="utf-8"))
    db.close()
    return path


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}


def test_a_release_ledger_migrates_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    path = release_ledger(tmp_path / "state" / "ledger.sqlite3")
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()
    Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"recordings", "serve_before", "open_tickets", "contact_index", "events"} <= tables
    assert {"owner_id", "web_url"} <= columns(db, "ops")
    assert "field" in columns(db, "quarantine")
    states = dict(db.execute("SELECT ringostat_id, state FROM calls").fetchall())
    assert states == {f"rel-{n}": "delivered" for n in (1, 2, 3, 4)}
    # By hand: contacts 3, tickets 2 (rel-1, rel-2), calls 4, task 1 (rel-2 missed).
    assert db.execute("SELECT COUNT(*) FROM ops WHERE state = 'done'").fetchone()[0] == 10
    db.close()


def test_a_release_ledger_syncs_the_same_calls_with_no_create(
    sandbox: Sandbox,  # noqa: F811
    subprocess_env: dict[str, str],
    tmp_path: Path,
    isolated_home: Path,
) -> None:
    desk = Desk(sandbox, subprocess_env, tmp_path)
    desk.setup()
    release_ledger(isolated_home / "state" / "default" / "ledger.sqlite3")
    calls = [
        Call("rel-1", "0671110001", when=datetime(2026, 3, 2, 10, 0), sip="anna_sip"),
        Call("rel-2", "0671110002", when=datetime(2026, 3, 2, 10, 5),
             disposition="NO ANSWER", billsec=0),
        Call("rel-3", "0671110001", when=datetime(2026, 3, 2, 11, 0), sip="petro_sip"),
        Call("rel-4", "0671110003", when=datetime(2026, 3, 2, 12, 0), call_type="out",
             sip="anna_sip"),
    ]  # fmt: skip
    export = write_export(tmp_path / "day.csv", calls)
    before = desk.creating()
    result = desk.sync(str(export))
    assert result.code == 0, result
    assert desk.creating() == before
    assert result.json()["delivered"] == 0
    assert result.json()["new"] == 0


def test_a_ledger_from_before_the_added_columns_gets_them_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE ops (key TEXT PRIMARY KEY, ringostat_id TEXT NOT NULL, op TEXT NOT NULL,
               state TEXT NOT NULL, zoho_id TEXT, updated_at TEXT NOT NULL);
           CREATE TABLE quarantine (key TEXT PRIMARY KEY, source TEXT NOT NULL,
               line INTEGER NOT NULL, ringostat_id TEXT, reason TEXT NOT NULL,
               first_seen TEXT NOT NULL);
           INSERT INTO ops VALUES ('c1:call', 'c1', 'call', 'done', '77', '2026-01-01');"""
    )
    old.close()
    for _ in range(2):  # the second opening finds the latest version: nothing to do
        Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert columns(db, "ops") == {
        "key", "ringostat_id", "op", "state", "zoho_id", "updated_at", "owner_id", "web_url"
    }  # fmt: skip
    assert "field" in columns(db, "quarantine")
    assert db.execute("SELECT zoho_id, owner_id FROM ops").fetchall() == [("77", None)]
    db.close()
