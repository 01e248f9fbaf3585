"""Ctrl-C and SIGTERM during `ringodesk sync` (the installed command, the sandbox at 300 ms
latency): the first stops dispatching, lets the requests in flight finish and record their
outcome, prints the summary marked "interrupted" and exits 130 (143); a second ends the run
at once. Either way a rerun delivers every call exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from e2e import Call, Desk, ago, by_marker, write_export
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

LATENCY = 0.3
STOP_LIMIT = 2 * LATENCY + 1.0
CALLS = 30


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    d.setup()
    return d


def export(tmp_path: Path) -> Path:
    calls = [
        Call(f"int-{i}", f"+38067119{i:04d}", ago(60 - i), sip="anna_sip") for i in range(CALLS)
    ]
    return write_export(tmp_path / "calls.csv", calls)


def creates(desk: Desk) -> int:
    return sum(v for k, v in desk.sb.request_counts().items() if k.startswith("POST /api/v1/"))


def start_and_wait_for_writes(
    desk: Desk, path: Path, writes: int, *args: str
) -> subprocess.Popen[str]:
    arrived: list[float] = []
    handle = desk.sb.handle_desk

    def noted(*args: Any) -> Any:  # when each Desk request arrives, before it is answered
        arrived.append(time.monotonic())
        return handle(*args)

    desk.sb.handle_desk = noted  # type: ignore[method-assign]
    desk.sb.set_faults(latency_ms=int(LATENCY * 1000))
    goal = creates(desk) + writes
    run = desk.popen("sync", str(path), *args)
    deadline = time.monotonic() + 60
    while creates(desk) < goal and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.poll() is None, "the sync ended before the signal"
    run.arrived = arrived  # type: ignore[attr-defined]
    return run


def rerun_delivers_each_call_once(desk: Desk, path: Path) -> None:
    desk.sb.set_faults(latency_ms=0)
    again = desk.sync(str(path))
    assert again.code == 0, again
    for i in range(CALLS):
        assert len(by_marker(desk.sb.records("calls"), f"int-{i}")) == 1, i
    assert len(desk.sb.records("contacts")) == CALLS


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_first_signal_stops_dispatching_prints_the_summary_and_a_rerun_completes(
    desk: Desk, tmp_path: Path, signum: int, code: int
) -> None:
    path = export(tmp_path)
    run = start_and_wait_for_writes(desk, path, 40)  # of 90: a contact, ticket, call each
    sent = time.monotonic()
    run.send_signal(signum)
    out, err = run.communicate(timeout=60)
    stopped = time.monotonic() - sent
    assert run.returncode == code, (out, err)
    assert stopped <= STOP_LIMIT, stopped
    assert "sync interrupted:" in out and "pending" in out, out
    assert signal.Signals(signum).name in err
    # Requests already on the wire finished; none started afterwards.
    late = [t for t in run.arrived if t > sent + 0.1]  # type: ignore[attr-defined]
    assert late == [], f"{len(late)} requests arrived after the signal"
    made = len(desk.sb.records("calls"))
    assert 0 < made < CALLS
    rerun_delivers_each_call_once(desk, path)


def test_json_summary_says_which_signal_interrupted_the_run(desk: Desk, tmp_path: Path) -> None:
    path = export(tmp_path)
    run = start_and_wait_for_writes(desk, path, 4, "--json")
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 143, err
    data = json.loads(out)
    assert data["interrupted"] is True and data["signal"] == "SIGTERM"
    assert data["pending"] > 0 and data["delivered"] + data["pending"] <= CALLS
    rerun_delivers_each_call_once(desk, path)


def test_a_second_signal_ends_the_run_at_once_and_the_ledger_stays_consistent(
    desk: Desk, tmp_path: Path
) -> None:
    path = export(tmp_path)
    run = start_and_wait_for_writes(desk, path, 6)
    run.send_signal(signal.SIGINT)
    time.sleep(0.05)
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert time.monotonic() - sent < 1.0
    assert "again: stopping at once" in err
    rerun_delivers_each_call_once(desk, path)
