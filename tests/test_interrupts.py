"""The process's SIGINT/SIGTERM handling: the first signal asks a graceful command to stop
(or interrupts any other), the second ends the process at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ringodesk_cli.interrupts import Interrupts, exit_code_for, result_of


@pytest.fixture
def interrupts() -> Interrupts:
    said: list[str] = []
    handler = Interrupts(write=said.append)
    handler.said = said  # type: ignore[attr-defined]
    assert handler.install()
    yield handler  # type: ignore[misc]
    handler.restore()


def test_exit_codes_follow_the_shell_convention() -> None:
    assert exit_code_for(signal.SIGINT) == 130
    assert exit_code_for(signal.SIGTERM) == 143


def test_within_graceful_the_first_signal_only_sets_the_event(interrupts: Interrupts) -> None:
    with interrupts.graceful() as stop:
        assert not stop.is_set()
        signal.raise_signal(signal.SIGTERM)
        assert stop.is_set()
    assert (interrupts.name, interrupts.exit_code, interrupts.asked_to_stop) == (
        "SIGTERM",
        143,
        True,
    )
    said = interrupts.said  # type: ignore[attr-defined]
    assert said and "no new request starts" in said[0] and "a second signal" in said[0]


def test_outside_graceful_the_first_signal_interrupts_as_python_does(
    interrupts: Interrupts,
) -> None:
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    assert (interrupts.name, interrupts.exit_code, interrupts.asked_to_stop) == (
        "SIGINT",
        130,
        False,
    )


def test_restore_gives_the_previous_handlers_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    handler = Interrupts()
    handler.install()
    assert signal.getsignal(signal.SIGTERM) != before
    handler.restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_delivered_to_a_worker_thread_is_handled_while_the_main_thread_waits(
    interrupts: Interrupts,
) -> None:
    """The kernel may deliver a process's signal to any thread; CPython runs the handler in
    the main thread only. The worker below waits for the stop flag for 10 s and then gives up:
    a main thread blocked in a plain ``future.result()`` would run the handler (which sets the
    flag) only after that, and the worker would answer False."""
    started = threading.Event()
    idents: list[int] = []

    def worker(stop: threading.Event) -> tuple[bool, bool]:
        idents.append(threading.get_ident())
        started.set()
        return stop.wait(10), threading.current_thread() is threading.main_thread()

    with interrupts.graceful() as stop, ThreadPoolExecutor(1) as pool:
        future = pool.submit(worker, stop)
        assert started.wait(5)
        threading.Timer(0.2, signal.pthread_kill, (idents[0], signal.SIGTERM)).start()
        saw_stop, in_main = result_of(future)
    assert (saw_stop, in_main, interrupts.name) == (True, False, "SIGTERM")


def test_result_of_gives_the_result_or_raises_the_workers_error() -> None:
    with ThreadPoolExecutor(1) as pool:
        assert result_of(pool.submit(lambda: 42)) == 42
        failing = pool.submit(lambda: 1 // 0)
        with pytest.raises(ZeroDivisionError):
            result_of(failing)
        timing_out = pool.submit(lambda: (_ for _ in ()).throw(TimeoutError("the worker's")))
        with pytest.raises(TimeoutError, match="the worker's"):
            result_of(timing_out)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_second_signal_ends_the_process_at_once(signum: int, code: int) -> None:
    script = textwrap.dedent(
        f"""
        import signal, time
        from ringodesk_cli.interrupts import Interrupts
        handler = Interrupts()
        handler.install()
        with handler.graceful() as stop:
            signal.raise_signal({int(signum)})
            assert stop.is_set()
            signal.raise_signal({int(signum)})
            time.sleep(30)
        print("not reached")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == code, done
    assert "not reached" not in done.stdout
    assert "again: stopping at once" in done.stderr
