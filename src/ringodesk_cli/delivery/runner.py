"""The live sync runner: ledger first, then Zoho Desk, never twice.

Flow: export rows -> ``ingest`` (ledger: new / already delivered / changed / waiting / bad)
-> ``deliver`` (each number's earliest call, which finds or makes the contact, and as soon
as it is done that number's other calls; threads twice ``zoho.concurrency``, requests in
flight capped at it) -> each operation written ``intended`` before its request and ``done``
with Zoho's id after. An operation found ``intended`` (a crash between request and commit) is
reconciled against Zoho through the ``[rs:<id>]`` marker before anything is re-created. The
dry run is ``preview.Preview``: it shares the ingest rules (``intake``) and the planner.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from ringodesk_cli.contacts.finder import ContactFinder, contact_gone
from ringodesk_cli.contacts.index import ContactIndex
from ringodesk_cli.delivery.follow import follow_tasks, follow_ticket
from ringodesk_cli.delivery.intake import admit, quarantine_key
from ringodesk_cli.delivery.reconcile import Reconciler, stale_fields
from ringodesk_cli.delivery.summary import Summary
from ringodesk_cli.errors import (
    AuthError,
    Interrupted,
    OutcomeUnknownError,
    RingodeskError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.interrupts import result_of
from ringodesk_cli.ledger.record_json import from_json
from ringodesk_cli.ledger.store import CallRow, CallState, Ledger, OpKind, OpState
from ringodesk_cli.ringostat.records import BadRow, CallRecord
from ringodesk_cli.rules.open_tickets import OpenTickets, join_or_open
from ringodesk_cli.rules.planner import (
    CONTACT,
    TICKET,
    CallPlan,
    Policy,
    marker,
    plan_call,
    substitute,
)

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient


# What a changed call updates on its existing activity: a PATCH, never a second create.
_CALL_UPDATE_KEYS = ("subject", "status", "duration", "description", "startTime", "ownerId")

# Rows stored per ledger transaction while reading: short enough that a webhook stored
# meanwhile by `serve` waits milliseconds, long enough to save most fsyncs.
INGEST_CHUNK = 100

# This many creates in a row without an answer: Zoho is failing, not one request.
UNKNOWN_STREAK_LIMIT = 5


class _Stop(Exception):
    """Internal: the whole run stops (auth broken, Zoho unavailable)."""


@dataclass
class Runner:
    """Ingests records into the ledger and delivers them. ``desk`` may be None when Zoho
    cannot be reached (tokens revoked): the records are still stored, pending, and the
    caller reports the stop without calling ``deliver``."""

    desk: DeskClient | None
    ledger: Ledger
    policy: Policy
    default_region: str
    concurrency: int = 5
    on_progress: Callable[[int], None] | None = None
    summary: Summary = field(default_factory=Summary)
    contact_index: ContactIndex | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.halted = threading.Event()
        self._attempt: dict[str, CallRecord] = {}
        self._unknown_streak = 0
        self._finder = (
            ContactFinder(self.desk, self.default_region, self.contact_index)
            if self.desk is not None
            else None
        )
        self._reconciler = (
            Reconciler(self.desk, self.default_region, self.policy.department_id)
            if self.desk is not None
            else None
        )
        self._number_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self.open_tickets = OpenTickets(self.ledger, self.desk, self.policy.reuse_window)

    @property
    def finder(self) -> ContactFinder:
        assert self._finder is not None, "look-ups need a Desk client"
        return self._finder

    @property
    def reconciler(self) -> Reconciler:
        assert self._reconciler is not None, "look-ups need a Desk client"
        return self._reconciler

    # -- ingest --------------------------------------------------------------------------
    def ingest(self, items: Iterable[CallRecord | BadRow]) -> None:
        """Stores each record in the ledger and queues what is to be sent. The items may
        come from export files, from Ringostat's API or from anything else that yields
        records. The rows are committed in chunks of ``INGEST_CHUNK`` (``Ledger.batch``),
        each taken from ``items`` before its transaction begins: no write transaction stays
        open while a file or Ringostat's API is read. The caller marks a file or a fetch as
        read only after this returns."""
        pending = iter(items)
        while chunk := list(islice(pending, INGEST_CHUNK)):
            with self.ledger.batch():
                for item in chunk:
                    self._ingest_item(item)

    def _ingest_item(self, item: CallRecord | BadRow) -> None:
        if isinstance(item, BadRow):
            new = self.ledger.quarantine(
                quarantine_key(item),
                item.source,
                item.line,
                item.ringostat_id,
                item.reason,
                field=item.field,
            )
            self.summary.bad_row(str(item), new=new)
            return
        self.summary.read += 1
        self._ingest_record(item)

    def _ingest_record(self, record: CallRecord) -> None:
        verdict = admit(self.ledger, record)
        verdict.count(self.summary)
        if verdict.send:
            self._attempt[record.ringostat_id] = record

    def add_replay(self, since_utc: str | None) -> int:
        """Everything pending, failed or changed from ``since_utc`` on (None: all of it)
        joins this run."""
        return self.add_calls(self.ledger.calls_to_retry(since_utc))

    def add_calls(self, rows: Iterable[CallRow]) -> int:
        """These calls of the ledger join this run (`ringodesk retry`): the same
        create-once rules as any other delivery."""
        added = 0
        for row in rows:
            if row.ringostat_id not in self._attempt:
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
        # Twice as many threads as request slots: while one thread writes the ledger (an
        # fsync per operation) another holds its slot, so Zoho's concurrency is used fully.
        assert self.desk is not None
        self.desk.limit_in_flight(self.concurrency)
        workers = max(1, 2 * self.concurrency)
        # First each number's earliest call: it finds or creates the contact and, for a new
        # caller, the ticket (a new caller's ticket belongs to its first call). As soon as it
        # is done, that number's other calls join the queue, each on its own: once the
        # contact exists they depend on nothing but it, and one busy number must not become
        # the run's tail. No barrier between the two: a slot never waits for the slowest
        # first call. Busiest numbers first, so their other calls are queued early; the
        # queue is first in, first out, so the run ends on those short single calls.
        ordered = sorted(groups.values(), key=lambda c: (-len(c), c[0].started_at))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
            heads = [pool.submit(self._deliver_head, pool, c) for c in ordered]
            for future in [future for head in heads for future in result_of(head)]:
                result_of(future)
        self.summary.requests = dict(sorted(self.desk.stats.items()))
        self.summary.ambiguous_contacts = self.finder.ambiguous
        self.summary.cf_values_dropped = sum(self.desk.dropped_cf.values())
        self.summary.pending = sum(
            1
            for rid in self._attempt
            if (row := self.ledger.get_call(rid)) is not None
            and row.state in (CallState.PENDING, CallState.CHANGED)
        )
        return self.summary

    def stop(self) -> None:
        """No call starts after this; the ones under way stop before their next request
        (their finished operations are in the ledger, the call stays pending)."""
        self.halted.set()

    def _deliver_head(
        self, pool: ThreadPoolExecutor, calls: list[CallRecord]
    ) -> list[Future[None]]:
        """A number's first call, then its other calls queued behind the work already queued.
        A number whose first call could not establish its contact (no answer, a refusal)
        waits for the next run: its first call must stay the one that makes the contact and
        gets the new caller's ticket."""
        self.deliver_group(calls[:1])
        if len(calls) < 2 or self.halted.is_set() or not self.contact_ready(calls[0]):
            return []
        return [pool.submit(self.deliver_group, [record]) for record in calls[1:]]

    def contact_ready(self, head: CallRecord) -> bool:
        known = self.ledger.contact(head.client_number)
        return known is not None and known.done_id is not None

    def deliver_group(self, calls: list[CallRecord]) -> None:
        for record in calls:
            if self.halted.is_set():
                return
            try:
                self._deliver_one(record)
            except _Stop:
                return
            finally:
                if self.on_progress:
                    self.on_progress(1)

    def _deliver_one(self, record: CallRecord) -> None:
        plan = plan_call(record, self.policy)
        row = self.ledger.get_call(record.ringostat_id)
        try:
            if row is not None and row.state is CallState.CHANGED and row.delivered_hash:
                self._update(plan)
                with self._lock:
                    self.summary.updated += 1
            else:
                self._create_all(plan)
                with self._lock:
                    self.summary.delivered += 1
            self.ledger.set_call_state(
                record.ringostat_id, CallState.DELIVERED, delivered_hash=record.content_hash()
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
        except Interrupted:
            # The Desk client was told to stop sending: this call stays pending.
            self.stop()
            raise _Stop from None
        except (AuthError, ZohoUnavailableError) as exc:
            self._halt(exc)
            raise _Stop from None
        except ZohoError as exc:
            # A refusal of this record only (422 and the like): the rest of the run goes on.
            self.ledger.set_call_state(record.ringostat_id, CallState.FAILED, error=str(exc))
            with self._lock:
                self.summary.failed += 1
                self.summary.failures.append(f"{record.ringostat_id}: {exc}")

    def _halt(self, exc: RingodeskError) -> None:
        with self._lock:
            self.summary.stop(exc)
        self.halted.set()

    # -- the operations ------------------------------------------------------------------
    def _create_all(self, plan: CallPlan) -> None:
        try:
            self._create_all_once(plan)
        except ZohoError as exc:
            stale = self._stale_contact(exc, plan.record.client_number)
            if stale is None:
                raise
            # Agents merged or deleted the contact since we linked the number to it: look
            # the number up again (or create its contact), then send. Never a failed call.
            self._forget_contact(plan.record.client_number, stale)
            self._create_all_once(plan)

    def _stale_contact(self, exc: ZohoError, number: str) -> str | None:
        """The contact id linked to ``number`` when ``exc`` says Zoho no longer knows it."""
        known = self.ledger.contact(number)
        return known.done_id if contact_gone(exc) and known is not None else None

    def _forget_contact(self, number: str, contact_id: str) -> None:
        with self._number_lock(number):
            if self.contact_index is not None:
                self.contact_index.drop(contact_id)
            self.ledger.forget_contact(number, contact_id)

    def _create_all_once(self, plan: CallPlan) -> None:
        assert self.desk is not None
        record = plan.record
        contact_id, new_caller = self.ensure_contact(plan)
        ids: dict[str, str | None] = {CONTACT: contact_id}
        ops = plan.operations(new_caller=new_caller)
        known = self.ledger.ops_of(record.ringostat_id)
        ticket = known.get(OpKind.TICKET)
        if plan.reuse_open and not (ticket is not None and ticket.state is OpState.DONE):
            with self._number_lock(record.client_number):
                join_or_open(
                    self.open_tickets, plan, ids, contact_id, new_caller=new_caller,
                    create_ticket=lambda body: self.ensure(plan, OpKind.TICKET, body, contact_id),
                )  # fmt: skip
        elif OpKind.TICKET in ops or (ticket is not None and ticket.state is OpState.DONE):
            assert plan.ticket is not None
            body = substitute(plan.ticket, ids)
            ids[TICKET] = self.ensure(plan, OpKind.TICKET, body, contact_id)
        elif ticket is not None and ticket.intended:
            # No longer a new caller (another call made the contact meanwhile): adopt a
            # ticket a lost POST may have created, but never create one now.
            tag = marker(record.ringostat_id)
            found = self.reconciler.lost_create(OpKind.TICKET, tag, contact_id, None)
            if found is not None:
                ids[TICKET] = str(found["id"])
                self.ledger.done(
                    record.ringostat_id, OpKind.TICKET, str(found["id"]), reconciled=True,
                    url=found.get("webUrl"),
                )  # fmt: skip
        call_body = substitute(plan.call, ids)
        call_id = self.ensure(plan, OpKind.CALL, call_body, contact_id)
        call = known.get(OpKind.CALL)
        if call is not None and call.state is OpState.DONE:
            # A partial delivery retried, or a changed call: the activity was created by an
            # earlier attempt, maybe from older content, so bring it up to date.
            self.desk.update_call(call_id, {k: call_body[k] for k in _CALL_UPDATE_KEYS})
            self.ledger.updated(record.ringostat_id, OpKind.CALL, call_id, list(_CALL_UPDATE_KEYS))
        for name, body in plan.tasks:
            self.ensure(plan, OpKind(name), substitute(body, ids), contact_id)

    def _update(self, plan: CallPlan) -> None:
        """A delivered call seen again with new content: its records follow its last state
        (``follow.py``). The creates run again first: each done one is reused (the call
        activity gets its PATCH), one the new state needs is made once."""
        assert self.desk is not None
        self._create_all(plan)
        follow_ticket(self.desk, self.ledger, plan)
        follow_tasks(self.desk, self.ledger, plan)

    def ensure(
        self, plan: CallPlan, op: OpKind, body: dict[str, Any], contact_id: str, *,
        owned: bool = True,
    ) -> str:  # fmt: skip
        """Create once: done -> reuse; intended -> reconcile through the marker first.
        ``owned``: the owner set here is ringodesk's to change when the call changes (not
        for a before-call ticket, which stays with the senior manager)."""
        assert self.desk is not None
        rid = plan.record.ringostat_id
        known = self.ledger.op(rid, op)
        if known is not None and known.done_id:
            return known.done_id
        if known is not None and known.intended:
            found = self.reconciler.lost_create(
                op, marker(rid), contact_id, body.get("ticketId"),
                since=plan.record.started_at, department=body.get("departmentId"),
            )  # fmt: skip
            if found is not None:
                found_id = str(found["id"])
                if op is OpKind.CALL:
                    # The lost POST may have carried older content (the call was seen again
                    # since, e.g. with its recording): bring the activity up to date, comparing
                    # only what the list returned.
                    stale = stale_fields(found, body, _CALL_UPDATE_KEYS)
                    if stale:
                        self.desk.update_call(found_id, stale)
                self.ledger.done(rid, op, found_id, reconciled=True, url=found.get("webUrl"))
                return found_id
        self.ledger.intend(rid, op)
        create = {
            OpKind.TICKET: self.desk.create_ticket,
            OpKind.CALL: self.desk.create_call,
            OpKind.TASK: self.desk.create_task,
        }[op]
        try:
            created = create(body)
        except ZohoError as exc:
            self.ledger.note_failure(rid, op, str(exc))
            raise
        zoho_id = str(created["id"])
        owner = body.get("assigneeId") or body.get("ownerId") if owned else None
        self.ledger.done(
            rid, op, zoho_id, owner=str(owner) if owner else None, url=created.get("webUrl")
        )
        return zoho_id

    def ensure_contact(self, plan: CallPlan) -> tuple[str, bool]:
        """The contact for the client number, and whether this call made it (a new caller)."""
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
        mine = self.ledger.op(rid, OpKind.CONTACT)
        if known is not None and known.done_id:
            # A new caller if this call made the contact: its own create is done with that id,
            # or its create's outcome was lost and no other call is known to have made it
            # (an intent whose POST failed, e.g. tokens revoked, while another call made it).
            if mine is None:
                return known.done_id, False
            if mine.done_id:
                return known.done_id, mine.done_id == known.done_id
            maker = self.ledger.contact_maker(known.done_id)
            return known.done_id, maker in (None, rid)
        found = self.finder.contact_by_number(number)
        if found is None and known is not None:
            # An intent without a result: a run crashed after (maybe) POSTing this contact.
            # Zoho's search lags behind its writes, so look among the newest contacts too.
            found = self.reconciler.recent_contact(number, since=record.started_at)
        if found is not None:
            self.ledger.remember_contact(number, found)
            if mine is not None:
                self.ledger.done(rid, OpKind.CONTACT, found, reconciled=True)
            # An intent left by a crash of *this* call means the contact is ours: new caller.
            return found, mine is not None
        self.ledger.intend_contact(number)
        self.ledger.intend(rid, OpKind.CONTACT)
        try:
            created = self.desk.create_contact(dict(plan.contact))
        except ZohoError as exc:
            self.ledger.note_failure(rid, OpKind.CONTACT, str(exc))
            raise
        contact_id = str(created["id"])
        if self.contact_index is not None:
            # Indexed at once: later look-ups (this run's, the next run's) find it locally.
            self.contact_index.add(created)
        self.ledger.remember_contact(number, contact_id)
        self.ledger.done(rid, OpKind.CONTACT, contact_id, url=created.get("webUrl"))
        return contact_id, True
