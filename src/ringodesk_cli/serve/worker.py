"""The server's delivery worker: one loop, in a process of its own (``supervisor.py``),
delivering what the receiver stored through the one engine (``delivery/engine.py``).

The loop looks at the ledger every ``TICK`` (SQLite's ``data_version`` tells it, without a
query, whether another process committed since): nothing is signalled across processes, so
a webhook's answer never waits for the worker, whatever state the worker is in.

With ``source.kind = "api"`` it also runs the API catch-up every ``serve.catch_up_every``
(``catch_up.py``), between streams, under the same run lock.

When there is work it runs a *stream* under the profile's run lock: the engine's policy
(routes resolved, business hours loaded), the contact index refreshed at most every
``INDEX_REFRESH`` seconds, a fresh runner, and each pending call handed to it the moment it
is stored, through the runner's own per-call step (the same planner, owners, intend/done,
reconciliation and cap on requests in flight as `sync`). A number's calls go one after
another in call order, so its first call finds or makes the contact and gets a new caller's
ticket; a number whose call could not establish its contact sends no more calls in the
stream. Each delivered call's recording is attached at once (``recordings.attach``); the
recordings still waiting are tried again at most every ``RECORDINGS_RETRY`` seconds.

A stream ends when nothing came for ``IDLE_RELEASE`` seconds, when a cron `sync` waits for
the lock (``locks.py``), when the worker is told to stop or its server is gone, or
when Zoho stops it. One that leaves calls pending (Zoho unavailable, tokens revoked, creates
without an answer) is followed by a pause that grows from 1 s to ``MAX_BACKOFF``, whatever
arrives meanwhile: never a tight loop against a Zoho that is down. The worker records since
when delivery has been failing (``FAILING_SINCE`` in the ledger's meta), which the health
answer reads.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.delivery.engine import Engine
from ringodesk_cli.delivery.summary import LastSync
from ringodesk_cli.errors import (
    AuthError,
    BusyError,
    ExitCode,
    Interrupted,
    RingodeskError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.ledger.record_json import from_json
from ringodesk_cli.ledger.store import CallState
from ringodesk_cli.locks import run_lock, someone_waiting
from ringodesk_cli.serve.catch_up import CatchUp, catch_up_period
from ringodesk_cli.serve.inbox import BEFORE_DONE, FAILING_SINCE, LAST_ERROR, Inbox

if TYPE_CHECKING:
    from ringodesk_cli.delivery.recordings import AttachmentPass
    from ringodesk_cli.delivery.runner import Runner
    from ringodesk_cli.ledger.store import CallRow, Ledger
    from ringodesk_cli.ringostat.records import CallRecord
    from ringodesk_cli.session import Session

TICK = 0.02  # seconds between two looks at the ledger
IDLE_RELEASE = 1.0  # seconds without work before a stream gives the run lock back
BUSY_RETRY = 0.5  # seconds before another try when a cron `sync` has the lock
MAX_BACKOFF = 60.0
INDEX_REFRESH = 60.0
RECORDINGS_RETRY = 300.0

Log = Callable[[dict[str, Any]], None]


@dataclass
class WorkerStats:
    streams: int = 0
    delivered: int = 0
    updated: int = 0
    failed: int = 0
    before_done: int = 0
    last_error: str | None = None


class Worker:
    """``run`` it in the worker process; set ``stop`` to end it (the stream under way
    finishes its requests in flight; the rest stays pending). ``alive`` says whether the
    server is still there (an orphaned worker stops)."""

    def __init__(
        self,
        session: Session,
        ledger: Ledger,
        *,
        log: Log,
        before_call: bool,
        stop: threading.Event,
        alive: Callable[[], bool] = lambda: True,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session, self.ledger, self.log = session, ledger, log
        self.inbox = Inbox(ledger)
        self.before_call = before_call
        self.stop, self.alive = stop, alive
        self.monotonic, self.clock = monotonic, clock
        self.stats = WorkerStats()
        self.backoff = 0.0
        self._not_before = float("-inf")  # no stream starts before this (the back-off)
        self._last_refresh = float("-inf")
        self._last_retry = float("-inf")
        self._engine: Engine | None = None
        self.catch_up: CatchUp | None = None
        period = catch_up_period(session)
        if period is not None:
            self.catch_up = CatchUp(
                session, ledger, period, log=log, stop=stop, monotonic=monotonic, clock=clock
            )

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """The loop, until ``stop`` is set or the server is gone."""
        while not self.stop.is_set() and self.alive():
            if self._sync_waits():
                self.stop.wait(BUSY_RETRY)  # a cron run waits for the lock: let it have it
                continue
            catch_up = self.catch_up
            if catch_up is not None and catch_up.due():
                catch_up.run()  # under the run lock, between streams
                continue
            if self.monotonic() >= self._not_before and self.has_work():
                self.once()  # a stream ends when the catch-up is due
                continue
            self.stop.wait(TICK)

    def _sync_waits(self) -> bool:
        return someone_waiting(self.session.state_dir)

    def yields(self) -> bool:
        """A stream under way ends (its calls finish): a cron `sync` waits for the lock, or
        the API catch-up is due."""
        due = self.catch_up is not None and self.catch_up.due()
        return due or self._sync_waits()

    def has_work(self) -> bool:
        queued, _ = self.inbox.queue()
        return bool(queued) or bool(self.before_call and self.inbox.before_pending())

    def once(self) -> None:
        """One stream, its outcome logged and the back-off settled."""
        try:
            self._stream()
        except BusyError:
            self._not_before = self.monotonic() + BUSY_RETRY
        except AuthError as exc:
            self._reopen()
            self._failed(str(exc))
        except RingodeskError as exc:
            self._failed(str(exc))
        except Exception as exc:  # a bug must not end delivery for good
            self._failed(f"{type(exc).__name__}: {exc}")

    def _reopen(self) -> None:
        """The token was refused: after `ringodesk activate` the profile has new secrets, so
        the next try opens the profile and the engine afresh."""
        self._engine = None
        try:
            self.session = type(self.session).open(self.session.profile, self.session.paths)
        except RingodeskError as exc:  # the profile cannot be read now: try again later
            self.log({"worker": "error", "error": f"reopening the profile: {exc}"})

    def _failed(self, message: str) -> None:
        self.stats.last_error = message
        self.backoff = min(MAX_BACKOFF, max(1.0, self.backoff * 2))
        self._not_before = self.monotonic() + self.backoff
        self._note_failing(message)
        self.log({"worker": "error", "error": message, "retry_in_s": self.backoff})

    def _note_failing(self, message: str) -> None:
        try:
            if not self.ledger.meta(FAILING_SINCE):
                self.ledger.set_meta(FAILING_SINCE, self.clock().isoformat())
            self.ledger.set_meta(LAST_ERROR, message[:500])
        except Exception:  # the ledger itself fails: the health answer says so on its own
            return

    def _note_working(self) -> None:
        if self.ledger.meta(FAILING_SINCE):
            self.ledger.set_meta(FAILING_SINCE, "")

    # -- a stream ------------------------------------------------------------------------
    def _stream(self) -> None:
        with run_lock(self.session.state_dir, wait_for_server=False):
            engine = self._engine or Engine.open(self.session, self.ledger, stop=self.stop)
            self._engine = engine if engine.desk is not None else None
            stream = _Stream(self, engine, engine.next_runner())
            if not engine.ready():
                raise engine.not_ready or RingodeskError("Zoho Desk could not be reached")
            self._refresh_index(engine)
            if not engine.recover():  # a new or emptied ledger: nothing sent blind
                raise RingodeskError(stream.runner.summary.stopped or "recovery stopped")
            stream.flow()
            stream.retry_recordings(self._retry_due())
            summary = stream.runner.summary
            summary.pending = stream.left()
            LastSync.of(summary, self.clock()).save(self.ledger)
        self._settled(stream)

    def _refresh_index(self, engine: Engine) -> None:
        now = self.monotonic()
        if now - self._last_refresh < INDEX_REFRESH:
            return
        try:
            engine.refresh_index()
        except (AuthError, ZohoUnavailableError, Interrupted):
            raise
        except ZohoError:
            pass  # the index stays as it was; look-ups fall back to search while unbuilt
        self._last_refresh = now

    def _retry_due(self) -> bool:
        now = self.monotonic()
        if now - self._last_retry < RECORDINGS_RETRY:
            return False
        self._last_retry = now
        return True

    def _settled(self, stream: _Stream) -> None:
        summary = stream.runner.summary
        stats = self.stats
        stats.streams += 1
        stats.delivered += summary.delivered
        stats.updated += summary.updated
        stats.failed += summary.failed
        stats.before_done += stream.before_done
        self.log(
            {
                "worker": "stream",
                "delivered": summary.delivered,
                "updated": summary.updated,
                "failed": summary.failed,
                "pending": summary.pending,
                **({"before_call": stream.before_done} if self.before_call else {}),
                **({"recordings": summary.recordings} if summary.recordings else {}),
                **({"stopped": summary.stopped} if summary.stopped else {}),
            }
        )
        if self.stop.is_set():
            return  # stopping: what is left stays pending for the next start
        if summary.pending or summary.stopped:
            # Zoho stopped the stream (unavailable, the token refused, answers lost): pause.
            if summary.stop_code == ExitCode.AUTH:
                self._reopen()
            self._failed(summary.stopped or f"{summary.pending} call(s) left pending")
            return
        if summary.failed:
            self._note_failing(summary.failures[-1] if summary.failures else "calls failed")
        elif summary.delivered or summary.updated or stream.before_done:
            self._note_working()
        self.backoff = 0.0


class _Stream:
    """One stream under the run lock: per-number queues run by ``2 × zoho.concurrency``
    threads, fed from the ledger until the stream ends (see the module's docstring)."""

    def __init__(self, worker: Worker, engine: Engine, runner: Runner) -> None:
        self.worker, self.engine, self.runner = worker, engine, runner
        self.ledger = worker.ledger
        self.attach: AttachmentPass | None = engine.attachments(now=worker.clock())
        self.before_done = 0
        self._lock = threading.Lock()
        self._queues: defaultdict[str, deque[Callable[[], None]]] = defaultdict(deque)
        self._active: set[str] = set()
        self._taken: set[tuple[str, str]] = set()
        self._running = 0
        self._blocked: set[str] = set()  # numbers whose contact a call could not establish
        self._version: int | None = None  # the ledger's data_version at the last look

    def flow(self) -> None:
        worker = self.worker
        idle_since: float | None = None
        concurrency = self.engine.concurrency
        with ThreadPoolExecutor(2 * concurrency, thread_name_prefix="deliver") as pool:
            self.pool = pool
            while not (worker.stop.is_set() or self.runner.halted.is_set()):
                if worker.yields() or not worker.alive():
                    break
                added = self._take()
                with self._lock:
                    busy = self._running > 0
                if added or busy:
                    idle_since = None
                elif idle_since is None:
                    idle_since = worker.monotonic()
                elif worker.monotonic() - idle_since >= IDLE_RELEASE:
                    break
                worker.stop.wait(TICK)
            # The calls under way finish (each stops before its next request when told to).
            while True:
                with self._lock:
                    if self._running == 0:
                        break
                time.sleep(TICK)
        if self.attach is not None and self.engine.desk is not None:
            from ringodesk_cli.delivery.recordings import report_into

            report_into(self.runner.summary, self.attach, self.engine.desk)

    def retry_recordings(self, due: bool) -> None:
        """The recordings earlier streams or runs are still waiting for."""
        if not due or self.attach is None or self.engine.desk is None:
            return
        if not (self.worker.stop.is_set() or self.runner.halted.is_set()):
            from ringodesk_cli.delivery.recordings import report_into

            self.attach.run()
            report_into(self.runner.summary, self.attach, self.engine.desk)

    def left(self) -> int:
        """Calls taken by this stream and still pending (Zoho stopped them, or their
        number was blocked)."""
        taken = {rid for rid, _ in self._taken}
        return sum(1 for row in self._pending() if row.ringostat_id in taken)

    def _pending(self) -> list[CallRow]:
        return self.worker.inbox.pending_rows()

    def _take(self) -> int:
        """Queues what was stored since the last look (nothing stored by another
        connection since then: no query)."""
        version = self.worker.inbox.version()
        if version == self._version:
            return 0
        self._version = version
        added = 0
        if self.worker.before_call:
            for rid, number in self.worker.inbox.before_notes():
                if (rid, "before") not in self._taken:
                    self._taken.add((rid, "before"))
                    self._queue(number, functools.partial(self._before, rid))
                    added += 1
        for row in self._pending():
            key = (row.ringostat_id, row.content_hash)
            if key in self._taken:
                continue
            self._taken.add(key)
            record = from_json(row.record)
            self._queue(record.client_number, functools.partial(self._deliver, record))
            added += 1
        return added

    def _deliver(self, record: CallRecord) -> None:
        number = record.client_number
        if number in self._blocked:
            return
        self.runner.deliver_group([record])
        row = self.ledger.get_call(record.ringostat_id)
        delivered = row is not None and row.state is CallState.DELIVERED
        if not delivered and not self.runner.contact_ready(record):
            self._blocked.add(number)
        if not delivered:
            return
        if self.worker.before_call:
            self._finish(record)
        if self.attach is not None:
            self.attach.attach_one(record.ringostat_id)

    def _finish(self, record: CallRecord) -> None:
        from ringodesk_cli.serve.before_call import finish

        try:
            finish(self.runner, self.ledger, record)
        except ZohoError as exc:  # the call is delivered; only the ticket's update failed
            with self._lock:
                self.runner.summary.failures.append(f"{record.ringostat_id}: ticket: {exc}")

    def _before(self, rid: str) -> None:
        from ringodesk_cli.serve.before_call import step

        if step(self.runner, self.ledger, rid, self.runner.halted) == BEFORE_DONE:
            with self._lock:
                self.before_done += 1

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
                with self._lock:
                    self.runner.summary.failures.append(f"{number}: {type(exc).__name__}: {exc}")
