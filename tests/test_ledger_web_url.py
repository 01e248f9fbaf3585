"""The ``webUrl`` Zoho answers each create with is kept in the ledger and shown by the log;
a ledger from before the column is upgraded, and its records keep built links."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ringodesk_cli.ledger.history import LogQuery, WebLinks, list_calls
from ringodesk_cli.ledger.store import CallState, Ledger, OpKind

LINKS = WebLinks("https://desk.zoho.eu", "acme")
ZOHO_URL = "https://desk.zoho.eu/support/acme/ShowHomePage.do#Calls/dv/0f3a9c2e77b1d4"


def _call(ledger: Ledger, rid: str) -> None:
    ledger.upsert_call(
        ringostat_id=rid, started_at="2026-12-01T10:00:00+00:00", client_number="+380671234567",
        content_hash="h-" + rid, state=CallState.DELIVERED, record={"direction": "inbound"},
        source="calls.csv", line=1,
    )  # fmt: skip


def test_a_kept_web_url_is_the_link_and_a_built_one_only_for_older_records(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    ledger = Ledger(state / "ledger.sqlite3")
    _call(ledger, "a")
    ledger.done("a", OpKind.CALL, "501", url=ZOHO_URL)
    ledger.done("a", OpKind.CONTACT, "502")  # found again through a list: no webUrl
    ledger.done("a", OpKind.TASK, "503", url="javascript:alert(1)")  # not a web address
    ledger.intend("a", OpKind.TICKET)
    ledger.done("a", OpKind.TICKET, "504", reconciled=True, url=None)
    ledger.close()

    (entry,) = list_calls(state, LogQuery(), LINKS)
    assert entry.zoho["call"] == {"id": "501", "url": ZOHO_URL}
    built = "https://desk.zoho.eu/support/acme/ShowHomePage.do#"
    assert entry.zoho["contact"] == {"id": "502", "url": built + "Contacts/dv/502"}
    assert entry.zoho["tasks"] == [{"id": "503", "url": built + "Tasks/dv/503"}]
    assert entry.zoho["ticket"] == {"id": "504", "url": built + "Cases/dv/504"}


def test_a_url_once_kept_survives_a_later_done_without_one(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ledger = Ledger(state / "ledger.sqlite3")
    _call(ledger, "a")
    ledger.done("a", OpKind.CALL, "501", url=ZOHO_URL)
    ledger.done("a", OpKind.CALL, "501", reconciled=True)
    ledger.close()
    (entry,) = list_calls(state, LogQuery(), WebLinks(None, None))
    assert entry.zoho["call"] == {"id": "501", "url": ZOHO_URL}


def test_a_ledger_from_before_the_column_reads_then_upgrades(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    path = state / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """CREATE TABLE calls (ringostat_id TEXT PRIMARY KEY, started_at TEXT NOT NULL,
               client_number TEXT NOT NULL, content_hash TEXT NOT NULL, delivered_hash TEXT,
               state TEXT NOT NULL, record TEXT NOT NULL, source TEXT, line INTEGER,
               error TEXT, attempts INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL);
           CREATE TABLE ops (key TEXT PRIMARY KEY, ringostat_id TEXT NOT NULL,
               op TEXT NOT NULL, state TEXT NOT NULL, zoho_id TEXT, updated_at TEXT NOT NULL);
           CREATE TABLE quarantine (key TEXT PRIMARY KEY, source TEXT NOT NULL,
               line INTEGER NOT NULL, ringostat_id TEXT, reason TEXT NOT NULL,
               first_seen TEXT NOT NULL, field TEXT);
           INSERT INTO calls VALUES ('a', '2026-12-01T10:00:00+00:00', '+380671234567', 'h',
               NULL, 'delivered', '{}', 'calls.csv', 1, NULL, 1, '2026-12-01T10:00:00Z');
           INSERT INTO ops VALUES ('a:call', 'a', 'call', 'done', '501', '2026-12-01T10:00:00Z');
        """
    )
    old.commit()
    old.close()
    # Read-only (the log of a ledger no run has opened since): the built link.
    (entry,) = list_calls(state, LogQuery(), LINKS)
    assert entry.zoho["call"]["url"].endswith("#Calls/dv/501")
    Ledger(path).close()  # a run opens it: the column is added
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(ops)")}
    assert "web_url" in columns
