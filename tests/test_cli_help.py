"""Every command documents itself, and the installed console script starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ringodesk_cli import __version__
from ringodesk_cli.commands.root import app

RINGODESK = str(Path(sys.executable).parent / "ringodesk")


def walk(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(prefix, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found.extend(walk(sub, (*prefix, name)))
    return found


COMMANDS = walk(typer.main.get_command(app))


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "root" for p, _ in COMMANDS]
)
def test_every_command_has_help_text(path: tuple[str, ...], command: Any) -> None:
    assert (command.help or "").strip(), f"`ringodesk {' '.join(path)}` has no help text"


@pytest.mark.parametrize(
    "path",
    [("sync",), ("agents", "list"), ("fields", "check"), ("auth", "status"), ("demo",)],
)
def test_commands_cron_runs_take_json_and_quiet(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--json" in options
    assert "--quiet" in options


def test_installed_console_script_shows_help_and_version(subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [RINGODESK, "--help"], env=subprocess_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for name in ("activate", "sync", "demo", "fields", "mapping", "employees", "sandbox"):
        assert name in done.stdout
    version = subprocess.run(
        [RINGODESK, "--version"], env=subprocess_env, capture_output=True, text=True, timeout=60
    )
    assert version.stdout.startswith("ringodesk ")


def test_version_is_answered_without_importing_typer_or_the_commands() -> None:
    probe = (
        "import sys\n"
        "from ringodesk_cli.main import invoke\n"
        "code = invoke(['--version'])\n"
        "heavy = ('typer', 'ringodesk_cli.commands', 'ringodesk_cli.credentials')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(heavy))\n"
        "print(code, loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == [f"ringodesk {__version__}", "0 []"]


def test_fields_help_counts_six_on_each_module_and_twelve_in_all() -> None:
    from ringodesk_cli.ringostat.catalogue import RS_FIELDS
    from ringodesk_cli.setup.fields import MODULES

    assert (len(RS_FIELDS), len(MODULES)) == (6, 2)  # the wording below states these numbers
    fields = dict(COMMANDS)[("fields",)]
    assert "six on each of tickets and contacts (12 in all)" in (fields.help or "")
    for name in ("create", "check"):
        text = " ".join((fields.commands[name].help or "").split())
        assert "six" in text and "each of tickets and contacts" in text and "12" in text, name
