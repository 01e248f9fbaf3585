"""The delivery worker's process under its supervisor: a worker that dies is started again at
once (a growing pause only when it keeps dying), a stop ends it by SIGTERM, and one that
ignores SIGTERM is killed past its time. Nothing the supervisor does waits for the worker."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import worker_targets

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.serve.log_lines import LogFormat
from ringodesk_cli.serve.supervisor import MAX_PAUSE, RESTART_MAX, Supervisor, WorkerSpec


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WorkerSpec:
    monkeypatch.setenv("WORKER_READY", str(tmp_path / "ready"))
    return WorkerSpec("default", Paths.discover(), False, LogFormat())


def ready(one: Supervisor, tmp: Path) -> bool:
    pid = one._proc.pid if one._proc is not None else None
    return pid is not None and (tmp / f"ready.{pid}").exists()


@pytest.fixture
def made() -> Iterator[list[Supervisor]]:
    supervisors: list[Supervisor] = []
    yield supervisors
    for one in supervisors:
        one.stop(2)


def supervisor(spec: WorkerSpec, made: list[Supervisor], target: Any, **kw: Any) -> Supervisor:
    lines: list[dict[str, Any]] = []
    one = Supervisor(spec, lines.append, target=target, **kw)
    one.lines = lines  # type: ignore[attr-defined]
    made.append(one)
    return one


def test_a_worker_killed_by_sigkill_is_started_again_at_once(
    spec: WorkerSpec, made: list[Supervisor]
) -> None:
    clock = Clock()
    one = supervisor(spec, made, worker_targets.runs_until_terminated, monotonic=clock)
    one.start()
    until(lambda: one.alive)
    first = one._proc.pid  # type: ignore[union-attr]
    assert first is not None
    os.kill(first, signal.SIGKILL)
    until(lambda: not one._proc.is_alive())  # type: ignore[union-attr]
    one.check()
    assert one.alive and one._proc.pid != first  # type: ignore[union-attr]
    assert one.restarts == 1
    assert one.lines == [{"worker": "died", "exit": -signal.SIGKILL, "restart_in_s": 0.0}]  # type: ignore[attr-defined]


def test_a_worker_that_keeps_dying_is_restarted_after_a_growing_pause(
    spec: WorkerSpec, made: list[Supervisor]
) -> None:
    clock = Clock()
    one = supervisor(spec, made, worker_targets.exits_at_once, monotonic=clock)
    one.start()
    pauses = []
    for _ in range(RESTART_MAX + 3):
        until(lambda: not one._proc.is_alive())  # type: ignore[union-attr]
        one.check()
        pause = one.lines[-1]["restart_in_s"]  # type: ignore[attr-defined]
        pauses.append(pause)
        if pause:
            restarts = one.restarts
            one.check()  # too early: not started again
            assert one.restarts == restarts and one.down_for == 0.0
            clock.now += pause
            one.check()
        assert one.restarts == len(pauses)
        clock.now += 1  # each death a second after the last start: within the window
    # Three restarts at once, then 1, 2, 4 s (capped at MAX_PAUSE).
    assert pauses == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0]
    assert MAX_PAUSE >= 4.0


def test_stop_ends_the_worker_by_sigterm_or_kills_it_past_its_time(
    spec: WorkerSpec, made: list[Supervisor], tmp_path: Path
) -> None:
    polite = supervisor(spec, made, worker_targets.runs_until_terminated)
    stubborn = supervisor(spec, made, worker_targets.ignores_sigterm)
    for one in (polite, stubborn):
        one.start()
        until(lambda one=one: ready(one, tmp_path))  # type: ignore[misc]
    started = time.monotonic()
    polite.stop(5)
    assert not polite.alive and polite._proc.exitcode == 0  # type: ignore[union-attr]
    assert time.monotonic() - started < 3
    stubborn.stop(0.5)
    assert not stubborn.alive and stubborn._proc.exitcode == -signal.SIGKILL  # type: ignore[union-attr]
