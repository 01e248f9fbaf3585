"""The delivery worker's process, started, watched and restarted by the server.

The receiver must answer within milliseconds while the worker keeps up to twice
``zoho.concurrency`` threads planning, writing the ledger and talking to Zoho; in one
process they would share one interpreter lock, so the worker (``worker.py``) runs in a
child process (``spawn``: a fresh interpreter, nothing inherited but what is passed). The
two share only the ledger (SQLite, WAL): no lock, event or queue crosses the processes, so
nothing the worker does -- or a ``kill -9`` in the middle of it -- can block an answer.

``check`` runs on the server's event loop every tenth of a second: a worker that died (a
crash, the out-of-memory killer, ``kill -9``) is started again at once, and after
``RESTART_MAX`` restarts within ``RESTART_WINDOW`` seconds with a growing pause (up to
``MAX_PAUSE``) so that a worker that cannot start does not spin. ``stop`` sends SIGTERM (the
stream under way finishes its requests in flight) and waits; past its time the worker is
killed, which loses nothing (every step is in the ledger). The worker itself stops when its
server is gone (its parent changed).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ringodesk_cli.serve.log_lines import LogFormat

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from ringodesk_cli.config.settings import Paths

_CTX = multiprocessing.get_context("spawn")
RESTART_WINDOW = 60.0
RESTART_MAX = 3  # restarts within the window that happen at once
MAX_PAUSE = 30.0

Log = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class WorkerSpec:
    """What the child needs to open the same profile (everything picklable)."""

    profile: str
    paths: Paths
    before_call: bool
    log: LogFormat


class Supervisor:
    """``start``; ``check`` often (cheap); ``stop`` at shutdown."""

    def __init__(
        self,
        spec: WorkerSpec,
        log: Log,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        target: Callable[..., None] | None = None,
    ) -> None:
        self.spec, self.log, self.monotonic = spec, log, monotonic
        self._target = target or worker_main
        self._proc: BaseProcess | None = None
        self._restarts: list[float] = []
        self._next_start: float | None = None
        self._down_since: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self._proc = _CTX.Process(
            target=self._target,
            args=(self.spec, os.getpid()),
            name="ringodesk-serve-worker",
            daemon=True,
        )
        self._proc.start()
        self._next_start = None
        self._down_since = None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    @property
    def down_for(self) -> float:
        """Seconds the worker has been down (0 while it runs)."""
        return 0.0 if self._down_since is None else self.monotonic() - self._down_since

    def check(self) -> None:
        """Restarts a worker that died (never waits for it)."""
        if self._proc is None or self._proc.is_alive():
            return
        now = self.monotonic()
        if self._down_since is None:
            self._down_since = now
            code = self._proc.exitcode
            self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW]
            pause = 0.0
            if len(self._restarts) >= RESTART_MAX:
                pause = min(MAX_PAUSE, 2.0 ** (len(self._restarts) - RESTART_MAX))
            self._next_start = now + pause
            self.log({"worker": "died", "exit": code, "restart_in_s": pause})
        if self._next_start is not None and now >= self._next_start:
            self._restarts.append(now)
            self.restarts += 1
            self._proc.close()
            self.start()

    def stop(self, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.is_alive():
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            proc.join(timeout)
        if proc.is_alive():
            proc.kill()  # over its time: what it did is in the ledger
            proc.join(5)


def _stop_on_sigterm(stop: threading.Event) -> None:
    """SIGTERM sets ``stop``, from a thread of its own. A handler that set it itself would
    run in the main thread between two bytecodes, possibly while that thread holds the
    Event's lock inside ``stop.wait`` (the worker waits on it all the time): a deadlock, and a
    worker that never ends. So the handler does nothing in Python; the signal's number is
    written to a pipe (``signal.set_wakeup_fd``) that a watcher thread reads."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end)
    signal.signal(signal.SIGTERM, lambda *_: None)

    def watch() -> None:
        while True:
            got = os.read(read_end, 64)
            if not got or signal.SIGTERM in got:
                stop.set()
                return

    threading.Thread(target=watch, name="sigterm", daemon=True).start()


def worker_main(spec: WorkerSpec, server_pid: int) -> None:
    """The child: the worker loop until stopped or orphaned."""
    from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger
    from ringodesk_cli.serve.worker import Worker
    from ringodesk_cli.session import Session

    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    _stop_on_sigterm(stop)
    # The environment is the server's (spawn passes it on); a profile whose secrets are in
    # the 0600 file keeps using it without the flag.
    session = Session.open(spec.profile, spec.paths)
    ledger = Ledger(session.state_dir / LEDGER_FILE)
    try:
        worker = Worker(
            session,
            ledger,
            log=spec.log.emit,
            before_call=spec.before_call,
            stop=stop,
            alive=lambda: os.getppid() == server_pid,
        )
        worker.run()
        spec.log.emit({"worker": "stopped", **worker.stats.__dict__})
    finally:
        ledger.close()
