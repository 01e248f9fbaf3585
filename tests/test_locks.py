"""The run lock: one run at a time, released by the kernel even after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringodesk_cli.errors import BusyError, ExitCode
from ringodesk_cli.locks import RunLock

# The holder runs in a separate process: flock is what another cron run would meet.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ringodesk_cli.locks import RunLock
    lock = RunLock(Path(sys.argv[1]))
    lock.acquire(timeout=0)
    print("locked", flush=True)
    sys.stdin.readline()  # hold until told to go (or killed)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=5)


def test_second_run_gets_busy_error_naming_file_and_holder_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(BusyError) as info, RunLock(tmp_path):
        pytest.fail("the lock must not be granted")
    message = str(info.value)
    assert str(tmp_path / "sync.lock") in message
    assert f"pid {holder.pid}" in message
    assert info.value.exit_code == ExitCode.BUSY


def test_lock_is_free_again_after_the_holder_exits(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    holder.wait(timeout=5)
    with RunLock(tmp_path) as lock:
        assert lock.held
        assert lock.holder_pid() == os.getpid()


def test_lock_is_released_when_the_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=5)
    with RunLock(tmp_path) as lock:
        assert lock.held


def test_acquire_with_timeout_waits_then_reports_busy(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    now = [0.0]
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    lock = RunLock(tmp_path, sleep=fake_sleep, clock=lambda: now[0])
    with pytest.raises(BusyError, match=r"waited 1s"):
        lock.acquire(timeout=1.0)
    assert sum(sleeps) == pytest.approx(1.0)
    assert not lock.held


def test_acquire_with_timeout_succeeds_once_the_holder_leaves(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None

    def release_during_wait(seconds: float) -> None:
        if holder.poll() is None:
            holder.stdin.write("go\n")  # type: ignore[union-attr]
            holder.stdin.flush()  # type: ignore[union-attr]
            holder.wait(timeout=5)

    lock = RunLock(tmp_path, sleep=release_during_wait).acquire(timeout=30)
    assert lock.held
    lock.release()


def test_two_locks_in_one_process_also_exclude_each_other(tmp_path: Path) -> None:
    with RunLock(tmp_path), pytest.raises(BusyError), RunLock(tmp_path):
        pass
    with RunLock(tmp_path) as again:  # released on exit of the first block
        assert again.held


def test_locks_with_different_names_are_independent(tmp_path: Path) -> None:
    with RunLock(tmp_path, "sync"), RunLock(tmp_path, "token") as token:
        assert token.path == tmp_path / "token.lock"


def test_release_clears_the_pid_and_keeps_the_file(tmp_path: Path) -> None:
    lock = RunLock(tmp_path / "new-state").acquire(timeout=0)
    assert lock.path.read_text().strip() == str(os.getpid())
    assert lock.path.stat().st_mode & 0o777 == 0o600
    lock.release()
    lock.release()  # harmless twice
    assert lock.path.exists()
    assert lock.holder_pid() is None


def test_lock_name_must_be_a_plain_file_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lock name"):
        RunLock(tmp_path, "../elsewhere")
