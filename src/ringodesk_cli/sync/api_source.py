"""`[source] kind = "api"`: the calls come from Ringostat's calls/list, not from files.

The window: a plain sync fetches from the last successful fetch (kept in the ledger) minus an
overlap, so that calls still IN PROGRESS at the last run are seen again once completed; the
start also reaches back to the oldest call still waiting (IN PROGRESS) in the ledger. `--replay
3d` fetches the whole replay window; `--since`/`--until` make a one-off backfill. A first
fetch with no history starts at the beginning of today (profile time zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ringodesk_cli.errors import AuthError, UsageError
from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.ringostat.api import RingostatClient, fields_for
from ringodesk_cli.ringostat.api_records import records_from_api
from ringodesk_cli.ringostat.records import BadRow, CallRecord

LAST_FETCH = "ringostat_last_fetch"
OVERLAP = timedelta(minutes=15)
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def parse_moment(text: str, timezone: ZoneInfo, what: str) -> datetime:
    """`2024-05-14`, `2024-05-14 09:00` or `2024-05-14 09:00:00`, in the profile's zone."""
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=timezone)
        except ValueError:
            continue
    raise UsageError(f"{what}: {text!r} is not a time like 2024-05-14 09:00")


def plan_window(
    ledger: Ledger,
    *,
    now: datetime,
    timezone: ZoneInfo,
    replay_since: datetime | None,
    since: datetime | None,
    until: datetime | None,
) -> Window:
    end = until or now
    if since is not None:
        start = since
    else:
        last = ledger.meta(LAST_FETCH)
        local_now = now.astimezone(timezone)
        start = (
            datetime.fromisoformat(last) - OVERLAP
            if last
            else datetime(local_now.year, local_now.month, local_now.day, tzinfo=timezone)
        )
        waiting = ledger.oldest(CallState.WAITING)
        if waiting:
            start = min(start, datetime.fromisoformat(waiting))
        if replay_since is not None:
            start = min(start, replay_since)
    if start >= end:
        raise UsageError(
            f"the window is empty: {start.isoformat()} is not before {end.isoformat()}"
        )
    return Window(start.astimezone(UTC), end.astimezone(UTC))


def fetch_records(
    *,
    api_url: str,
    key: str | None,
    window: Window,
    timezone: ZoneInfo,
    default_region: str,
    mappings: Mapping[str, str],
    client: RingostatClient | None = None,
) -> list[CallRecord | BadRow]:
    """Everything calls/list has in the window, read in full before Zoho is touched: a
    refused key stops the run before a single Desk request."""
    if not key:
        raise AuthError(
            "no Ringostat Auth-key is stored for this profile",
            hint="run `ringodesk ringostat login` (or set RINGODESK_RINGOSTAT_KEY)",
        )
    client = client or RingostatClient(api_url, key)
    rows = list(client.fetch(window.start, window.end, fields_for(mappings), timezone))
    return list(records_from_api(rows, timezone=timezone, default_region=default_region))
