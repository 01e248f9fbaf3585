"""The server's API catch-up, its outcomes without a network (``sync.service.run_sync``
replaced): a lock held by another run delays it, a failure (Ringostat's or a bug) is kept
with the time it began failing until a catch-up works again, and the first catch-up after
a start reads the replay window."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ringodesk_cli.errors import BusyError, RingodeskError
from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.serve import catch_up as module
from ringodesk_cli.serve.catch_up import CATCH_UP, CatchUp
from ringodesk_cli.sync import service


class Clocks:
    def __init__(self) -> None:
        self.mono = 50.0
        self.now = datetime.now(UTC)

    def monotonic(self) -> float:
        return self.mono

    def clock(self) -> datetime:
        return self.now


def test_busy_failing_and_working_catch_ups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    clocks = Clocks()
    lines: list[dict[str, Any]] = []
    outcomes: list[Any] = []
    asked: list[str | None] = []

    def run_sync(_session: Any, _files: Any, options: Any, **_kw: Any) -> Any:
        asked.append(options.replay)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(summary=outcome)

    monkeypatch.setattr(service, "run_sync", run_sync)

    up = CatchUp(
        SimpleNamespace(), ledger, 600.0, log=lines.append, stop=threading.Event(),
        monotonic=clocks.monotonic, clock=clocks.clock,
    )  # fmt: skip
    assert not up.due() and up.next_at == 50.0 + module.FIRST_AFTER  # soon after the start
    clocks.mono = up.next_at

    outcomes.append(BusyError("a sync holds the lock"))
    assert up.run() is None and up.next_at == clocks.mono + 5.0  # tried again in 5 s

    began = clocks.now
    outcomes.append(RingodeskError("Ringostat answered HTTP 500 to calls/list"))
    state = up.run()
    assert state is not None and (state.outcome, state.failing_since) == (
        "failed",
        began.isoformat(),
    )
    assert up.next_at == clocks.mono + 600.0

    clocks.now += timedelta(minutes=10)
    outcomes.append(KeyError("a bug"))
    state = up.run()
    assert state is not None and state.error == "KeyError: 'a bug'"
    assert state.failing_since == began.isoformat()  # failing since the first failure
    assert json.loads(ledger.meta(CATCH_UP) or "{}")["error"] == "KeyError: 'a bug'"

    outcomes.append(SimpleNamespace(stopped=None, read=4, delivered=1, updated=0))
    state = up.run()
    assert state is not None and (state.outcome, state.failing_since) == ("ok", None)
    assert (state.read, state.delivered) == (4, 1)
    outcomes.append(SimpleNamespace(stopped=None, read=0, delivered=0, updated=0))
    up.run()
    # Until a catch-up worked, each one reads the replay window; after, the time since.
    assert asked == ["3d", "3d", "3d", "3d", None]
    assert lines[-2] == {"catch_up": "ok", "read": 4, "delivered": 1}
    ledger.close()
