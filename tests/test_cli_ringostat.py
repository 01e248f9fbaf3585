"""`ringodesk ringostat login|status` in-process, against the sandbox's calls/list stand-in."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.credentials import CredentialStore
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

KEY = "sandbox-ringostat-key"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = start_sandbox(SandboxConfig(port=0, ringostat_key=KEY))
    try:
        yield sandbox
    finally:
        sandbox.stop()


def write_profile(api_url: str) -> None:
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'[ringostat]\napi_url = "{api_url}"\ntimezone = "Europe/Kyiv"\n', encoding="utf-8"
    )


def stored_key() -> str | None:
    return CredentialStore("default", Paths.discover().state_dir("default")).get("ringostat_key")


def listings(sb: Sandbox) -> int:
    return sb.request_counts().get("GET /calls/list", 0)


def test_login_from_a_key_file_checks_the_key_then_stores_it(
    cli: Any, sb: Sandbox, tmp_path: Path
) -> None:
    write_profile(sb.url)
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    result = cli("ringostat", "login", "--key-file", str(key_file), "--json")
    assert result.code == 0, result
    assert result.json() == {
        "profile": "default",
        "api_url": sb.url,
        "key": "works",
        "stored_in": "keyring",
        "overridden_by_env": False,
    }
    assert stored_key() == KEY
    assert listings(sb) == 1
    assert KEY not in result.stdout + result.stderr


def test_login_reads_a_piped_key_from_stdin(cli: Any, sb: Sandbox) -> None:
    write_profile(sb.url)
    result = cli("ringostat", "login", stdin=KEY + "\n")
    assert result.code == 0, result
    assert "works" in result.stderr
    assert stored_key() == KEY


def test_login_with_a_refused_key_exits_4_with_the_hint_and_stores_nothing(
    cli: Any, sb: Sandbox
) -> None:
    write_profile(sb.url)
    result = cli("ringostat", "login", "--key-file", "-", stdin="wrong-key-123\n")
    assert result.code == 4, result
    assert "Integration -> Ringostat API" in result.stderr
    assert "wrong-key-123" not in result.stdout + result.stderr
    assert stored_key() is None


def test_login_without_any_key_is_a_usage_error(cli: Any, sb: Sandbox) -> None:
    write_profile(sb.url)
    result = cli("ringostat", "login", stdin="")
    assert result.code == 2, result
    assert "empty" in result.stderr
    assert listings(sb) == 0


def test_login_refuses_the_key_as_a_plain_option(cli: Any, sb: Sandbox) -> None:
    write_profile(sb.url)
    result = cli("ringostat", "login", "--key", KEY)
    assert result.code == 2
    assert stored_key() is None


def test_status_without_a_key_exits_4_and_says_how_to_log_in(cli: Any, sb: Sandbox) -> None:
    write_profile(sb.url)
    result = cli("ringostat", "status", "--json")
    assert result.code == 4, result
    data = result.json()
    assert data["key"] == "not set"
    assert data["key_from"] is None
    assert "ringostat login" in data["hint"]
    assert listings(sb) == 0


def test_status_with_a_stored_working_key_says_where_and_exits_0(cli: Any, sb: Sandbox) -> None:
    write_profile(sb.url)
    assert cli("ringostat", "login", stdin=KEY).code == 0
    result = cli("ringostat", "status")
    assert result.code == 0, result
    assert "key from     keyring" in result.stdout
    assert "key          works" in result.stdout
    assert KEY not in result.stdout + result.stderr


def test_status_reports_the_environment_key_and_a_refused_one_exits_4(
    cli: Any, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(sb.url)
    monkeypatch.setenv("RINGODESK_RINGOSTAT_KEY", "env-key-that-is-wrong")
    result = cli("ringostat", "status", "--json")
    assert result.code == 4, result
    data = result.json()
    assert data["key_from"] == "env RINGODESK_RINGOSTAT_KEY"
    assert data["key"] == "broken"
    assert "env-key-that-is-wrong" not in result.stdout


def test_status_when_ringostat_cannot_be_reached_exits_5(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringodesk_cli.setup import ringostat_key as key

    monkeypatch.setattr(key, "CHECK_ATTEMPTS", 1)  # no backoff sleep in the test
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_profile(f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RINGODESK_RINGOSTAT_KEY", KEY)
    result = cli("ringostat", "status", "--json")
    assert result.code == 5, result
    assert "could not be reached" in result.json()["error"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_login_on_a_terminal_asks_for_the_key_with_hidden_input(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from ringodesk_cli.main import invoke

    write_profile(sb.url)
    asked: list[bool] = []

    def prompt(text: str, hide_input: bool = False) -> str:
        asked.append(hide_input)
        return KEY

    monkeypatch.setattr(sys, "stdin", _Terminal(""))
    monkeypatch.setattr(typer, "prompt", prompt)
    assert invoke(["ringostat", "login"]) == 0
    assert asked == [True]
    assert stored_key() == KEY
    assert "Integration -> Ringostat API" in capsys.readouterr().err


def test_login_on_a_terminal_with_no_input_never_prompts(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from ringodesk_cli.main import invoke

    write_profile(sb.url)
    monkeypatch.setattr(sys, "stdin", _Terminal(""))
    monkeypatch.setattr(typer, "prompt", lambda *a, **k: pytest.fail("prompted"))
    assert invoke(["--no-input", "ringostat", "login"]) == 2
    assert stored_key() is None
