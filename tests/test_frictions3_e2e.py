"""Frictions a new user met (round 3), through the installed command against the sandbox:
`config check` asks Zoho about what the team rules name, `log` explains an empty window when
older calls are in the ledger, `serve setup` prints the local URL for a rehearsal, and the
sandbox's calls/list speaks the profile's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e import Call, Desk, in_utc, write_export
from sandbox_fixture import kyiv_sandbox  # noqa: F401

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.sandbox import Sandbox


@pytest.fixture
def desk(sb: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:
    d = Desk(sb, subprocess_env, tmp_path)
    d.setup()
    return d


def append_config(text: str) -> None:
    path = Paths.discover().config_file("default")
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def test_config_check_names_routes_and_hours_zoho_does_not_know(desk: Desk) -> None:
    assert desk.run("config", "check").code == 0
    assert desk.run("config", "set", "integration.deadline_in", "business-hours").code == 0
    assert desk.run("config", "set", "integration.business_hours", "Night shift").code == 0
    append_config('[[routing]]\ndst = "+380445551000"\ndepartment = "Marketing"\n')
    checked = desk.run("config", "check")
    assert checked.code == 3, checked
    said = checked.stdout + checked.stderr
    assert "routing[1].department: no enabled department 'Marketing'" in said
    assert "integration.business_hours: no business-hours set 'Night shift'" in said
    offline = desk.run("config", "check", "--offline")
    assert offline.code == 0, offline
    assert "not checked against Zoho Desk (--offline)" in offline.stdout + offline.stderr


def test_log_says_older_calls_are_in_the_ledger(desk: Desk, tmp_path: Path) -> None:
    old = (datetime.now(UTC) - timedelta(days=10)).replace(tzinfo=None, microsecond=0)
    calls = [Call("old-1", "+380671190001", when=old), Call("old-2", "+380671190002", when=old)]
    assert desk.sync(str(write_export(tmp_path / "old.csv", calls))).code == 0
    shown = desk.run("log")
    assert shown.code == 0, shown
    assert "no calls match (the window counts each call's own date; 2 older call(s)" in (
        shown.stdout
    )
    newest = in_utc(old).date().isoformat()  # the ledger keeps start times in UTC
    assert f"the newest from {newest}: try --since {newest} or --since 30d)" in shown.stdout
    wider = desk.run("log", "--since", "30d", "--json")
    assert {e["ringostat_id"] for e in wider.json()} == {"old-1", "old-2"}


def test_serve_setup_prints_the_local_url_for_a_rehearsal(desk: Desk) -> None:
    form = desk.run("serve", "setup", "--public-url", "https://calls.example.com", "--json")
    assert form.code == 0, form
    data = form.json()
    key = data["after"].split("key=", 1)[1]
    assert data["local"]["after"] == (
        f"http://127.0.0.1:8790/ringostat/webhook?event=after&key={key}"
    )
    text = desk.run("serve", "setup", "--public-url", "https://calls.example.com")
    assert f"ringodesk sandbox webhooks --to '{data['local']['after']}' FILE" in text.stdout


def test_the_sandbox_calls_list_speaks_the_given_or_the_system_zone() -> None:
    import typer

    from ringodesk_cli.commands.sandbox import _zone
    from ringodesk_cli.config.keys import system_timezone

    assert _zone("Europe/Kyiv", {}) == "Europe/Kyiv"
    assert _zone(None, {"TZ": "America/Chicago"}) == "America/Chicago"
    assert _zone(None, {}) == system_timezone({})
    with pytest.raises(typer.BadParameter):
        _zone("Nowhere/Zone", {})
