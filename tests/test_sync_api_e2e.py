"""`[source] kind = "api"` end to end: the installed `ringodesk` fetches calls/list from the
sandbox's Ringostat stand-in and delivers to its Zoho Desk stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e import Call, Desk, ago, by_marker, write_export
from sandbox_fixture import kyiv_sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

CLIENT = "+380671110000"


@pytest.fixture
def desk(sb: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:
    d = Desk(sb, subprocess_env, tmp_path)
    d.setup(settings={"source.kind": "api", "ringostat.api_url": sb.url})
    return d


def api_rows(calls: list[Call]) -> list[dict[str, str]]:
    return [c.row() for c in calls]


def login(desk: Desk, key: str) -> None:
    key_file = desk.tmp / "ringostat-key.txt"
    key_file.write_text(key + "\n")
    result = desk.run("ringostat", "login", "--key-file", str(key_file))
    assert result.code == 0, result


def delivered_once(sb: Sandbox, ids: list[str]) -> None:
    calls = sb.records("calls")
    for rid in ids:
        assert len(by_marker(calls, rid)) == 1, rid


def test_cron_sequence_over_a_moving_clock_delivers_every_call_once(
    sb: Sandbox, desk: Desk
) -> None:
    login(desk, "sandbox-ringostat-key")
    first = [
        Call("api-1", CLIENT, when=ago(30), sip="anna_sip"),
        Call("api-2", "+380671110001", when=ago(25), disposition="NO ANSWER"),
        Call("api-3", "+380671110002", when=ago(20), disposition="IN PROGRESS", sip="anna_sip"),
    ]
    sb.ringostat_add_calls(api_rows(first))
    # A first run without --replay fetches from today's midnight (ringostat.timezone): in
    # the half hour after midnight the calls above fall on yesterday, so the window is given.
    run1 = desk.sync("--replay", "1d")
    assert run1.code == 0, run1
    assert run1.json()["delivered"] == 2
    assert run1.json()["waiting_in_progress"] == 1
    assert run1.json()["ringostat_window"] is not None

    # The clock moves: a new call arrives, the IN PROGRESS one completes.
    sb.ringostat_add_calls(api_rows([Call("api-4", CLIENT, when=ago(1), sip="petro_sip")]))
    sb.ringostat_update_call("api-3", disposition="ANSWERED", billsec="42")
    run2 = desk.sync()
    assert run2.code == 0, run2
    assert run2.json()["delivered"] == 2  # api-3 (now completed) and api-4
    before = desk.creating()
    run3 = desk.sync("--replay", "3d")
    assert run3.code == 0, run3
    assert run3.json()["delivered"] == 0
    assert desk.creating() == before
    delivered_once(sb, ["api-1", "api-2", "api-3", "api-4"])


def test_a_full_slice_is_split_so_no_call_is_cut_off(sb: Sandbox) -> None:
    # In-process: the stand-in and the client share a small cap (6,500 in real life), and
    # the sync's fetch path must still return every call of the window.
    import requests

    from ringodesk_cli.ringostat.api import RingostatClient
    from ringodesk_cli.sync.api_source import Window, fetch_records

    requests.post(f"{sb.url}/__sandbox__/ringostat/limits", json={"cap": 3}, timeout=5)
    calls = [Call(f"cap-{i}", f"+38067222{i:04d}", when=ago(50 - i)) for i in range(10)]
    sb.ringostat_add_calls(api_rows(calls))
    kyiv = ZoneInfo("Europe/Kyiv")
    client = RingostatClient(sb.url, "sandbox-ringostat-key", cap=3, sleep=lambda _s: None)
    now = datetime.now(UTC)
    items = fetch_records(
        api_url=sb.url,
        key="sandbox-ringostat-key",
        window=Window(now - timedelta(hours=2), now),
        timezone=kyiv,
        default_region="UA",
        mappings={},
        client=client,
    )
    assert sorted(getattr(i, "ringostat_id", "") for i in items) == sorted(c.id for c in calls)
    assert client.stats["splits"] >= 1


def test_a_wrong_auth_key_is_an_auth_error_and_sends_nothing_to_zoho(
    sb: Sandbox, desk: Desk
) -> None:
    sb.ringostat_add_calls(api_rows([Call("key-1", CLIENT, when=ago(5))]))
    desk.env["RINGODESK_RINGOSTAT_KEY"] = "not-the-key"
    before = {k: v for k, v in sb.request_counts().items() if k.startswith(("GET /api", "POST"))}
    result = desk.sync()
    assert result.code == 4, result
    assert "Ringostat" in result.stderr
    after = {k: v for k, v in sb.request_counts().items() if k.startswith(("GET /api", "POST"))}
    assert after == before
    assert "not-the-key" not in result.stdout + result.stderr


def test_a_file_export_and_an_api_fetch_of_the_same_calls_give_no_duplicate(
    sb: Sandbox, desk: Desk
) -> None:
    calls = [
        Call("mix-1", CLIENT, when=ago(40), sip="anna_sip", utm={"utm_source": "google"}),
        Call("mix-2", "+380671110009", when=ago(35), disposition="NO ANSWER"),
    ]
    export = write_export(desk.tmp / "export.csv", calls)
    by_file = desk.sync(str(export))
    assert by_file.code == 0, by_file
    assert by_file.json()["delivered"] == 2
    login(desk, "sandbox-ringostat-key")
    sb.ringostat_add_calls(api_rows(calls))
    creating = desk.creating()
    by_api = desk.sync()
    assert by_api.code == 0, by_api
    assert by_api.json()["delivered"] == 0
    assert desk.creating() == creating
    delivered_once(sb, ["mix-1", "mix-2"])
