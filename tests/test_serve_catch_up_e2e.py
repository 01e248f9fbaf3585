"""One process in production: with ``source.kind = "api"`` `ringodesk serve` fetches what no
webhook brought from Ringostat's calls/list itself (``serve.catch_up_every``), under the
strict and the lenient readings. Calls whose webhooks were lost arrive within two periods,
each once; a server stopped for a while catches up on its start; a cron `sync --replay 3d`
beside it sends nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e import Call, Desk, ago, by_marker
from sandbox_fixture import kyiv_sandbox  # noqa: F401
from serving import Server

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.webhooks import send, webhooks

PERIOD_S = 2


@pytest.fixture
def desk(sb: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:
    env = {**subprocess_env, "RINGODESK_RINGOSTAT_KEY": sb.cfg.ringostat_key}
    d = Desk(sb, env, tmp_path)
    d.setup(
        settings={
            "ringostat.api_url": sb.url,
            "source.kind": "api",
            "serve.catch_up_every": f"{PERIOD_S}s",
        }
    )
    return d


def until(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def activities(sb: Sandbox, calls: list[Call]) -> dict[str, int]:
    records = sb.records("calls")
    return {c.id: len(by_marker(records, c.id)) for c in calls}


def test_calls_no_webhook_brought_arrive_from_the_api_once(sb: Sandbox, desk: Desk) -> None:
    calls = [Call(f"cu-{n:02d}", f"+3806713{n:05d}", when=ago(60 - n)) for n in range(20)]
    sb.ringostat_add_calls([c.row() for c in calls])
    server = Server(desk)
    try:
        hooked = calls[::2]  # webhooks for 10 of the 20
        after = [h for h in webhooks(c.row() for c in hooked) if h.event == "after"]
        assert send(after, server.hook_url(), rate=50, workers=2).statuses == {200: 10}
        # The first catch-up runs at the start, the next PERIOD_S later: two periods.
        everyone = until(lambda: set(activities(sb, calls).values()) == {1}, 2 * PERIOD_S + 8)
        assert everyone, activities(sb, calls)
        # The run's outcome is recorded when it ends, a moment after its last create.
        assert until(lambda: server.health().json()["catch_up"]["outcome"] == "ok", 5)
        assert server.health().json()["catch_up"]["every_s"] == 2
        creating = desk.creating()
        # A cron catch-up beside the server sends nothing.
        cron = desk.sync("--replay", "3d")
        assert cron.code == 0, cron
        assert desk.creating() == creating
    finally:
        code, err = server.stop()
    assert code == 0, err

    # Stopped for a while: the calls of that time arrive when it starts again.
    later = [Call(f"cu-l{n}", f"+3806714{n:05d}", when=ago(5 - n)) for n in range(5)]
    sb.ringostat_add_calls([c.row() for c in later])
    server = Server(desk)
    try:
        assert until(lambda: set(activities(sb, later).values()) == {1}, 2 * PERIOD_S + 8), (
            activities(sb, later)
        )
    finally:
        code, err = server.stop()
    assert code == 0, err
    assert set(activities(sb, calls + later).values()) == {1}
    assert '"catch_up": "ok"' in err
