"""`ringodesk sandbox serve`, the command module mounted on its own Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from ringodesk_cli.commands.sandbox import app as sandbox_app

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
