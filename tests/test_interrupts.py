"""The process's SIGINT/SIGTERM handling: the first signal asks a graceful command to stop
(or interrupts any other), the second ends the process at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from ringodesk_cli.interrupts import Interrupts, exit_code_for


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
