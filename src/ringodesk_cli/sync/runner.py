"""The sync runner: ledger first, then Zoho Desk, never twice.

Flow: export rows -> ``ingest`` (ledger: new / already delivered / changed / waiting / bad)
-> ``deliver`` (first each number's earliest call, which finds or makes the contact, then all
other calls; threads twice ``zoho.concurrency``, requests in flight capped at it) -> each
operation written ``intended`` before its request and ``done`` with Zoho's id after. An
operation found ``intended`` (a crash between request and commit) is reconciled against Zoho
through the ``[rs:<id>]`` marker before anything is re-created.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import (
    AuthError,
    ExitCode,
    OutcomeUnknownError,
    RingodeskError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.ringostat.records import BadRow, CallRecord, Outcome
from ringodesk_cli.sync import ledger as L
from ringodesk_cli.sync.ledger import Ledger
from ringodesk_cli.sync.lookup import ZohoLookup
from ringodesk_cli.sync.planner import (
    CONTACT,
    TICKET,
    CallPlan,
    Policy,
    marker,
    plan_call,
    planned_operations,
    substitute,
)
from ringodesk_cli.sync.record_json import from_json, to_json

if TYPE_CHECKING:
    # Imported for types only: a dry run with --offline never loads requests.
    from ringodesk_cli.zoho.desk import DeskClient


@dataclass
class Summary:
    read: int = 0
    new: int = 0
    delivered: int = 0
    updated: int = 0
    already_delivered: int = 0
    waiting: int = 0
    failed: int = 0
    quarantined: int = 0  # bad rows first seen in this run
    quarantined_before: int = 0
    pending: int = 0
    ambiguous_contacts: int = 0
    unknown_outcomes: int = 0  # creates sent without an answer; pending, reconciled next run
    stopped: str | None = None
    stop_code: int | None = None
    stop_hint: str | None = None
    failures: list[str] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        if self.stop_code is not None:
            return self.stop_code
        if self.unknown_outcomes:
            return ExitCode.UNAVAILABLE
        if self.failed or self.quarantined:
            return ExitCode.PARTIAL
        return ExitCode.OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "new": self.new,
            "delivered": self.delivered,
            "updated": self.updated,
            "already_delivered": self.already_delivered,
            "waiting_in_progress": self.waiting,
            "failed": self.failed,
            "quarantined": self.quarantined,
            "quarantined_before": self.quarantined_before,
            "pending": self.pending,
            "ambiguous_contacts": self.ambiguous_contacts,
            "unknown_outcomes": self.unknown_outcomes,
            "stopped": self.stopped,
            "hint": self.stop_hint
            or (
                "some creates got no answer from Zoho; those calls stay pending and the next "
                "run checks for them before creating anything (ringodesk sync --replay 3d)"
                if self.unknown_outcomes
                else None
            ),
            "failures": self.failures,
            "bad_rows": self.bad_rows,
            "requests": self.requests,
            "planned": self.planned,
            "dry_run": self.dry_run,
            "exit_code": int(self.exit_code),
        }


# What a changed call updates on its activity (DECISIONS.md: PATCH, never a second create).
_CALL_UPDATE_KEYS = ("subject", "status", "duration", "description", "startTime", "ownerId")


# This many creates in a row without an answer: Zoho is failing, not one request.
UNKNOWN_STREAK_LIMIT = 5


class _Stop(Exception):
    """Internal: the whole run stops (auth broken, Zoho unavailable)."""


@dataclass
class Runner:
    desk: DeskClient | None
    ledger: Ledger
    policy: Policy
    default_region: str
    concurrency: int = 5
    dry_run: bool = False
    offline: bool = False
    on_progress: Callable[[int], None] | None = None
    on_plan: Callable[[CallRecord, list[str]], None] | None = None  # dry run, per record
    replay_since: str | None = None
    summary: Summary = field(default_factory=Summary)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._attempt: dict[str, CallRecord] = {}
        self._planned: Counter[str] = Counter()
        self._unknown_streak = 0
        self._lookup = ZohoLookup(self.desk, self.default_region) if self.desk is not None else None
        self._seen_numbers: SeenNumbers | None = None
        self._number_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self.summary.dry_run = self.dry_run

    @property
    def lookup(self) -> ZohoLookup:
        assert self._lookup is not None, "look-ups need a Desk client"
        return self._lookup

    # -- ingest --------------------------------------------------------------------------
    def ingest(self, items: Iterable[CallRecord | BadRow]) -> None:
        for item in items:
            if isinstance(item, BadRow):
                self._bad_row(item)
                continue
            self.summary.read += 1
            self._ingest_record(item)

    def _bad_row(self, bad: BadRow) -> None:
        self.summary.read += 1
        key = _quarantine_key(bad)
        if self.dry_run:
            new = not self.ledger.is_quarantined(key)
        else:
            new = self.ledger.quarantine(
                key, bad.source, bad.line, bad.ringostat_id, f"{bad.field}: {bad.reason}"
            )
        if new:
            self.summary.quarantined += 1
            self.summary.bad_rows.append(str(bad))
        else:
            self.summary.quarantined_before += 1

    def _ingest_record(self, record: CallRecord) -> None:
        row = self.ledger.get_call(record.ringostat_id)
        # The digest is stored by a real run; a dry run needs it only to compare.
        digest = record.content_hash() if (row is not None or not self.dry_run) else ""
        if record.outcome is Outcome.IN_PROGRESS:
            # Not delivered yet: a later export shows it completed (DECISIONS.md).
            if row is None or row.state == L.WAITING:
                self._store(record, digest, L.WAITING)
            self.summary.waiting += 1
            return
        if row is None:
            self.summary.new += 1
            self._store(record, digest, L.PENDING)
            self._queue(record, changed=False)
        elif row.state == L.DELIVERED:
            if row.delivered_hash == digest:
                self.summary.already_delivered += 1
            else:
                self._store(record, digest, L.CHANGED)
                self._queue(record, changed=True)
        else:
            if row.state == L.WAITING:
                self.summary.new += 1
            state = L.CHANGED if row.state == L.CHANGED else L.PENDING
            if row.state == L.FAILED:
                state = L.FAILED
            if self.dry_run and self._replayed(row):
                return  # counted once, by the replay
            self._store(record, digest, state)
            self._queue(record, changed=state == L.CHANGED)

    def _queue(self, record: CallRecord, *, changed: bool) -> None:
        if self.dry_run:
            # Planned as it is read: a dry run keeps no record, so its memory stays flat
            # whatever the export's size (issue 6: local overhead).
            self._plan_dry(record, changed=changed)
        else:
            self._attempt[record.ringostat_id] = record

    def _replayed(self, row: L.CallRow) -> bool:
        return self.replay_since is not None and row.started_at >= self.replay_since

    def _store(self, record: CallRecord, digest: str, state: str) -> None:
        if self.dry_run:
            return
        self.ledger.upsert_call(
            ringostat_id=record.ringostat_id,
            started_at=record.started_at.isoformat(),
            client_number=record.client_number,
            content_hash=digest,
            state=state,
            record=to_json(record),
            source=record.source,
            line=record.line,
        )

    def add_replay(self, since_utc: str) -> int:
        """Everything pending, failed or changed from ``since_utc`` on joins this run. (A dry
        run with a replay sets ``replay_since`` before ingest, so nothing counts twice.)"""
        added = 0
        for row in self.ledger.calls_to_retry(since_utc):
            if self.dry_run:
                self._plan_dry(from_json(row.record), changed=row.state == L.CHANGED)
                added += 1
            elif row.ringostat_id not in self._attempt:
                self._attempt[row.ringostat_id] = from_json(row.record)
                added += 1
        return added

    @property
    def to_attempt(self) -> int:
        return len(self._attempt)

    # -- deliver -------------------------------------------------------------------------
    def deliver(self) -> Summary:
        groups: dict[str, list[CallRecord]] = defaultdict(list)
        for record in self._attempt.values():
            groups[record.client_number].append(record)
        for calls in groups.values():
            calls.sort(key=lambda r: (r.started_at, r.ringostat_id))
        if self.dry_run:
            self.summary.planned = dict(self._planned)
        else:
            # Twice as many threads as request slots: while one thread writes the ledger (an
            # fsync per operation) another holds its slot, so Zoho's concurrency is used fully.
            assert self.desk is not None
            self.desk.limit_in_flight(self.concurrency)
            workers = max(1, 2 * self.concurrency)
            # Two waves. First each number's earliest call: it finds or creates the contact
            # and, for a new caller, the ticket (the first inbound call's, R4/DECISIONS). Then
            # every other call, in parallel even within a number: once the contact exists they
            # depend on nothing but it, and one busy number must not become the run's tail.
            ordered = sorted(groups.values(), key=lambda c: (-len(c), c[0].started_at))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
                for future in [pool.submit(self._deliver_group, c[:1]) for c in ordered]:
                    future.result()
                # A number whose first call could not establish its contact (no answer, a
                # refusal) waits for the next run: its first call must stay the one that
                # makes the contact and gets the new caller's ticket.
                ready = [c for c in ordered if len(c) > 1 and self._contact_ready(c[0])]
                rest = [pool.submit(self._deliver_group, [r]) for c in ready for r in c[1:]]
                for future in rest:
                    future.result()
        if self.desk is not None:
            self.summary.requests = dict(sorted(self.desk.stats.items()))
            self.summary.ambiguous_contacts = self.lookup.ambiguous
        if not self.dry_run:
            self.summary.pending = sum(
                1
                for rid in self._attempt
                if (row := self.ledger.get_call(rid)) is not None
                and row.state in (L.PENDING, L.CHANGED)
            )
        return self.summary

    def _contact_ready(self, head: CallRecord) -> bool:
        known = self.ledger.contact(head.client_number)
        return known is not None and known[0] == L.DONE and bool(known[1])

    def _deliver_group(self, calls: list[CallRecord]) -> None:
        for record in calls:
            if self._stop.is_set():
                return
            try:
                self._deliver_one(record)
            except _Stop:
                return
            finally:
                if self.on_progress:
                    self.on_progress(1)

    def _deliver_one(self, record: CallRecord) -> None:
        assert self.desk is not None
        plan = plan_call(record, self.policy)
        row = self.ledger.get_call(record.ringostat_id)
        try:
            if row is not None and row.state == L.CHANGED and row.delivered_hash:
                self._update(plan)
                with self._lock:
                    self.summary.updated += 1
            else:
                self._create_all(plan)
                with self._lock:
                    self.summary.delivered += 1
            self.ledger.set_call_state(
                record.ringostat_id, L.DELIVERED, delivered_hash=record.content_hash()
            )
            self._unknown_streak = 0
        except OutcomeUnknownError as exc:
            # One create got no answer: this call stays pending (its operation "intended",
            # reconciled by the next run) and the others go on -- unless Zoho keeps failing.
            with self._lock:
                self.summary.unknown_outcomes += 1
                self._unknown_streak += 1
                streak = self._unknown_streak
            if streak >= UNKNOWN_STREAK_LIMIT:
                self._halt(exc)
                raise _Stop from None
        except (AuthError, ZohoUnavailableError) as exc:
            self._halt(exc)
            raise _Stop from None
        except ZohoError as exc:
            # A refusal of this record only (422 and the like): the rest of the run goes on.
            self.ledger.set_call_state(record.ringostat_id, L.FAILED, error=str(exc))
            with self._lock:
                self.summary.failed += 1
                self.summary.failures.append(f"{record.ringostat_id}: {exc}")

    def _halt(self, exc: RingodeskError) -> None:
        with self._lock:
            if self.summary.stopped is None:
                self.summary.stopped = str(exc)
                self.summary.stop_code = int(exc.exit_code)
                self.summary.stop_hint = exc.hint
        self._stop.set()

    # -- the operations ------------------------------------------------------------------
    def _create_all(self, plan: CallPlan) -> None:
        assert self.desk is not None
        record = plan.record
        contact_id, new_caller = self._ensure_contact(plan)
        ids: dict[str, str | None] = {CONTACT: contact_id}
        ops = plan.operations(new_caller=new_caller)
        done = self.ledger.ops_of(record.ringostat_id)
        ticket_state = done.get("ticket", ("", None))[0]
        if "ticket" in ops or ticket_state == L.DONE:
            assert plan.ticket is not None
            ids[TICKET] = self._ensure(plan, "ticket", substitute(plan.ticket, ids), contact_id)
        elif ticket_state == L.INTENDED:
            # No longer a new caller (another call made the contact meanwhile): adopt a
            # ticket a lost POST may have created, but never create one now.
            found = self.lookup.lost_create("ticket", marker(record.ringostat_id), contact_id, None)
            if found is not None:
                ids[TICKET] = str(found["id"])
                self.ledger.done(record.ringostat_id, "ticket", str(found["id"]))
        call_body = substitute(plan.call, ids)
        call_id = self._ensure(plan, "call", call_body, contact_id)
        if done.get("call", ("", None))[0] == L.DONE:
            # A partial delivery retried: the activity was created by an earlier attempt,
            # maybe from older content (the call was seen again since), so bring it up to date.
            self.desk.update_call(call_id, {k: call_body[k] for k in _CALL_UPDATE_KEYS})
        for name, body in plan.tasks:
            self._ensure(plan, name, substitute(body, ids), contact_id)

    def _update(self, plan: CallPlan) -> None:
        assert self.desk is not None
        state = self.ledger.op(plan.record.ringostat_id, "call")
        if state is None or state[0] != L.DONE or not state[1]:
            self._create_all(plan)
            return
        body = {k: v for k, v in plan.call.items() if k in _CALL_UPDATE_KEYS}
        self.desk.update_call(state[1], body)

    def _ensure(self, plan: CallPlan, op: str, body: dict[str, Any], contact_id: str) -> str:
        """Create once: done -> reuse; intended -> reconcile through the marker first."""
        assert self.desk is not None
        rid = plan.record.ringostat_id
        state = self.ledger.op(rid, op)
        if state is not None and state[0] == L.DONE and state[1]:
            return state[1]
        if state is not None and state[0] == L.INTENDED:
            found = self.lookup.lost_create(op, marker(rid), contact_id, body.get("ticketId"))
            if found is not None:
                found_id = str(found["id"])
                if op == "call":
                    # The lost POST may have carried older content (the call was seen again
                    # since, e.g. with its recording): bring the activity up to date.
                    stale = {k: body[k] for k in _CALL_UPDATE_KEYS if found.get(k) != body.get(k)}
                    if stale:
                        self.desk.update_call(found_id, stale)
                self.ledger.done(rid, op, found_id)
                return found_id
        self.ledger.intend(rid, op)
        create = {
            "ticket": self.desk.create_ticket,
            "call": self.desk.create_call,
            "task": self.desk.create_task,
        }[op]
        created = create(body)
        zoho_id = str(created["id"])
        self.ledger.done(rid, op, zoho_id)
        return zoho_id

    def _ensure_contact(self, plan: CallPlan) -> tuple[str, bool]:
        """The contact for the client number, and whether this call made it (a new caller)."""
        assert self.desk is not None
        with self._number_lock(plan.record.client_number):
            return self._ensure_contact_locked(plan)

    def _number_lock(self, number: str) -> threading.Lock:
        # Calls of one number may run in parallel: only one of them finds or makes the contact.
        with self._lock:
            return self._number_locks[number]

    def _ensure_contact_locked(self, plan: CallPlan) -> tuple[str, bool]:
        assert self.desk is not None
        record = plan.record
        number = record.client_number
        rid = record.ringostat_id
        known = self.ledger.contact(number)
        mine = self.ledger.op(rid, "contact")
        if known is not None and known[0] == L.DONE and known[1]:
            # A new caller if this call made the contact: its own create is done with that id,
            # or its create's outcome was lost and no other call is known to have made it
            # (an intent whose POST failed, e.g. tokens revoked, while another call made it).
            if mine is None:
                return known[1], False
            if mine[0] == L.DONE:
                return known[1], mine[1] == known[1]
            maker = self.ledger.contact_maker(known[1])
            return known[1], maker in (None, rid)
        found = self.lookup.contact_by_number(number)
        if found is None and known is not None:
            # An intent without a result: a run crashed after (maybe) POSTing this contact.
            # Search lags behind writes (DECISIONS.md), so look among the newest contacts too.
            found = self.lookup.recent_contact(number)
        if found is not None:
            self.ledger.remember_contact(number, found)
            if mine is not None:
                self.ledger.done(rid, "contact", found)
            # An intent left by a crash of *this* call means the contact is ours: new caller.
            return found, mine is not None
        self.ledger.intend_contact(number)
        self.ledger.intend(rid, "contact")
        created = self.desk.create_contact(dict(plan.contact))
        contact_id = str(created["id"])
        self.ledger.remember_contact(number, contact_id)
        self.ledger.done(rid, "contact", contact_id)
        return contact_id, True

    # -- dry run -------------------------------------------------------------------------
    def _plan_dry(self, record: CallRecord, *, changed: bool) -> None:
        planned = ["PATCH /calls/{id}"] if changed else self._dry_ops(record)
        for op in planned:
            self._planned[op] += 1
        if self.on_plan is not None:
            self.on_plan(record, planned)

    def _dry_ops(self, record: CallRecord) -> list[str]:
        number = record.client_number
        if self._seen_numbers is None:
            self._seen_numbers = SeenNumbers()
        exists = not self._seen_numbers.add(number)
        if not exists:
            known = self.ledger.contact(number)
            exists = known is not None and known[0] == L.DONE and bool(known[1])
            if not exists and not self.offline and self.desk is not None:
                exists = self.lookup.contact_by_number(number) is not None
        ops = [] if exists else ["POST /contacts"]
        ops.extend(
            f"POST /{op}s" for op in planned_operations(record, self.policy, new_caller=not exists)
        )
        return ops


class SeenNumbers:
    """The client numbers a dry run has met, in a private temporary SQLite file (deleted on
    close) with a small page cache: a set of 200,000 numbers in memory would make the dry
    run's memory grow with the export (issue 6: flat memory)."""

    def __init__(self) -> None:
        # An empty file name: SQLite's private temporary on-disk database.
        self._db = sqlite3.connect("")
        self._db.execute("PRAGMA cache_size = -1024")  # KiB
        self._db.execute("CREATE TABLE seen (number TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, number: str) -> bool:
        """True when ``number`` was not seen before."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (number,))
        return cursor.rowcount == 1


def _quarantine_key(bad: BadRow) -> str:
    if bad.ringostat_id:
        return f"id:{bad.ringostat_id}:{bad.field}:{bad.reason}"
    digest = hashlib.sha1(f"{bad.source}:{bad.line}:{bad.reason}".encode()).hexdigest()
    return f"row:{digest}"
