"""The ledger: what ringodesk knows it sent, per Ringostat call, in SQLite (WAL).

Every operation of a call has a deterministic key (``<ringostat id>:<operation>``). It is
written as ``intended`` before its request and ``done`` with Zoho's id after, so that a crash
between the two leaves a trace that the next run reconciles against Zoho before it sends
anything again. Calls stay ``pending`` here for as long as it takes: the ledger is the
outbox that a later run (or ``sync --replay``) empties once Zoho answers again.
"""

from __future__ import annotations

import json
from typing import Any

from ringodesk_cli.ledger.connection import (
    BATCH_WRITES,
    LEDGER_FILE,
    LedgerConnection,
    now_stamp,
)
from ringodesk_cli.ledger.events import EventKind, add_event
from ringodesk_cli.ledger.records import (
    CallRow,
    CallState,
    ContactRecord,
    OpKind,
    OpRecord,
    OpState,
    QuarantinedRow,
    call_row,
    quarantined_row,
    web_address,
)

__all__ = [
    "BATCH_WRITES", "LEDGER_FILE", "CallRow", "CallState", "ContactRecord", "Ledger", "OpKind",
    "OpRecord", "OpState", "QuarantinedRow",
]  # fmt: skip


class Ledger(LedgerConnection):
    """The ledger's tables: calls, operations, contacts by number, quarantine, files, meta."""

    # -- calls ---------------------------------------------------------------------------
    def get_call(self, ringostat_id: str) -> CallRow | None:
        if self.empty:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM calls WHERE ringostat_id = ?", (ringostat_id,)
            ).fetchone()
        return call_row(row) if row else None

    def upsert_call(
        self,
        *,
        ringostat_id: str,
        started_at: str,
        client_number: str,
        content_hash: str,
        state: CallState,
        record: dict[str, Any],
        source: str,
        line: int,
    ) -> None:
        with self._write() as db:
            db.execute(
                """INSERT INTO calls (ringostat_id, started_at, client_number, content_hash,
                       state, record, source, line, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (ringostat_id) DO UPDATE SET
                       started_at = excluded.started_at,
                       client_number = excluded.client_number,
                       content_hash = excluded.content_hash,
                       state = excluded.state,
                       record = excluded.record,
                       source = excluded.source,
                       line = excluded.line,
                       updated_at = excluded.updated_at""",
                (
                    ringostat_id,
                    started_at,
                    client_number,
                    content_hash,
                    state,
                    json.dumps(record, ensure_ascii=False),
                    source,
                    line,
                    now_stamp(),
                ),
            )
            add_event(
                db, ringostat_id, EventKind.READ, now_stamp(), detail=f"{state}: {source}:{line}"
            )

    def set_call_state(
        self,
        ringostat_id: str,
        state: CallState,
        *,
        error: str | None = None,
        delivered_hash: str | None = None,
    ) -> None:
        with self._write() as db:
            if delivered_hash is not None:
                db.execute(
                    "UPDATE calls SET state = ?, error = ?, delivered_hash = ?, "
                    "attempts = attempts + 1, updated_at = ? WHERE ringostat_id = ?",
                    (state, error, delivered_hash, now_stamp(), ringostat_id),
                )
            else:
                db.execute(
                    "UPDATE calls SET state = ?, error = ?, attempts = attempts + 1, "
                    "updated_at = ? WHERE ringostat_id = ?",
                    (state, error, now_stamp(), ringostat_id),
                )
            detail = f"{state}: {error}" if error else str(state)
            add_event(db, ringostat_id, EventKind.STATE, now_stamp(), detail=detail)

    def calls_to_retry(self, since_utc: str | None) -> list[CallRow]:
        """Pending, failed or changed calls (not yet delivered), optionally from a time on."""
        query = "SELECT * FROM calls WHERE state IN (?, ?, ?)"
        args: list[Any] = [CallState.PENDING, CallState.FAILED, CallState.CHANGED]
        if since_utc is not None:
            query += " AND started_at >= ?"
            args.append(since_utc)
        query += " ORDER BY started_at"
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [call_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM calls GROUP BY state").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def oldest(self, state: CallState) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(started_at) FROM calls WHERE state = ?", (state,)
            ).fetchone()
        return str(row[0]) if row and row[0] else None

    # -- operations ----------------------------------------------------------------------
    def op(self, ringostat_id: str, op: OpKind) -> OpRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state, zoho_id FROM ops WHERE key = ?", (f"{ringostat_id}:{op}",)
            ).fetchone()
        return OpRecord(OpState(row[0]), row[1]) if row else None

    def intend(self, ringostat_id: str, op: OpKind) -> None:
        with self._write() as db:
            db.execute(
                """INSERT INTO ops (key, ringostat_id, op, state, updated_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                       updated_at = excluded.updated_at
                   WHERE ops.state != 'done'""",
                (f"{ringostat_id}:{op}", ringostat_id, op, OpState.INTENDED, now_stamp()),
            )
            add_event(db, ringostat_id, EventKind.INTENDED, now_stamp(), op=op)

    def done(
        self,
        ringostat_id: str,
        op: OpKind,
        zoho_id: str,
        *,
        reconciled: bool = False,
        owner: str | None = None,
        url: str | None = None,
    ) -> None:
        """``reconciled``: found again through its marker, not created now (the history
        tells the two apart). Lost to a crash before its commit, it leaves the operation
        ``intended``, which the next run reconciles through the marker instead of creating
        it again. ``owner``: the owner ringodesk set on the record (None: not its to change
        later, e.g. a before-call ticket). ``url``: the ``webUrl`` of Zoho's answer, for
        ``log``."""
        with self._write() as db:
            db.execute(
                """INSERT INTO ops (key, ringostat_id, op, state, zoho_id, updated_at, owner_id,
                       web_url)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO UPDATE SET state = excluded.state,
                       zoho_id = excluded.zoho_id, updated_at = excluded.updated_at,
                       owner_id = COALESCE(excluded.owner_id, ops.owner_id),
                       web_url = COALESCE(excluded.web_url, ops.web_url)""",
                (f"{ringostat_id}:{op}", ringostat_id, op, OpState.DONE, zoho_id, now_stamp(),
                 owner, web_address(url)),
            )  # fmt: skip
            kind = EventKind.RECONCILED if reconciled else EventKind.DONE
            add_event(db, ringostat_id, kind, now_stamp(), op=op, zoho_id=zoho_id)

    def owner_set(self, ringostat_id: str, op: OpKind) -> str | None:
        """The owner ringodesk set on the operation's record, if it is its to change."""
        with self._lock:
            row = self._db.execute(
                "SELECT owner_id FROM ops WHERE key = ?", (f"{ringostat_id}:{op}",)
            ).fetchone()
        return str(row[0]) if row and row[0] else None

    def updated(
        self, ringostat_id: str, op: OpKind, zoho_id: str, changed: list[str], *,
        owner: str | None = None,
    ) -> None:  # fmt: skip
        """A record brought to the call's last state (the history lists ``changed``);
        ``owner``: the owner ringodesk set now, when it set one."""
        with self._write() as db:
            if owner is not None:
                db.execute(
                    "UPDATE ops SET owner_id = ? WHERE key = ?", (owner, f"{ringostat_id}:{op}")
                )
            add_event(
                db, ringostat_id, EventKind.UPDATED, now_stamp(), op=op, zoho_id=zoho_id,
                detail=", ".join(changed),
            )  # fmt: skip

    def recovered(self, ringostat_id: str, op: OpKind, zoho_id: str) -> bool:
        """A record found in Zoho by its marker (``recovery``): done. False if known done."""
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO ops (key, ringostat_id, op, state, zoho_id, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET
                       state = excluded.state, zoho_id = excluded.zoho_id,
                       updated_at = excluded.updated_at WHERE ops.state != 'done'""",
                (f"{ringostat_id}:{op}", ringostat_id, op, OpState.DONE, zoho_id, now_stamp()),
            )
            if cursor.rowcount > 0:
                add_event(
                    db, ringostat_id, EventKind.RECOVERED, now_stamp(), op=op, zoho_id=zoho_id
                )
        return cursor.rowcount > 0

    def any_done(self) -> bool:
        """Whether any operation is known done: False for a new or emptied ledger."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM ops WHERE state = 'done' LIMIT 1").fetchone()
        return row is not None

    def note_failure(self, ringostat_id: str, op: OpKind, error: str) -> None:
        """An operation's request was refused or got no answer: Zoho's error, for the
        call's history (the call's state is set by the caller)."""
        with self._write() as db:
            add_event(db, ringostat_id, EventKind.FAILED, now_stamp(), op=op, detail=error)

    def ops_of(self, ringostat_id: str) -> dict[OpKind, OpRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT op, state, zoho_id FROM ops WHERE ringostat_id = ?", (ringostat_id,)
            ).fetchall()
        return {OpKind(r[0]): OpRecord(OpState(r[1]), r[2]) for r in rows}

    def contact_maker(self, contact_id: str) -> str | None:
        """The call whose ``contact`` operation is known to have created ``contact_id``."""
        with self._lock:
            row = self._db.execute(
                "SELECT ringostat_id FROM ops WHERE op = ? AND state = ? AND zoho_id = ? LIMIT 1",
                (OpKind.CONTACT, OpState.DONE, contact_id),
            ).fetchone()
        return str(row[0]) if row else None

    # -- contacts by number --------------------------------------------------------------
    def contact(self, number: str) -> ContactRecord | None:
        """What the ledger knows of a client number's contact."""
        if self.empty:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT state, contact_id FROM contacts WHERE number = ?", (number,)
            ).fetchone()
        return ContactRecord(OpState(row[0]), row[1]) if row else None

    def intend_contact(self, number: str) -> None:
        with self._write() as db:
            db.execute(
                """INSERT INTO contacts (number, state, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (number) DO NOTHING""",
                (number, OpState.INTENDED, now_stamp()),
            )

    def remember_contact(self, number: str, contact_id: str) -> None:
        with self._write() as db:
            db.execute(
                """INSERT INTO contacts (number, contact_id, state, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (number) DO UPDATE SET contact_id = excluded.contact_id,
                       state = excluded.state, updated_at = excluded.updated_at""",
                (number, contact_id, OpState.DONE, now_stamp()),
            )

    def forget_contact(self, number: str, contact_id: str) -> None:
        """Zoho no longer knows ``contact_id`` (merged or deleted): the number is unlinked,
        and looked up again by the next call that needs it."""
        with self._write() as db:
            db.execute(
                "DELETE FROM contacts WHERE number = ? AND contact_id = ?", (number, contact_id)
            )

    # -- quarantine, files, meta ---------------------------------------------------------
    def quarantine(
        self,
        key: str,
        source: str,
        line: int,
        ringostat_id: str | None,
        reason: str,
        *,
        field: str | None = None,
    ) -> bool:
        """Record a bad row; True when it was not quarantined before (new in this run)."""
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO quarantine
                       (key, source, line, ringostat_id, reason, first_seen, field)
                   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING""",
                (key, source, line, ringostat_id, reason, now_stamp(), field),
            )
            return cursor.rowcount > 0

    def quarantined_rows(self) -> list[QuarantinedRow]:
        """Every row in quarantine, oldest first."""
        if self.empty:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid AS id, * FROM quarantine ORDER BY first_seen, rowid"
            ).fetchall()
        return [quarantined_row(r) for r in rows]

    def drop_quarantined(self, ids: list[int] | None) -> int:
        """Forget quarantined rows by id (None: all of them); the number dropped."""
        with self._write() as db:
            if ids is None:
                return db.execute("DELETE FROM quarantine").rowcount
            marks = ", ".join("?" for _ in ids)
            return db.execute(f"DELETE FROM quarantine WHERE rowid IN ({marks})", ids).rowcount

    def close_quarantined(self, ringostat_id: str, prefix: str) -> int:
        """Forget the call's quarantined rows (keys from ``prefix``): it was read complete."""
        with self._write() as db:
            sql = "DELETE FROM quarantine WHERE key >= ? AND key < ? AND ringostat_id = ?"
            end = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # a range on the primary key: cheap
            return int(db.execute(sql, (prefix, end, ringostat_id)).rowcount)

    def is_quarantined(self, key: str) -> bool:
        if self.empty:
            return False
        with self._lock:
            row = self._db.execute("SELECT 1 FROM quarantine WHERE key = ?", (key,)).fetchone()
        return row is not None

    def quarantine_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])

    def file_digest(self, path: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT digest FROM files WHERE path = ?", (path,)).fetchone()
        return str(row[0]) if row else None

    def remember_file(self, path: str, digest: str) -> None:
        with self._write() as db:
            db.execute(
                """INSERT INTO files (path, digest, read_at) VALUES (?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET digest = excluded.digest,
                       read_at = excluded.read_at""",
                (path, digest, now_stamp()),
            )

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def integrity_ok(self) -> bool:
        with self._lock:
            row = self._db.execute("PRAGMA quick_check").fetchone()
        return bool(row) and str(row[0]) == "ok"
