"""Ctrl-C (SIGINT) and SIGTERM for the whole process: the first asks the running command to
stop, the second ends the process at once.

A command that can stop cleanly (``sync``: no new request starts, the ones in flight finish
and are recorded, the summary is printed) runs inside :meth:`Interrupts.graceful` and watches
the event it yields; the library it calls takes that event and knows nothing of signals.
Any other command is interrupted as Python always does (``KeyboardInterrupt``).

A second signal ends the process with ``os._exit``: no cleanup runs, which is safe because
everything ringodesk keeps is written so that a kill -9 at any moment loses nothing (the
ledger commits each outcome in a transaction; the run lock dies with the process).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any, TypeVar

HANDLED = (signal.SIGINT, signal.SIGTERM)

# CPython runs a signal's handler in the main thread only, when that thread next runs Python
# code. The kernel may hand a process's signal to any of its threads; a main thread blocked in
# an untimed wait (a Future's result) would then run the handler, which sets the stop flag,
# only once that future is done, while the workers go on starting requests. A main thread
# that waits on workers does it in slices of this many seconds (`result_of`).
WAKE_EVERY = 0.05

T = TypeVar("T")


def result_of(future: Future[T]) -> T:
    """``future.result()``, waited for in slices of ``WAKE_EVERY``: a signal's handler runs
    within that time whichever thread the signal was delivered to."""
    while not future.done():
        wait([future], timeout=WAKE_EVERY)
    return future.result()


def exit_code_for(signum: int) -> int:
    """The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + signum


class Interrupts:
    """The process's SIGINT/SIGTERM handler. ``install`` it once from the main thread."""

    def __init__(self, *, write: Any = None) -> None:
        self.stop = threading.Event()
        self.signum: int | None = None
        self.asked_to_stop = False  # the signal came while a command could stop gracefully
        self._graceful = 0
        self._previous: dict[int, Any] = {}
        self._write = write or _write_stderr

    # -- wiring --------------------------------------------------------------------------
    def install(self) -> bool:
        """Take SIGINT and SIGTERM; False (nothing changed) outside the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, self._handle)
        return True

    def restore(self) -> None:
        """Give the previous handlers back (an in-process caller, e.g. a test, goes on)."""
        for signum, previous in self._previous.items():
            with suppress(ValueError, TypeError):
                signal.signal(signum, previous)
        self._previous.clear()

    @contextmanager
    def graceful(self) -> Iterator[threading.Event]:
        """Within this block the first signal only sets the yielded event."""
        self._graceful += 1
        try:
            yield self.stop
        finally:
            self._graceful -= 1

    # -- state ---------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """``SIGINT`` or ``SIGTERM`` once one arrived, else None."""
        return signal.Signals(self.signum).name if self.signum is not None else None

    @property
    def exit_code(self) -> int | None:
        return exit_code_for(self.signum) if self.signum is not None else None

    # -- the handler ---------------------------------------------------------------------
    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            self._write(
                f"{signal.Signals(signum).name} again: stopping at once; what was sent is in "
                "the ledger and the next run goes on from there\n"
            )
            os._exit(exit_code_for(signum))
        self.signum = signum
        self.stop.set()
        self.asked_to_stop = bool(self._graceful)
        if not self._graceful:
            raise KeyboardInterrupt
        again = "Ctrl-C again" if signum == signal.SIGINT else "a second signal"
        self._write(
            f"{signal.Signals(signum).name}: stopping: no new request starts, those in flight "
            f"finish ({again} stops at once)\n"
        )


def _write_stderr(text: str) -> None:
    # os.write, not print: a signal handler may run while the main thread is inside print.
    with suppress(OSError):
        os.write(2, text.encode("utf-8", "replace"))
