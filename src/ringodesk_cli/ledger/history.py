"""What happened to each call, read from the ledger alone (no Zoho request): the rows of
`ringodesk log`, the story of `ringodesk log show`, and the calls `ringodesk retry` takes.

A call's status in the log is its ledger state in plain words: ``delivered``, ``pending``
(not yet sent, or changed since and waiting for its update), ``failed`` (Zoho refused it),
``in-progress`` (still IN PROGRESS at Ringostat) or ``quarantined`` (an export row that could
not become a call). What it became in Zoho is the ids its operations were done with, each
with a link to Zoho Desk's web UI (see ``WebLinks``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringodesk_cli.errors import UsageError
from ringodesk_cli.ledger.records import call_row
from ringodesk_cli.ledger.store import LEDGER_FILE, CallRow, CallState, Ledger

STATUSES = ("delivered", "pending", "failed", "quarantined", "in-progress")
_STATUS_OF = {
    CallState.DELIVERED: "delivered",
    CallState.PENDING: "pending",
    CallState.CHANGED: "pending",
    CallState.FAILED: "failed",
    CallState.WAITING: "in-progress",
}
_STATES_OF = {
    status: tuple(str(s) for s, st in _STATUS_OF.items() if st == status) for status in STATUSES
}
# The operations in the order a call makes them; the web UI's module of each record.
_OPS = ("contact", "ticket", "call", "task")
_MODULES = {"contact": "Contacts", "ticket": "Cases", "call": "Calls", "task": "Tasks"}


@dataclass(frozen=True)
class WebLinks:
    """Built links, the fallback for records made before the ledger kept the ``webUrl``
    Zoho answered each create with (that one is shown whenever known):
    ``{desk}/support/{portal}/ShowHomePage.do#{Module}/dv/{id}`` (module ``Cases`` for
    tickets). Without the portal name (``zoho.portal``) there is no built link.
    docs/zoho-readings.md says why this shape."""

    desk_url: str | None
    portal: str | None

    def url(self, op: str, zoho_id: str) -> str | None:
        if not self.desk_url or not self.portal:
            return None
        return f"{self.desk_url}/support/{self.portal}/ShowHomePage.do#{_MODULES[op]}/dv/{zoho_id}"

    @classmethod
    def of(cls, settings: Any) -> WebLinks:
        from ringodesk_cli.zoho.regions import DATA_CENTERS

        desk = settings.get("zoho.desk_url")
        if not desk:
            dc = DATA_CENTERS.get(str(settings.get("zoho.region")))
            desk = dc.desk_url if dc else None
        return cls(str(desk).rstrip("/") if desk else None, settings.get("zoho.portal"))


@dataclass(frozen=True)
class LogQuery:
    """``since``: an ISO time in UTC (None: all); ``number``: an E.164 client number;
    ``status``: one of ``STATUSES``; ``limit``: the newest this many (0: no limit)."""

    since: str | None = None
    number: str | None = None
    status: str | None = None
    limit: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise UsageError(f"--status must be one of {', '.join(STATUSES)}")


@dataclass(frozen=True)
class LogEntry:
    """One line of the log. ``time`` is the call's start, ISO 8601 in UTC."""

    ringostat_id: str | None
    time: str
    status: str
    direction: str | None = None
    client_number: str | None = None
    employee: str | None = None
    outcome: str | None = None  # Ringostat's disposition, e.g. ANSWERED, NO ANSWER
    error: str | None = None  # Zoho's refusal (failed), or the quarantine reason
    attempts: int = 0
    zoho: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ringostat_id": self.ringostat_id,
            "time": self.time,
            "status": self.status,
            "direction": self.direction,
            "client_number": self.client_number,
            "employee": self.employee,
            "outcome": self.outcome,
            "error": self.error,
            "attempts": self.attempts,
            "zoho": self.zoho,
        }


@dataclass(frozen=True)
class Event:
    at: str
    kind: str
    op: str | None
    zoho_id: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "kind": self.kind,
            "op": self.op,
            "zoho_id": self.zoho_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CallStory:
    entry: LogEntry
    source: str | None
    line: int | None
    events: list[Event]
    quarantine: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        data = self.entry.as_dict()
        data["source"] = self.source
        data["line"] = self.line
        data["events"] = [e.as_dict() for e in self.events]
        data["quarantine"] = self.quarantine
        return data


@contextmanager
def _reading(state_dir: Path) -> Iterator[sqlite3.Connection | None]:
    from ringodesk_cli.ledger.opening import blank, connect

    path = state_dir / LEDGER_FILE
    if blank(path):  # no ledger yet, or one emptied to 0 bytes
        yield None
        return

    db = connect(path, readonly=True)  # a damaged ledger: a StateError naming the way out
    db.row_factory = sqlite3.Row
    try:
        yield db
    finally:
        db.close()


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))
    return row.fetchone() is not None


def _employee(record: dict[str, Any]) -> str | None:
    employee = record.get("employee")
    if not employee:
        return None
    return " / ".join(str(p) for p in employee if p) or None


# One done operation: Zoho's id and the ``webUrl`` its create answered (None before the
# ledger kept it, or when the record was found again through a list without one).
Done = tuple[str, str | None]


def _zoho(ops: dict[str, list[Done]], links: WebLinks) -> dict[str, Any]:
    def link(op: str, done: Done) -> dict[str, Any]:
        # Zoho's own webUrl; a built link only for records made before it was kept.
        zoho_id, web_url = done
        return {"id": zoho_id, "url": web_url or links.url(op, zoho_id)}

    data: dict[str, Any] = {}
    for op in ("contact", "ticket", "call"):
        if ops.get(op):
            data[op] = link(op, ops[op][0])
    data["tasks"] = [link("task", d) for d in ops.get("task", [])]
    return data


def _entry(row: sqlite3.Row, ops: dict[str, list[Done]], links: WebLinks) -> LogEntry:
    record = json.loads(row["record"])
    state = CallState(row["state"])
    return LogEntry(
        ringostat_id=row["ringostat_id"],
        time=row["started_at"],
        status=_STATUS_OF[state],
        direction=record.get("direction"),
        client_number=row["client_number"],
        employee=_employee(record),
        outcome=record.get("disposition"),
        error=row["error"],
        attempts=int(row["attempts"]),
        zoho=_zoho(ops, links),
    )


def _ops_by_call(db: sqlite3.Connection, where: str, args: Sequence[Any]) -> dict[str, Any]:
    """Done operations of the selected calls: ringostat id -> op -> [(zoho id, webUrl)]."""
    found: dict[str, dict[str, list[Done]]] = {}
    # A ledger written before web_url was kept (read-only here, so not upgraded) has none.
    columns = {str(r[1]) for r in db.execute("PRAGMA table_info(ops)")}
    url = "o.web_url" if "web_url" in columns else "NULL"
    rows = db.execute(
        f"SELECT o.ringostat_id, o.op, o.zoho_id, {url} FROM ops o JOIN calls c "
        f"ON c.ringostat_id = o.ringostat_id WHERE o.state = 'done' AND {where}",
        args,
    )
    for rid, op, zoho_id, web_url in rows:
        found.setdefault(rid, {}).setdefault(op, []).append((zoho_id, web_url))
    return found


def list_calls(state_dir: Path, query: LogQuery, links: WebLinks) -> list[LogEntry]:
    """The calls matching ``query``, newest first."""
    with _reading(state_dir) as db:
        if db is None:
            return []
        entries: list[LogEntry] = []
        if query.status != "quarantined":
            entries = _calls(db, query, links)
        if query.status in (None, "quarantined") and query.number is None:
            entries.extend(_quarantined(db, query.since))
    entries.sort(key=lambda e: e.time, reverse=True)
    return entries[: query.limit] if query.limit else entries


def older_calls(state_dir: Path, before: str) -> tuple[int, str | None]:
    """(How many calls started before ``before``, the newest of their start times): what
    `log` tells when its window (which counts each call's own date) shows nothing."""
    with _reading(state_dir) as db:
        if db is None:
            return 0, None
        row = db.execute(
            "SELECT COUNT(*), MAX(started_at) FROM calls WHERE started_at < ?", (before,)
        ).fetchone()
    return int(row[0]), (str(row[1]) if row[1] else None)


def _calls(db: sqlite3.Connection, query: LogQuery, links: WebLinks) -> list[LogEntry]:
    clauses, args = ["1"], []
    if query.since is not None:
        clauses.append("c.started_at >= ?")
        args.append(query.since)
    if query.number is not None:
        clauses.append("c.client_number = ?")
        args.append(query.number)
    if query.status is not None:
        states = _STATES_OF[query.status]
        clauses.append(f"c.state IN ({', '.join('?' for _ in states)})")
        args.extend(states)
    where = " AND ".join(clauses)
    tail = " ORDER BY c.started_at DESC" + (f" LIMIT {int(query.limit)}" if query.limit else "")
    rows = db.execute(f"SELECT * FROM calls c WHERE {where}{tail}", args).fetchall()
    ops = _ops_by_call(db, where, args) if rows else {}
    return [_entry(r, ops.get(r["ringostat_id"], {}), links) for r in rows]


def _quarantined(db: sqlite3.Connection, since: str | None) -> list[LogEntry]:
    query, args = "SELECT * FROM quarantine", []
    if since is not None:
        query += " WHERE first_seen >= ?"
        args.append(since[:19])  # first_seen is written ...T10:42:00.123456Z
    return [
        LogEntry(
            ringostat_id=r["ringostat_id"],
            time=r["first_seen"],
            status="quarantined",
            error=f"{r['source']}:{r['line']}: {r['reason']}",
        )
        for r in db.execute(query, args)
    ]


def call_story(state_dir: Path, ringostat_id: str, links: WebLinks) -> CallStory:
    """The call's record in the log and every event of its history, oldest first.
    A call the ledger does not know (nor its quarantine) is a UsageError."""
    with _reading(state_dir) as db:
        row = (
            db.execute("SELECT * FROM calls WHERE ringostat_id = ?", (ringostat_id,)).fetchone()
            if db is not None
            else None
        )
        bad = _quarantine_of(db, ringostat_id) if db is not None else []
        if row is None and not bad:
            raise UsageError(f"no call {ringostat_id!r} in this profile's ledger")
        if row is None:
            entry = LogEntry(
                ringostat_id, bad[0]["first_seen"], "quarantined", error=bad[0]["reason"]
            )
            return CallStory(entry, bad[0]["file"], bad[0]["line"], [], bad)
        assert db is not None
        ops = _ops_by_call(db, "c.ringostat_id = ?", (ringostat_id,))
        events = _events(db, ringostat_id)
    return CallStory(
        _entry(row, ops.get(ringostat_id, {}), links), row["source"], row["line"], events, bad
    )


def _quarantine_of(db: sqlite3.Connection, ringostat_id: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT rowid AS id, * FROM quarantine WHERE ringostat_id = ? ORDER BY first_seen",
        (ringostat_id,),
    )
    return [
        {
            "id": r["id"],
            "file": r["source"],
            "line": r["line"],
            "reason": r["reason"],
            "first_seen": r["first_seen"],
        }
        for r in rows
    ]


def _events(db: sqlite3.Connection, ringostat_id: str) -> list[Event]:
    if not _has_table(db, "events"):  # a ledger from before the history was kept
        return []
    rows = db.execute(
        "SELECT at, kind, op, zoho_id, detail FROM events WHERE ringostat_id = ? ORDER BY id",
        (ringostat_id,),
    )
    return [Event(*r) for r in rows]


def retry_rows(
    ledger: Ledger, ids: Sequence[str], *, failed: bool
) -> tuple[list[CallRow], list[str]]:
    """The calls `ringodesk retry` re-attempts: ``ids`` (each must be in the ledger) and,
    with ``failed``, every failed call; and a note for each named call with nothing to retry
    (delivered, still in progress at Ringostat)."""
    rows: dict[str, CallRow] = {}
    notes: list[str] = []
    for rid in ids:
        row = ledger.get_call(rid)
        if row is None:
            raise UsageError(
                f"no call {rid!r} in this profile's ledger",
                hint="`ringodesk log` lists the calls it knows",
            )
        if row.state in (CallState.FAILED, CallState.PENDING, CallState.CHANGED):
            rows[rid] = row
        else:
            notes.append(f"{rid}: {_STATUS_OF[row.state]}, nothing to retry")
    if failed:
        with ledger.reading() as db:
            found = db.execute(
                "SELECT * FROM calls WHERE state = ? ORDER BY started_at", (CallState.FAILED,)
            ).fetchall()
        rows.update((r["ringostat_id"], call_row(r)) for r in found)
    return list(rows.values()), notes
