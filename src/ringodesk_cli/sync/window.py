"""The replay window of `sync --replay`: `3d` = today and the two previous days, in the
profile's time zone; a window that is not a whole number of days is a rolling one (12h = the
last 12 hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ringodesk_cli.config.durations import parse_duration


def replay_start(window: str, timezone: ZoneInfo, now: datetime) -> datetime:
    """The first instant (UTC) inside the window ending at ``now`` (aware)."""
    delta = parse_duration(window)
    if delta.total_seconds() % 86400 == 0:
        days = int(delta.total_seconds() // 86400)
        local_now = now.astimezone(timezone)
        first_day = local_now.date() - timedelta(days=days - 1)
        start_local = datetime(first_day.year, first_day.month, first_day.day, tzinfo=timezone)
        return start_local.astimezone(UTC)
    return (now - delta).astimezone(UTC)
