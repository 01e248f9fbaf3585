"""The run lock: one ringodesk run per profile at a time (exit code 7 "busy" otherwise).

A kernel advisory lock (``fcntl.flock``) on ``<state_dir>/<name>.lock``. The kernel drops it
when the holder's last descriptor closes, including when the process dies from ``kill -9``,
so a crashed run never leaves a stale lock behind that someone must delete by hand (a
pid-file lock would). The holder writes its pid into the file only so the busy message can
name it. The file itself is never deleted: unlinking a lock file lets a third process lock
a fresh inode while the second still holds the old one.

Zoho throttles token requests (10 per 10 minutes per refresh token), so the token refresh
also relies on this lock: two cron runs never refresh the Zoho token at once.

Shared with a running `ringodesk serve`:

`ringodesk serve` delivers webhooks from the ledger in streams, each holding the profile's
run lock (``RunLock``, name ``RUN_LOCK``) only while there is work. The cron catch-up
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
import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from ringodesk_cli.errors import BusyError

RUN_LOCK = "sync"
SERVER_LOCK = "serve"
WAITING_NOTE = "sync.waiting"
SERVER_WAIT = 300.0  # seconds: far above a stream's wind-down, far below a cron interval
_LOCK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
POLL_INTERVAL = 0.05


class RunLock:
    """``with RunLock(state_dir):`` fails at once with BusyError if another run holds it."""

    def __init__(
        self,
        state_dir: Path,
        name: str = RUN_LOCK,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _LOCK_NAME.match(name):
            raise ValueError(f"lock name {name!r} may use only letters, digits, '.', '_', '-'")
        self.path = Path(state_dir) / f"{name}.lock"
        self._sleep = sleep
        self._clock = clock
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float | None = None) -> RunLock:
        """Take the lock. ``timeout=None`` waits as long as it takes, ``0`` tries once,
        otherwise polls until ``timeout`` seconds have passed; busy -> :class:`BusyError`."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC is the default for os.open: a child process (an editor, a browser)
        # must not inherit the descriptor and keep the lock alive after we exit.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._lock(fd, timeout)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Clear the pid first so nobody reads a stale holder after we are gone.
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire(timeout=0)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _lock(self, fd: int, timeout: float | None) -> None:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
        deadline = self._clock() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise self._busy(timeout)
            self._sleep(min(POLL_INTERVAL, remaining))

    def holder_pid(self) -> int | None:
        """The pid the holder wrote, if the file is readable and holds one."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def _busy(self, timeout: float) -> BusyError:
        pid = self.holder_pid()
        holder = f" by pid {pid}" if pid is not None else ""
        waited = f" (waited {timeout:g}s)" if timeout > 0 else ""
        return BusyError(f"{self.path} is held{holder}: another ringodesk run is busy{waited}")


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
