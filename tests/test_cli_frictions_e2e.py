"""End to end through the installed `ringodesk`: `ringostat login` names the API root it
asked and how to change it; the plain-file secrets warning comes once, when a secret is
stored there, not on every later command."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import RINGODESK, Result

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

KEY = "sandbox-ringostat-key-friction"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = start_sandbox(SandboxConfig(port=0, ringostat_key=KEY))
    try:
        yield sandbox
    finally:
        sandbox.stop()


def run(env: dict[str, str], *args: str, stdin: str = "") -> Result:
    proc = subprocess.run(
        [str(RINGODESK), *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def profile(api_url: str | None) -> None:
    settings = Settings.load("default", Paths.discover())
    settings.set("ringostat.timezone", "Europe/Kyiv")
    if api_url is not None:
        settings.set("ringostat.api_url", api_url)
    settings.save()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_login_that_cannot_reach_ringostat_names_the_url_and_the_setting(
    subprocess_env: dict[str, str],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    profile(url)
    result = run(subprocess_env, "ringostat", "login", "--insecure-storage", stdin=KEY)
    assert result.code == 5, result
    assert f"error: {url}: Ringostat could not be reached" in result.stderr
    assert (
        f"hint: ringostat.api_url is {url} (from the file); if your project uses another API "
        "root, `ringodesk config set ringostat.api_url URL`, then `ringodesk ringostat login` "
        "again"
    ) in result.stderr


def test_login_with_a_refused_key_names_the_url_it_asked(
    subprocess_env: dict[str, str], sb: Sandbox
) -> None:
    profile(sb.url)
    result = run(subprocess_env, "ringostat", "login", "--insecure-storage", stdin="wrong-key")
    assert result.code == 4, result
    assert f"error: {sb.url}: Ringostat refused the Auth-key" in result.stderr
    assert f"ringostat.api_url is {sb.url} (from the file)" in result.stderr


def test_the_default_api_url_is_named_as_the_default() -> None:
    from ringodesk_cli.setup.ringostat_key import api_url_hint

    class Session:
        settings = Settings("default", Path("default.toml"), "")

    hint = api_url_hint(Session())  # type: ignore[arg-type]
    assert hint.startswith("ringostat.api_url is https://api.ringostat.net (the default);")


def test_the_plain_file_warning_comes_once_when_a_secret_is_stored(
    subprocess_env: dict[str, str], sb: Sandbox
) -> None:
    profile(sb.url)
    login = run(subprocess_env, "ringostat", "login", "--insecure-storage", stdin=KEY)
    assert login.code == 0, login
    assert login.stderr.count("secrets are stored in a plain file") == 1, login.stderr
    assert f"Ringostat Auth-key works at {sb.url} (ringostat.api_url)" in login.stderr
    for args in (("ringostat", "status"), ("config", "show"), ("auth", "status")):
        later = run(subprocess_env, *args)
        assert "plain file" not in later.stderr, (args, later)
    status = run(subprocess_env, "ringostat", "status", "--json")
    assert status.code == 0 and status.json()["key"] == "works", status


def test_config_set_takes_a_toml_array_for_recordings_hosts(
    subprocess_env: dict[str, str],
) -> None:
    profile(None)
    default = run(subprocess_env, "config", "get", "recordings.hosts")
    assert default.stdout.strip() == '["ringostat.com", "ringostat.net"]', default
    value = '["ringostat.com", "http://127.0.0.1:9000"]'
    saved = run(subprocess_env, "config", "set", "recordings.hosts", value)
    assert saved.code == 0, saved
    assert run(subprocess_env, "config", "get", "recordings.hosts", "--json").json() == {
        "key": "recordings.hosts",
        "value": ["ringostat.com", "http://127.0.0.1:9000"],
    }
    path = Path(run(subprocess_env, "config", "path").stdout.strip())
    assert 'hosts = ["ringostat.com", "http://127.0.0.1:9000"]' in path.read_text()
    for bad, why in (
        ("ringostat.com", "is not a TOML array like"),
        ('["ringostat.com.evil.io/x"]', "is not a domain like ringostat.com"),
        ('["ftp://127.0.0.1:9000"]', "is not an origin like http://127.0.0.1:9000"),
        ("[1, 2]", "is not a list of hosts"),
    ):
        refused = run(subprocess_env, "config", "set", "recordings.hosts", bad)
        assert refused.code == 3 and why in refused.stderr, (bad, refused)
    assert "http://127.0.0.1:9000" in path.read_text()  # a refused value changes nothing
