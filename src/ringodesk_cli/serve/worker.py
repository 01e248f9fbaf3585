"""The server's delivery: a background thread that runs the sync service over what the
ledger holds pending, in batches, each under the run lock.

Woken by every stored webhook (and every ``POLL`` seconds without one, for calls left
pending by an earlier run), it runs, under the lock: the before-call step (when
``integration.create_records = "before-call"``), then ``run_sync(..., pending_only=True)``:
the same planner, rules, intend/done and concurrency cap as `ringodesk sync`. Between
batches the lock is free: a cron `sync --replay 3d` that waits for it leaves a note
(``sync.run_lock``) and the worker takes no new batch while the note is there.

A batch that leaves calls pending (Zoho unavailable, tokens revoked, creates without an
answer) is retried after a growing pause (1 s doubling to 60 s), never in a tight loop. The
contact index is refreshed at most every ``INDEX_REFRESH`` seconds: the calls' own creates
are indexed as they happen; the refresh picks up contacts made in Zoho by people.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import BusyError, RingodeskError
from ringodesk_cli.sync.run_lock import someone_waiting

if TYPE_CHECKING:
    from ringodesk_cli.serve.inbox import Inbox
    from ringodesk_cli.session import Session

POLL = 30.0
INDEX_REFRESH = 60.0
BUSY_RETRY = 0.5
MAX_BACKOFF = 60.0

Log = Callable[[dict[str, Any]], None]


@dataclass
class WorkerStats:
    batches: int = 0
    delivered: int = 0
    updated: int = 0
    failed: int = 0
    before_done: int = 0
    last_error: str | None = None


class Worker:
    """``start`` it, ``wake`` it after each stored webhook, ``stop`` it at shutdown (the
    batch under way finishes its requests in flight; the rest stays pending)."""

    def __init__(self, session: Session, inbox: Inbox, *, log: Log, before_call: bool) -> None:
        self.session = session
        self.inbox = inbox
        self.log = log
        self.before_call = before_call
        self.stats = WorkerStats()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="serve-worker", daemon=True)
        self._backoff = 0.0
        self._last_refresh = float("-inf")

    def start(self) -> None:
        self._wake.set()  # what an earlier run left pending goes first
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    # -- the loop ------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._backoff or POLL)
            self._wake.clear()
            if self._stop.is_set():
                return
            if someone_waiting(self.session.state_dir):
                # A cron run waits for the lock: let it have it.
                self._pause(BUSY_RETRY)
                continue
            try:
                more = self._batch()
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

    def _batch(self) -> bool:
        """One batch; whether another should follow at once."""
        from ringodesk_cli.sync.service import SyncOptions, run_sync

        before_left = 0
        if self.before_call and self.inbox.before_pending():
            from ringodesk_cli.serve.before_call import run_before_step

            early = run_before_step(self.session, stop=self._stop)
            self.stats.before_done += early.done
            before_left = early.left
            if early.done or early.failed or early.left:
                self.log({"worker": "before-call", **early.__dict__})
        queued, _ = self.inbox.queue()
        if not queued:
            return self._settle(before_left)
        now = time.monotonic()
        refresh = now - self._last_refresh >= INDEX_REFRESH
        options = SyncOptions(pending_only=True, refresh_index=refresh)
        result = run_sync(self.session, options=options, stop=self._stop)
        if refresh:
            self._last_refresh = now
        summary = result.summary
        self.stats.batches += 1
        self.stats.delivered += summary.delivered
        self.stats.updated += summary.updated
        self.stats.failed += summary.failed
        self.log(
            {
                "worker": "batch",
                "delivered": summary.delivered,
                "updated": summary.updated,
                "failed": summary.failed,
                "pending": summary.pending,
                **({"stopped": summary.stopped} if summary.stopped else {}),
            }
        )
        return self._settle(summary.pending + before_left)

    def _settle(self, left: int) -> bool:
        if left:
            self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
            self.stats.last_error = f"{left} call(s) left pending"
            return False
        self._backoff = 0.0
        queued, _ = self.inbox.queue()
        return bool(queued) or bool(self.before_call and self.inbox.before_pending())
