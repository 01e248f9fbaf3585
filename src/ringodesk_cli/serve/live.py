"""Live delivery: calls go to Zoho as they are stored, not in batches.

A batch (one `sync` run over what is pending) ends only when its slowest call ends (a new
caller: contact, ticket, call activity, task), and a webhook stored meanwhile waits for the
next batch: on average half a batch more. So while webhooks keep coming the worker runs a
*stream* instead: under the run lock, one ``Runner`` (the same planner, rules, owners,
intend/done, reconciliation, contact index and cap on requests in flight as `sync`) takes
each pending call the moment the ledger has it, and delivers it through the runner's own
per-call step. The calls of one number go one after another, in call order, so the first
call still finds or makes the contact and a new caller's ticket; calls of different numbers
run in parallel, twice ``zoho.concurrency`` threads as in `sync`.

The stream ends (and frees the run lock) when nothing came for ``IDLE_RELEASE`` seconds,
when a cron `sync` waits for the lock, when the server stops or is gone (the calls under way
finish their requests in flight), or when Zoho stops it (tokens revoked, Zoho unavailable, creates
without an answer): what is left stays pending in the ledger, for the next stream or `sync`.
A call is taken once per stream and content: one stored again with new content (a PATCH) is
taken by the next stream.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import AuthError, Interrupted, ZohoError, ZohoUnavailableError
from ringodesk_cli.serve.inbox import BEFORE_DONE, BEFORE_PENDING
from ringodesk_cli.sync.contact_index import ContactIndex
from ringodesk_cli.sync.ledger import LEDGER_FILE, CallState, Ledger
from ringodesk_cli.sync.planner import policy_from_settings
from ringodesk_cli.sync.record_json import from_json
from ringodesk_cli.sync.run_lock import run_lock, someone_waiting
from ringodesk_cli.sync.runner import Runner
from ringodesk_cli.sync.summary import LastSync

if TYPE_CHECKING:
    from ringodesk_cli.ringostat.records import CallRecord
    from ringodesk_cli.serve.worker import Flag
    from ringodesk_cli.session import Session
    from ringodesk_cli.sync.summary import Summary

IDLE_RELEASE = 1.0  # seconds without work before the run lock is given back
TICK = 0.02  # seconds between two looks at the ledger while nothing wakes the stream


@dataclass
class StreamResult:
    summary: Summary
    before_done: int = 0
    left: int = 0  # calls taken and still pending at the end (Zoho stopped them)
    taken: int = 0
    notes: list[str] = field(default_factory=list)


class Stream:
    """One stream: ``run`` it with the worker's flags; raises BusyError when a `sync` holds
    the run lock."""

    def __init__(
        self,
        session: Session,
        *,
        stop: Flag,
        wake: Flag,
        before_call: bool,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.session = session
        self.alive = alive
        self.stop = stop
        self.wake = wake
        self.before_call = before_call
        self._lock = threading.Lock()
        self._queues: defaultdict[str, deque[Callable[[], None]]] = defaultdict(deque)
        self._active: set[str] = set()  # numbers with a task running
        self._taken: set[tuple[str, str]] = set()
        self._running = 0
        self._before_done = 0
        self._blocked: set[str] = set()  # numbers whose contact a call could not establish

    def run(self, *, refresh_index: bool) -> StreamResult:
        settings = self.session.settings
        region = str(settings.get("ringostat.default_region"))
        concurrency = int(settings.get("zoho.concurrency"))
        policy = policy_from_settings(settings)
        with run_lock(self.session.state_dir, wait_for_server=False):
            ledger = Ledger(self.session.state_dir / LEDGER_FILE)
            try:
                desk = self.session.desk()
                desk.stop_when(self.stop)  # type: ignore[arg-type]
                index = ContactIndex(
                    ledger, region, index_max=int(settings.get("contacts.index_max"))
                )
                if refresh_index:
                    self._refresh(index, desk)
                self.runner = Runner(desk, ledger, policy, region, concurrency, contact_index=index)
                desk.limit_in_flight(concurrency)
                with ThreadPoolExecutor(2 * concurrency, thread_name_prefix="live") as pool:
                    self.pool = pool
                    self._flow(ledger)
                summary = self.runner.summary
                summary.requests = dict(sorted(desk.stats.items()))
                left = self._left(ledger)
                summary.pending = left
                LastSync.of(summary, datetime.now(UTC)).save(ledger)
            finally:
                ledger.close()
        return StreamResult(summary, self._before_done, left, len(self._taken))

    def _refresh(self, index: ContactIndex, desk: Any) -> None:
        try:
            index.sync(desk)
        except (AuthError, ZohoUnavailableError, Interrupted):
            raise
        except ZohoError:
            pass  # the index stays as it was; look-ups fall back to search while unbuilt

    # -- the flow ------------------------------------------------------------------------
    def _flow(self, ledger: Ledger) -> None:
        idle_since: float | None = None
        while not (self.stop.is_set() or self.runner.halted.is_set()):
            if someone_waiting(self.session.state_dir) or not self.alive():
                break
            added = self._take(ledger)
            with self._lock:
                busy = self._running > 0
            if added or busy:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= IDLE_RELEASE:
                break
            if self.wake.wait(TICK):
                self.wake.clear()
        # The calls under way finish (each stops before its next request when told to).
        while True:
            with self._lock:
                if self._running == 0:
                    return
            time.sleep(TICK)

    def _take(self, ledger: Ledger) -> int:
        added = 0
        if self.before_call:
            for rid, number in _before_notes(ledger):
                if (rid, "before") not in self._taken:
                    self._taken.add((rid, "before"))
                    self._queue(number, functools.partial(self._before, ledger, rid))
                    added += 1
        for row in _pending(ledger):
            key = (row.ringostat_id, row.content_hash)
            if key in self._taken:
                continue
            self._taken.add(key)
            record = from_json(row.record)
            self._queue(record.client_number, functools.partial(self._deliver, ledger, record))
            added += 1
        return added

    def _deliver(self, ledger: Ledger, record: CallRecord) -> None:
        """One call through the runner's own step. A number whose call could not establish
        its contact (no answer, a refusal) sends no more calls in this stream: its first
        call must stay the one that makes the contact and gets a new caller's ticket."""
        number = record.client_number
        if number in self._blocked:
            return
        self.runner.deliver_group([record])
        row = ledger.get_call(record.ringostat_id)
        undelivered = row is not None and row.state is not CallState.DELIVERED
        if undelivered and not self.runner.contact_ready(record):
            self._blocked.add(number)
        if self.before_call and not undelivered:
            self._finish(ledger, record)

    def _finish(self, ledger: Ledger, record: CallRecord) -> None:
        from ringodesk_cli.serve.before_call import finish

        try:
            finish(self.runner, ledger, record)
        except ZohoError as exc:  # the call is delivered; only the ticket's update failed
            with self._lock:
                self.runner.summary.failures.append(f"{record.ringostat_id}: ticket: {exc}")

    def _before(self, ledger: Ledger, rid: str) -> None:
        from ringodesk_cli.serve.before_call import step

        if step(self.runner, ledger, rid, self.runner.halted) == BEFORE_DONE:
            with self._lock:
                self._before_done += 1

    def _queue(self, number: str, task: Callable[[], None]) -> None:
        with self._lock:
            self._queues[number].append(task)
            if number in self._active:
                return
            self._active.add(number)
            self._running += 1
        self.pool.submit(self._drain, number)

    def _drain(self, number: str) -> None:
        """Runs the number's tasks one after another, in the order they were queued."""
        while True:
            with self._lock:
                queue = self._queues[number]
                if not queue:
                    self._active.discard(number)
                    del self._queues[number]
                    self._running -= 1
                    return
                task = queue.popleft()
            try:
                task()
            except Exception as exc:  # one call's bug must not stop the number's others
                self.runner.summary.failures.append(f"{number}: {type(exc).__name__}: {exc}")

    def _left(self, ledger: Ledger) -> int:
        taken = {rid for rid, _ in self._taken}
        return sum(1 for row in _pending(ledger) if row.ringostat_id in taken)


def _pending(ledger: Ledger) -> list[Any]:
    return [r for r in ledger.calls_to_retry(None) if r.state is not CallState.FAILED]


def _before_notes(ledger: Ledger) -> list[tuple[str, str]]:
    with ledger.reading() as db:
        rows = db.execute(
            "SELECT b.ringostat_id, c.client_number FROM serve_before b JOIN calls c"
            " ON c.ringostat_id = b.ringostat_id WHERE b.state = ? ORDER BY b.received_at",
            (BEFORE_PENDING,),
        ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]
