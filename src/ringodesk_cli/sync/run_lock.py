"""Sharing the run lock with a running `ringodesk serve`.

`ringodesk serve` delivers webhooks from the ledger in streams, each holding the profile's
run lock (``locks.RunLock``, name ``sync``) only while there is work. The cron catch-up
(``sync --replay 3d``) must still run beside it, so a sync that finds a server on its profile
does not fail at once with exit 7 "busy": it waits for the lock (at most ``SERVER_WAIT``
seconds) and, while it waits, leaves a note (``sync.waiting``, with its pid) that the
server's worker watches: a stream ends soon after the note appears (the calls under way
finish) and no new one starts while it is there, so the waiting run gets the lock within
about a call's requests.

Without a server (no one holds the ``serve`` lock) nothing changes: a second run is busy at
once, as before. A note left by a run killed while waiting names a dead pid and is ignored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ringodesk_cli.errors import BusyError
from ringodesk_cli.locks import RunLock

RUN_LOCK = "sync"
SERVER_LOCK = "serve"
WAITING_NOTE = "sync.waiting"
SERVER_WAIT = 300.0  # seconds: far above a stream's wind-down, far below a cron interval


def server_running(state_dir: Path) -> bool:
    """Whether a `ringodesk serve` holds the profile's server lock."""
    probe = RunLock(state_dir, SERVER_LOCK)
    try:
        probe.acquire(timeout=0)
    except BusyError:
        return True
    probe.release()
    return False


def someone_waiting(state_dir: Path) -> bool:
    """Whether a live run left a note that it waits for the run lock."""
    try:
        text = (state_dir / WAITING_NOTE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    if not text.isdigit():
        return False
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(state_dir: Path, *, wait_for_server: bool = True) -> Iterator[RunLock]:
    """The run lock for one run: at once, or (a server runs, ``wait_for_server``) after the
    server's current batch. Raises BusyError when it cannot be had."""
    lock = RunLock(state_dir, RUN_LOCK)
    try:
        lock.acquire(timeout=0)
    except BusyError:
        if not (wait_for_server and server_running(state_dir)):
            raise
        note = state_dir / WAITING_NOTE
        note.write_text(f"{os.getpid()}\n", encoding="ascii")
        try:
            lock.acquire(timeout=SERVER_WAIT)
        finally:
            with contextlib.suppress(OSError):
                note.unlink()
    try:
        yield lock
    finally:
        lock.release()
