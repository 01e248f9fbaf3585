"""Stand-ins for the delivery worker's process body (``supervisor.worker_main``), for the
supervisor's tests: importable by a ``spawn`` child, as the real one is."""

from __future__ import annotations

import os
import signal
import time
from typing import Any


def exits_at_once(spec: Any, server_pid: int) -> None:
    os._exit(3)


def _ready() -> None:
    """Tells the test (a file named by ``WORKER_READY``) that the handlers are in place."""
    path = os.environ.get("WORKER_READY")
    if path:
        with open(f"{path}.{os.getpid()}", "w", encoding="ascii") as out:
            out.write("ready\n")


def runs_until_terminated(spec: Any, server_pid: int) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    _ready()
    while True:
        time.sleep(0.05)


def ignores_sigterm(spec: Any, server_pid: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _ready()
    while True:
        time.sleep(0.05)
