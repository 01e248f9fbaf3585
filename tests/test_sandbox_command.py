"""`ringodesk sandbox serve`, the command module mounted on its own Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from ringodesk_cli.commands.sandbox import app as sandbox_app
from ringodesk_cli.sandbox.seed import PEOPLE

# A one-command Typer app collapses into that command; mount it under "sandbox" as the
# root app does.
app = typer.Typer()
app.add_typer(sandbox_app, name="sandbox")


def test_serve_prints_urls_credentials_and_the_activate_command() -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--port", "0", "--serve-seconds", "0.2"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:" in result.output
    assert "1000.SANDBOXCLIENT" in result.output
    assert "ringodesk activate --accounts-url http://127.0.0.1:" in result.output
    assert "--client-secret-file" in result.output and "--no-input" in result.output
    assert "--grant-code 1000." in result.output


def test_serve_json_mode_gives_a_usable_grant_code_and_saves_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    result = CliRunner().invoke(
        app,
        [
            "sandbox",
            "serve",
            "--port",
            "0",
            "--json",
            "--state",
            str(state),
            "--serve-seconds",
            "0.2",
        ],
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["desk_url"] == info["accounts_url"]
    assert info["grant_code"].startswith("1000.") and "*" not in info["grant_code"]
    assert "--grant-code " + info["grant_code"] in info["activate"]
    assert json.loads(state.read_text())["desk"]["org"]["id"] == info["org_id"]
    assert not Path(info["client_secret_file"]).exists()


def test_serve_refuses_a_fail_rate_above_one() -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--port", "0", "--fail-rate", "2"])
    assert result.exit_code == 2
    assert "between 0 and 1" in result.output


def _serve_json(*extra: str) -> dict[str, object]:
    args = ["sandbox", "serve", "--port", "0", "--json", "--serve-seconds", "0.2", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    info: dict[str, object] = json.loads(result.output)
    return info


def test_serve_defaults_to_the_strict_readings_and_takes_a_preset_and_single_readings() -> None:
    from ringodesk_cli.sandbox.config import LENIENT, STRICT

    assert _serve_json()["readings"] == STRICT
    assert _serve_json("--readings", "lenient")["readings"] == LENIENT
    mixed = _serve_json("--reading", "search=digits", "--reading", "contact_calls=present")
    assert mixed["readings"] == STRICT | {"search": "digits", "contact_calls": "present"}
    over = _serve_json("--readings", "lenient", "--reading", "search=exact")
    assert over["readings"] == LENIENT | {"search": "exact"}


def test_serve_lists_every_reading_in_its_help() -> None:
    from ringodesk_cli.sandbox.config import READINGS

    result = CliRunner().invoke(app, ["sandbox", "serve", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    for name, values in READINGS.items():
        assert f"{name}={'|'.join(values)}" in text


def test_serve_refuses_unknown_readings_with_a_usage_error() -> None:
    for args, message in (
        (["--reading", "search=fuzzy"], "search takes exact|digits"),
        (["--reading", "nosuch=1"], "unknown reading 'nosuch'"),
        (["--reading", "search"], "expected NAME=VALUE"),
        (["--readings", "loose"], "unknown readings preset"),
    ):
        result = CliRunner().invoke(app, ["sandbox", "serve", "--port", "0", *args])
        assert result.exit_code == 2, args
        assert message in " ".join(result.output.split()), result.output


def test_serve_seeds_people_unless_told_not_to(tmp_path: Path) -> None:
    for flag, expected in (("--seed-people", len(PEOPLE)), ("--no-seed-people", 0)):
        state = tmp_path / f"{flag}.json"
        _serve_json(flag, "--state", str(state))
        desk = json.loads(state.read_text())["desk"]
        assert len(desk["records"]["contacts"]) == expected
        custom = [f["apiName"] for f in desk["fields"]["contacts"] if f["isCustomField"]]
        assert custom == (["cf_landing_page", "cf_call_score"] if expected else [])


def test_the_printed_activate_command_works_as_given_without_a_keyring(
    subprocess_env: dict[str, str],
) -> None:
    """Copied from `sandbox serve`'s output and run by a shell on a machine with no keyring."""
    import os
    import signal
    import subprocess
    import sys

    bin_dir = str(Path(sys.executable).parent)
    env = subprocess_env | {
        "PATH": bin_dir + os.pathsep + subprocess_env.get("PATH", ""),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONUNBUFFERED": "1",
    }
    serve = subprocess.Popen(
        [f"{bin_dir}/ringodesk", "sandbox", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        printed: list[str] = []
        while not printed or not printed[-1].startswith("Press Ctrl-C"):
            line = serve.stdout.readline()
            assert line, "sandbox serve ended early"
            printed.append(line)
        agents = next(line for line in printed if line.strip().startswith("agents"))
        assert "olena@sandbox.example" in agents and "taras@sandbox.example" in agents
        command = next(line.strip() for line in printed if "ringodesk activate" in line)
        assert "--senior-manager olena@sandbox.example" in command
        activated = subprocess.run(
            command, shell=True, env=env, capture_output=True, text=True, timeout=60
        )
        assert activated.returncode == 0, activated
        assert "Olena Kovalenko" in activated.stdout
        # The profile is usable afterwards, without the flag (cron's case).
        listed = subprocess.run(
            [f"{bin_dir}/ringodesk", "agents", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed
        assert "taras@sandbox.example" in listed.stdout
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=30)
