"""The delivery worker in its own process.

The receiving side must answer within milliseconds while the worker keeps up to twice
``zoho.concurrency`` threads busy planning, writing the ledger and talking to Zoho. In one
process they would share one interpreter lock and every answer would wait behind the
worker's Python work; so the worker runs in a child process (``spawn``: a fresh interpreter,
nothing inherited but what is passed) and the two meet only in the ledger (SQLite, WAL)
and two flags: "a webhook was stored" and "stop".

The child ends when it is told to stop (the server's SIGTERM path: its stream finishes its
requests in flight), on its own SIGTERM (systemd signals the whole service), or when its
server is gone (kill -9: the child notices within half a second and stops the same way).
Its log lines go back to the server through a queue, so only the command prints.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ringodesk_cli.serve.worker import Log

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as MpEvent

    from ringodesk_cli.settings import Paths

_CTX = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class WorkerSpec:
    """What the child needs to open the same profile (everything picklable)."""

    profile: str
    paths: Paths
    before_call: bool


class WorkerProcess:
    """``start``, ``wake`` (cheap: called per webhook), ``stop`` (waits for the child)."""

    def __init__(self, spec: WorkerSpec, log: Log) -> None:
        self._wake = _CTX.Event()
        self._stop = _CTX.Event()
        self._lines: Any = _CTX.Queue()
        self._log = log
        self.stats: dict[str, Any] = {}
        self._proc = _CTX.Process(
            target=worker_main,
            args=(spec, self._wake, self._stop, self._lines, os.getpid()),
            name="ringodesk-serve-worker",
            daemon=True,
        )
        self._pump = threading.Thread(target=self._relay, name="serve-worker-log", daemon=True)

    def start(self) -> None:
        self._proc.start()
        self._pump.start()

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._proc.is_alive()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()  # over its time: what it did is in the ledger
            self._proc.join(5)
        self._lines.put(None)
        self._pump.join(5)

    def _relay(self) -> None:
        while True:
            try:
                line = self._lines.get()
            except (EOFError, OSError):
                return
            if line is None:
                return
            if "worker_stats" in line:
                self.stats = dict(line["worker_stats"])
                continue
            self._log(line)


def worker_main(
    spec: WorkerSpec, wake: MpEvent, stop: MpEvent, lines: Any, server_pid: int
) -> None:
    """The child: the worker loop until stopped or orphaned."""
    from ringodesk_cli.serve.inbox import Inbox
    from ringodesk_cli.serve.worker import Worker
    from ringodesk_cli.session import Session
    from ringodesk_cli.sync.ledger import LEDGER_FILE, Ledger

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def log(line: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError, queue.Full):
            lines.put(line)

    # The environment is the server's (spawn passes it on); a profile whose secrets are in
    # the 0600 file keeps using it without the flag.
    session = Session.open(spec.profile, spec.paths)
    ledger = Ledger(session.state_dir / LEDGER_FILE)
    try:
        worker = Worker(
            session,
            Inbox(ledger),
            log=log,
            before_call=spec.before_call,
            wake=wake,
            stop=stop,
            alive=lambda: os.getppid() == server_pid,
        )
        worker.run()
        log({"worker_stats": worker.stats.__dict__})
    finally:
        ledger.close()
