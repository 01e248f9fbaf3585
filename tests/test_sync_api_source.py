from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.errors import AuthError, UsageError
from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.sync.api_source import (
    LAST_FETCH,
    OVERLAP,
    Window,
    fetch_records,
    parse_moment,
    plan_window,
)

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # 14:00 in Kyiv


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def plan(ledger: Ledger, **kw: object) -> Window:
    args: dict[str, object] = {"replay_since": None, "since": None, "until": None, **kw}
    return plan_window(ledger, now=NOW, timezone=KYIV, **args)  # type: ignore[arg-type]


def test_first_fetch_starts_at_the_beginning_of_today_in_the_profile_zone(ledger: Ledger) -> None:
    window = plan(ledger)
    assert window.start == datetime(2026, 11, 25, 0, 0, tzinfo=KYIV).astimezone(UTC)
    assert window.end == NOW


def test_next_fetch_starts_at_the_last_one_minus_the_overlap(ledger: Ledger) -> None:
    last = NOW - timedelta(minutes=5)
    ledger.set_meta(LAST_FETCH, last.isoformat())
    assert plan(ledger).start == last - OVERLAP


def test_a_call_still_in_progress_pulls_the_start_back_to_it(ledger: Ledger) -> None:
    ledger.set_meta(LAST_FETCH, (NOW - timedelta(minutes=5)).isoformat())
    started = NOW - timedelta(hours=2)
    ledger.upsert_call(
        ringostat_id="long-1",
        started_at=started.isoformat(),
        client_number="+380671234567",
        content_hash="x",
        state=CallState.WAITING,
        record={},
        source="api",
        line=1,
    )
    assert plan(ledger).start == started


def test_replay_widens_the_window_and_since_until_override(ledger: Ledger) -> None:
    ledger.set_meta(LAST_FETCH, (NOW - timedelta(minutes=5)).isoformat())
    replay_from = NOW - timedelta(days=2)
    assert plan(ledger, replay_since=replay_from).start == replay_from
    since = parse_moment("2026-11-01", KYIV, "--since")
    until = parse_moment("2026-11-02 09:30", KYIV, "--until")
    window = plan(ledger, since=since, until=until)
    assert window.start == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 2, 7, 30, tzinfo=UTC)


def test_an_empty_or_unreadable_window_is_a_usage_error(ledger: Ledger) -> None:
    with pytest.raises(UsageError):
        plan(ledger, since=NOW + timedelta(hours=1))
    with pytest.raises(UsageError):
        parse_moment("yesterday", KYIV, "--since")


def test_no_stored_key_is_an_auth_error_naming_the_login_command() -> None:
    with pytest.raises(AuthError) as info:
        fetch_records(
            api_url="http://127.0.0.1:9",
            key=None,
            window=Window(NOW - timedelta(hours=1), NOW),
            timezone=KYIV,
            default_region="UA",
            mappings={},
        )
    assert "ringodesk ringostat login" in (info.value.hint or "")


def test_the_ringostat_command_names_the_same_env_var_as_the_credential_store() -> None:
    from ringodesk_cli.commands.ringostat import ENV_VAR
    from ringodesk_cli.credentials import ENV_VARS

    assert ENV_VARS["ringostat_key"] == ENV_VAR == "RINGODESK_RINGOSTAT_KEY"
