"""The server's delivery: a loop that runs delivery streams (``live.Stream``) over what the
ledger holds pending, each under the run lock.

Woken by every stored webhook (and every ``POLL`` seconds without one, for calls left
pending by an earlier run), it starts a stream when there is work: the same planner, rules,
intend/done and concurrency cap as `ringodesk sync`, and, with ``integration.create_records =
"before-call"``, the before-call step. A stream ends when idle, or when a cron `sync
--replay 3d` waits for the lock (it leaves a note, ``sync/run_lock.py``): the worker takes no
new stream while the note is there.

A stream that leaves calls pending (Zoho unavailable, tokens revoked, creates without an
answer) is followed by a growing pause (1 s doubling to 60 s), never by a tight loop. The
contact index is refreshed at most every ``INDEX_REFRESH`` seconds: the calls' own creates
are indexed as they happen; the refresh picks up contacts made in Zoho by people.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ringodesk_cli.errors import BusyError, RingodeskError
from ringodesk_cli.sync.run_lock import someone_waiting

if TYPE_CHECKING:
    from ringodesk_cli.serve.inbox import Inbox
    from ringodesk_cli.session import Session

POLL = 30.0
ALIVE_CHECK = 0.5
INDEX_REFRESH = 60.0
BUSY_RETRY = 0.5
MAX_BACKOFF = 60.0

Log = Callable[[dict[str, Any]], None]


class Flag(Protocol):
    """A ``threading.Event`` or a ``multiprocessing.Event``."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class WorkerStats:
    streams: int = 0
    delivered: int = 0
    updated: int = 0
    failed: int = 0
    before_done: int = 0
    last_error: str | None = None


class Worker:
    """``run`` it (the worker process's main thread, ``process.py``); set ``wake`` after each
    stored webhook and ``stop`` at shutdown (the stream under way finishes its requests in
    flight; the rest stays pending); ``alive`` says whether the server is still there."""

    def __init__(
        self,
        session: Session,
        inbox: Inbox,
        *,
        log: Log,
        before_call: bool,
        wake: Flag | None = None,
        stop: Flag | None = None,
        alive: Callable[[], bool] | None = None,
    ) -> None:
        self.session = session
        self.inbox = inbox
        self.log = log
        self.before_call = before_call
        self.stats = WorkerStats()
        self._wake: Flag = wake or threading.Event()
        self._stop: Flag = stop or threading.Event()
        self._alive = alive or (lambda: True)
        self._backoff = 0.0
        self._last_refresh = float("-inf")

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """The loop, until ``stop`` is set or the server is gone."""
        self._wake.set()  # what an earlier run left pending goes first
        waited = 0.0
        while not self._stop.is_set():
            # Short waits: a worker whose server died (kill -9) notices and ends.
            if not self._wake.wait(ALIVE_CHECK):
                waited += ALIVE_CHECK
                if not self._alive():
                    return
                if waited < (self._backoff or POLL):
                    continue
            waited = 0.0
            self._wake.clear()
            if self._stop.is_set() or not self._alive():
                return
            if someone_waiting(self.session.state_dir):
                # A cron run waits for the lock: let it have it.
                self._pause(BUSY_RETRY)
                continue
            try:
                more = self._stream()
            except BusyError:
                self._pause(BUSY_RETRY)
                continue
            except RingodeskError as exc:
                self._failed(str(exc))
                continue
            except Exception as exc:  # a bug must not kill delivery for good
                self._failed(f"{type(exc).__name__}: {exc}")
                continue
            if more:
                self._wake.set()

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)
        self._wake.set()

    def _failed(self, message: str) -> None:
        self.stats.last_error = message
        self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
        self.log({"worker": "error", "error": message, "retry_in_s": self._backoff})

    def _stream(self) -> bool:
        """One delivery stream (``live.Stream``); whether another should follow at once."""
        from ringodesk_cli.serve.live import Stream

        queued, _ = self.inbox.queue()
        if not queued and not (self.before_call and self.inbox.before_pending()):
            return self._settle(0)
        now = time.monotonic()
        refresh = now - self._last_refresh >= INDEX_REFRESH
        stream = Stream(
            self.session,
            stop=self._stop,
            wake=self._wake,
            before_call=self.before_call,
            alive=self._alive,
        )
        result = stream.run(refresh_index=refresh)
        if refresh:
            self._last_refresh = now
        summary = result.summary
        self.stats.streams += 1
        self.stats.delivered += summary.delivered
        self.stats.updated += summary.updated
        self.stats.failed += summary.failed
        self.stats.before_done += result.before_done
        self.log(
            {
                "worker": "stream",
                "delivered": summary.delivered,
                "updated": summary.updated,
                "failed": summary.failed,
                "pending": result.left,
                **({"before_call": result.before_done} if self.before_call else {}),
                **({"stopped": summary.stopped} if summary.stopped else {}),
            }
        )
        return self._settle(result.left)

    def _settle(self, left: int) -> bool:
        if left:
            self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
            self.stats.last_error = f"{left} call(s) left pending"
            return False
        self._backoff = 0.0
        queued, _ = self.inbox.queue()
        return bool(queued) or bool(self.before_call and self.inbox.before_pending())
