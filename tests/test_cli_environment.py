"""The Environment read once by the entry point, and the root options' environment variables."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ringodesk_cli.commands import root
from ringodesk_cli.commands.context import ROOT_ENV_VARS, AppContext
from ringodesk_cli.environment import Environment
from ringodesk_cli.errors import ExitCode, UsageError


def env_of(**variables: str) -> Environment:
    return Environment(vars=variables, stdin_is_tty=True)


# -- Environment ----------------------------------------------------------------------------


def test_from_process_copies_the_variables_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGODESK_PROFILE", "first")
    env = Environment.from_process()
    monkeypatch.setenv("RINGODESK_PROFILE", "second")
    assert env.get("RINGODESK_PROFILE") == "first"
    assert env.profile() == "first"
    with pytest.raises(TypeError):
        env.vars["RINGODESK_PROFILE"] = "third"  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False), ("off", False)],
)
def test_flag_words(value: str, expected: bool) -> None:
    assert env_of(RINGODESK_QUIET=value).flag("RINGODESK_QUIET") is expected


def test_unset_or_blank_is_no_and_a_bad_word_is_a_usage_error() -> None:
    assert env_of().flag("RINGODESK_QUIET") is False
    assert env_of(RINGODESK_QUIET="  ").flag("RINGODESK_QUIET") is False
    with pytest.raises(UsageError, match="RINGODESK_QUIET='maybe'"):
        env_of(RINGODESK_QUIET="maybe").flag("RINGODESK_QUIET")


def test_count_takes_a_number_or_a_yes_no_word() -> None:
    assert env_of(RINGODESK_VERBOSE="2").count("RINGODESK_VERBOSE") == 2
    assert env_of(RINGODESK_VERBOSE="yes").count("RINGODESK_VERBOSE") == 1
    assert env_of().count("RINGODESK_VERBOSE") == 0


def test_derive_changes_the_copy_only(tmp_path: Path) -> None:
    moment = datetime(2026, 5, 1, 12, tzinfo=UTC)
    base = Environment(
        vars={"RINGODESK_HOME": "/nowhere", "RINGODESK_PROFILE": "work", "TZ": "UTC"},
        stdin_is_tty=True,
        clock=lambda: moment,
    )
    derived = base.derive(home=tmp_path, env={"RINGODESK_PROFILE": None, "EXTRA": "1"})
    assert derived.paths.config_file("demo") == tmp_path / "config" / "demo.toml"
    assert derived.profile() == "default"
    assert derived.get("EXTRA") == "1" and derived.get("TZ") == "UTC"
    assert derived.stdin_is_tty and derived.now() == moment
    assert base.get("RINGODESK_HOME") == "/nowhere" and base.profile() == "work"
    assert base.get("EXTRA") is None


def test_app_context_derive_keeps_the_options(tmp_path: Path) -> None:
    app = AppContext(env_of(RINGODESK_PROFILE="work"), json_mode=True)
    other = app.derive(home=tmp_path)
    assert other.json_mode and other.paths.state_dir("p") == tmp_path / "state" / "p"
    assert other.profile == "work"
    assert app.env.get("RINGODESK_HOME") is None


def test_interactive_needs_a_terminal_and_no_no_input() -> None:
    app = AppContext(env_of())
    app.apply_root_options(profile=None, verbose=0, quiet=False, json_mode=False, no_input=False)
    assert app.interactive
    app.apply_root_options(profile=None, verbose=0, quiet=False, json_mode=False, no_input=True)
    assert not app.interactive
    piped = AppContext(Environment(vars={}, stdin_is_tty=False))
    assert not piped.interactive


@pytest.mark.parametrize(
    ("variable", "attribute", "expected"),
    [
        ("RINGODESK_JSON", "json_mode", True),
        ("RINGODESK_QUIET", "quiet", True),
        ("RINGODESK_NO_INPUT", "no_input", True),
        ("RINGODESK_VERBOSE", "verbose", 1),
    ],
)
def test_each_root_option_falls_back_to_its_variable(
    variable: str, attribute: str, expected: object
) -> None:
    assert variable in ROOT_ENV_VARS.values()
    app = AppContext(env_of(**{variable: "1"}))
    app.apply_root_options(profile=None, verbose=0, quiet=False, json_mode=False, no_input=False)
    assert getattr(app, attribute) == expected
    plain = AppContext(env_of())
    plain.apply_root_options(profile=None, verbose=0, quiet=False, json_mode=False, no_input=False)
    assert not getattr(plain, attribute)


# -- through the entry point ------------------------------------------------------------------


def test_no_module_level_state_each_run_reads_the_environment_afresh(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not hasattr(root, "state")
    monkeypatch.setenv("RINGODESK_PROFILE", "morning")
    first = cli("config", "path", "--json").json()
    monkeypatch.setenv("RINGODESK_PROFILE", "evening")
    second = cli("config", "path", "--json").json()
    assert (first["profile"], second["profile"]) == ("morning", "evening")


def test_ringodesk_json_turns_on_json_output(
    cli: Any, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not cli("config", "path").stdout.startswith("{")
    monkeypatch.setenv("RINGODESK_JSON", "1")
    result = cli("config", "path")
    assert result.code == 0, result
    assert json.loads(result.stdout)["config_file"] == str(
        isolated_home / "config" / "default.toml"
    )


def test_ringodesk_quiet_silences_the_confirmation(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    loud = cli("config", "set", "integration.task_deadline", "2h")
    assert loud.code == 0 and "integration.task_deadline = 2h" in loud.stderr
    monkeypatch.setenv("RINGODESK_QUIET", "true")
    quiet = cli("config", "set", "integration.task_deadline", "3h")
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == ""
    assert cli("config", "get", "integration.task_deadline").stdout.strip() == "3h"


def test_ringodesk_verbose_shows_the_traceback_of_an_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    terse = cli("-p", "../etc", "config", "path")
    assert terse.code == ExitCode.CONFIG and "Traceback" not in terse.stderr
    monkeypatch.setenv("RINGODESK_VERBOSE", "1")
    verbose = cli("-p", "../etc", "config", "path")
    assert verbose.code == ExitCode.CONFIG and "Traceback" in verbose.stderr


def test_a_bad_value_is_a_usage_error_naming_the_variable(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGODESK_NO_INPUT", "sometimes")
    result = cli("config", "path")
    assert result.code == ExitCode.USAGE
    assert "RINGODESK_NO_INPUT='sometimes'" in result.stderr


def test_the_cron_line_still_parses_its_own_quiet(cli: Any) -> None:
    # `sync --replay 3d --quiet` with nothing to do: the flag after the command is accepted.
    result = cli("sync", "--replay", "3d", "--quiet", "--dry-run", "--offline")
    assert "No such option" not in result.stderr
    assert result.code != ExitCode.USAGE, result


def test_main_reads_the_process_environment_at_start(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGODESK_HOME", str(tmp_path / "elsewhere"))
    data = cli("config", "path", "--json").json()
    assert data["state_dir"] == str(tmp_path / "elsewhere" / "state" / "default")
    assert os.environ["RINGODESK_HOME"] == str(tmp_path / "elsewhere")


# -- help -------------------------------------------------------------------------------------


PLAIN_FLAGS = ("--json", "--quiet", "--help", "--no-input", "--verbose", "--dry-run", "--device")


@pytest.mark.parametrize("path", [(), ("sync",), ("agents", "list"), ("activate",)])
def test_help_puts_no_type_after_a_plain_flag(cli: Any, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.code == 0
    rows = [line.strip("│ ") for line in result.stdout.splitlines()]
    flag_rows = [row for row in rows if row.startswith(PLAIN_FLAGS)]
    assert len(flag_rows) >= 2, result.stdout
    for row in flag_rows:
        assert "<" not in row, row
    # Options that take a value keep their type.
    assert "<str>" in result.stdout
