from __future__ import annotations

from pathlib import Path

from ringodesk_cli.config.settings import Paths


def test_config_path_prints_the_profile_file(cli, isolated_home: Path) -> None:
    result = cli("--profile", "night", "config", "path")
    assert result.code == 0
    assert result.stdout.strip() == str(isolated_home / "config" / "night.toml")


def test_config_set_then_get_round_trip(cli) -> None:
    assert cli("config", "set", "integration.task_deadline", "2h").code == 0
    result = cli("config", "get", "integration.task_deadline")
    assert result.stdout.strip() == "2h"
    result = cli("config", "get", "integration.task_deadline", "--json")
    assert result.json() == {"key": "integration.task_deadline", "value": "2h"}


def test_config_set_bad_value_is_a_one_line_config_error(cli) -> None:
    result = cli("config", "set", "integration.task_deadline", "4 hours")
    assert result.code == 3
    assert result.stderr.splitlines()[0].endswith(
        "integration.task_deadline: '4 hours' is not a duration like 4h or 90m"
    )
    assert "Traceback" not in result.stderr
    assert not Paths.discover().config_file("default").exists()


def test_broken_file_gives_file_and_line_without_traceback(cli) -> None:
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True)
    path.write_text('[zoho]\nregion = "eu"\nconcurrency = "many"\n')
    result = cli("config", "show")
    assert result.code == 3
    assert f"{path}:3: zoho.concurrency:" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_show_json_lists_every_key_with_its_source(cli) -> None:
    cli("config", "set", "zoho.region", "eu")
    data = cli("config", "show", "--json").json()
    assert data["settings"]["zoho.region"] == {"value": "eu", "source": "file"}
    assert data["settings"]["integration.task_deadline"] == {"value": "4h", "source": "default"}


def test_unknown_command_is_a_usage_error(cli) -> None:
    assert cli("no-such-command").code == 2


def test_version(cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("ringodesk ")
