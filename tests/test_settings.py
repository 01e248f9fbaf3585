from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from ringodesk_cli.config.settings import KEYS, TABLES, Paths, Settings, line_of, resolve_profile
from ringodesk_cli.errors import ConfigError, ExitCode

ROOT = Path(__file__).resolve().parents[1]


def write_profile(text: str, profile: str = "default") -> Path:
    path = Paths.discover().config_file(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_ringodesk_home_puts_config_and_state_under_it(isolated_home: Path) -> None:
    paths = Paths.discover()
    assert paths.config_file("work") == isolated_home / "config" / "work.toml"
    assert paths.state_dir("work") == isolated_home / "state" / "work"


def test_profile_comes_from_flag_then_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_profile(None) == "default"
    monkeypatch.setenv("RINGODESK_PROFILE", "night")
    assert resolve_profile(None) == "night"
    assert resolve_profile("day") == "day"
    with pytest.raises(ConfigError):
        resolve_profile("../etc")


def test_paths_and_profile_read_the_given_variables_not_the_process(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGODESK_PROFILE", "process")
    env = {"RINGODESK_HOME": str(tmp_path / "other"), "RINGODESK_PROFILE": "given"}
    assert Paths.discover(env).config_file("x") == tmp_path / "other" / "config" / "x.toml"
    assert Paths.discover().config_file("x") == isolated_home / "config" / "x.toml"
    assert resolve_profile(None, env) == "given"
    assert resolve_profile(None, {}) == "default"
    assert resolve_profile("flag", env) == "flag"
    with pytest.raises(ConfigError):
        resolve_profile(None, {"RINGODESK_PROFILE": "../etc"})


def test_example_config_loads_and_names_every_key() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    settings = Settings("example", ROOT / "config.example.toml", text)
    data = tomllib.loads(text)
    for name in KEYS:
        *sections, leaf = name.split(".")
        if sections[0] == "rules" and len(sections) == 2:
            # per call type overrides: each [rules.<type>] table is shown, with some keys
            assert isinstance(data["rules"][sections[1]], dict), f"lacks [rules.{sections[1]}]"
            continue
        node = data
        for part in sections:
            node = node[part]
        assert leaf in node, f"config.example.toml lacks {name}"
    assert settings.array("routing"), "config.example.toml shows no [[routing]] entry"
    for table in TABLES:
        node = data
        for part in table.split("."):
            node = node[part]
        assert isinstance(node, dict)
    assert settings.get("integration.task_deadline") == "4h"


def test_defaults_apply_when_file_is_missing() -> None:
    settings = Settings.load("default", Paths.discover())
    assert not settings.exists
    assert settings.get("integration.task_deadline") == "4h"
    assert settings.get("zoho.concurrency") == 5
    assert settings.get("zoho.redirect_port") == 8765
    assert settings.get("integration.tickets") == "new-caller"
    assert settings.get("ringostat.default_region") == "UA"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile('[zoho]\ndesk_url = "https://desk.zoho.eu"\n')
    settings = Settings.load("default", Paths.discover())
    assert settings.get("zoho.desk_url") == "https://desk.zoho.eu"
    monkeypatch.setenv("RINGODESK_DESK_URL", "http://127.0.0.1:9999/")
    assert settings.get("zoho.desk_url") == "http://127.0.0.1:9999"
    assert settings.source_of("zoho.desk_url") == "env RINGODESK_DESK_URL"


def test_bad_duration_names_file_line_and_key() -> None:
    path = write_profile(
        '# mine\n[zoho]\nregion = "eu"\n\n[integration]\ntask_deadline = "4 hours"\n'
    )
    with pytest.raises(ConfigError) as info:
        Settings.load("default", Paths.discover())
    assert str(info.value) == (
        f"{path}:6: integration.task_deadline: '4 hours' is not a duration like 4h or 90m"
    )
    assert info.value.exit_code == ExitCode.CONFIG


def test_toml_syntax_error_names_the_line() -> None:
    path = write_profile('[zoho]\nregion = "eu"\nclient_id = \n')
    with pytest.raises(ConfigError) as info:
        Settings.load("default", Paths.discover())
    assert str(info.value).startswith(f"{path}:3: not valid TOML")


def test_unknown_key_suggests_the_close_one() -> None:
    write_profile('[integration]\ntask_dedline = "4h"\n')
    with pytest.raises(ConfigError) as info:
        Settings.load("default", Paths.discover())
    assert ":2: integration.task_dedline: unknown setting" in str(info.value)
    assert info.value.hint == "did you mean integration.task_deadline?"


def test_a_secret_in_the_file_is_refused() -> None:
    write_profile('[zoho]\nclient_secret = "abc123"\n')
    with pytest.raises(ConfigError) as info:
        Settings.load("default", Paths.discover())
    assert "secrets do not belong" in str(info.value)
    assert "abc123" not in str(info.value)


def test_set_keeps_comments_and_order_and_saves_atomically() -> None:
    original = (
        '# my notes stay\n[zoho]\n# the EU DC\nregion = "eu"\nclient_id = "1000.X"\n\n'
        '[integration]\ntask_deadline = "4h"  # four hours\n'
    )
    path = write_profile(original)
    settings = Settings.load("default", Paths.discover())
    settings.set("integration.task_deadline", "90m")
    settings.set("zoho.concurrency", "10")
    settings.set_table_entry("employees", "anna_sip", "1001")
    settings.save()
    text = path.read_text(encoding="utf-8")
    assert "# my notes stay" in text
    assert "# the EU DC" in text
    assert 'task_deadline = "90m"  # four hours' in text
    assert text.index("region") < text.index("client_id") < text.index("concurrency")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings.load("default", Paths.discover())
    assert again.get("zoho.concurrency") == 10
    assert again.table("employees") == {"anna_sip": "1001"}
    assert not list(path.parent.glob("*.tmp"))


def test_invalid_set_writes_nothing() -> None:
    path = write_profile('[zoho]\nregion = "eu"\n')
    before = path.read_bytes()
    settings = Settings.load("default", Paths.discover())
    with pytest.raises(ConfigError):
        settings.set("zoho.region", "mars")
    assert path.read_bytes() == before


def test_line_of_finds_keys_in_tables_and_dotted_tables() -> None:
    text = '[zoho]\nregion = "eu"\n[mapping.ticket]\nlanding = "cf_x"\n'
    assert line_of(text, "zoho.region") == 2
    assert line_of(text, "mapping.ticket.landing") == 4
    assert line_of(text, "mapping.ticket") == 3
    assert line_of(text, "zoho.client_id") is None


def test_require_returns_the_value_or_names_the_key_and_the_file() -> None:
    path = write_profile('[zoho]\norg_id = "42"\n')
    settings = Settings.load("default", Paths.discover())
    assert settings.require("zoho.org_id") == "42"
    with pytest.raises(ConfigError) as caught:
        settings.require("zoho.department_id")
    assert caught.value.exit_code == ExitCode.CONFIG
    assert caught.value.message == f"zoho.department_id not set in {path}"
    assert "ringodesk config set zoho.department_id VALUE" in (caught.value.hint or "")


def test_require_all_names_every_missing_key_and_counts_an_empty_string_as_unset() -> None:
    path = write_profile('[zoho]\nclient_id = ""\n')
    settings = Settings.load("default", Paths.discover())
    keys = ("zoho.client_id", "zoho.org_id", "zoho.department_id")
    with pytest.raises(ConfigError) as caught:
        settings.require_all(keys)
    assert caught.value.message == f"{', '.join(keys)} not set in {path}"
    assert "ringodesk config set KEY VALUE" in (caught.value.hint or "")
    settings.set("zoho.client_id", "1000.ABC")
    with pytest.raises(ConfigError, match=r"^zoho\.org_id, zoho\.department_id not set"):
        settings.require_all(keys)
    settings.set("zoho.org_id", "42")
    settings.set("zoho.department_id", "7")
    settings.require_all(keys)  # all set: no error


@pytest.mark.parametrize(("value", "ok"), [(1, True), (25, True), (0, False), (26, False)])
def test_concurrency_is_one_to_twenty_five(value: int, ok: bool) -> None:
    path = write_profile(f"[zoho]\nregion = 'eu'\nconcurrency = {value}\n")
    if ok:
        assert Settings.load("default", Paths.discover()).get("zoho.concurrency") == value
        return
    with pytest.raises(ConfigError) as caught:
        Settings.load("default", Paths.discover())
    assert caught.value.message.startswith(f"{path}:3: zoho.concurrency: {value} is not 1-25")
    assert "at most 25" in caught.value.message


def test_an_unknown_named_profile_lists_the_existing_ones() -> None:
    from ringodesk_cli.config.settings import profiles, require_profile
    from ringodesk_cli.errors import AuthError

    paths = Paths.discover()
    with pytest.raises(ConfigError) as caught:
        require_profile("nosuch", paths)
    assert caught.value.message == "no profile named nosuch (profiles: none yet)"
    assert "ringodesk activate --profile nosuch" in (caught.value.hint or "")
    write_profile("", "work")
    write_profile("", "night")
    assert profiles(paths) == ["night", "work"]
    with pytest.raises(ConfigError, match=r"^no profile named nosuch \(profiles: night, work\)$"):
        require_profile("nosuch", paths)
    require_profile("work", paths)  # exists: nothing raised
    # The default profile, never named, is a machine that was never activated (exit 4).
    with pytest.raises(AuthError, match=r"no profile named default \(profiles: night, work\)"):
        require_profile("default", paths, named=False)
