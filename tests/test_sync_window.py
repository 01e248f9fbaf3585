"""The replay window (R9): 3d = today and the two previous days in the profile's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ringodesk_cli.sync.window import replay_start

KYIV = ZoneInfo("Europe/Kyiv")


def test_3d_starts_at_local_midnight_two_days_before_today() -> None:
    now = datetime(2024, 5, 14, 10, 0, tzinfo=UTC)  # 13:00 in Kyiv (UTC+3)
    assert replay_start("3d", KYIV, now) == datetime(2024, 5, 11, 21, 0, tzinfo=UTC)


def test_1d_is_today_only_even_just_after_local_midnight() -> None:
    now = datetime(2024, 5, 13, 21, 30, tzinfo=UTC)  # 00:30 on the 14th in Kyiv
    assert replay_start("1d", KYIV, now) == datetime(2024, 5, 13, 21, 0, tzinfo=UTC)


def test_days_across_a_dst_change_count_calendar_days() -> None:
    now = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)  # Kyiv moved to UTC+3 that night
    assert replay_start("3d", KYIV, now) == datetime(2024, 3, 28, 22, 0, tzinfo=UTC)


def test_hours_are_a_rolling_window() -> None:
    now = datetime(2024, 5, 14, 10, 0, tzinfo=UTC)
    assert replay_start("12h", KYIV, now) == datetime(2024, 5, 13, 22, 0, tzinfo=UTC)
