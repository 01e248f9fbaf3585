"""Durations written the way cron users write them: 4h, 90m, 1h30m, 3d, 45s."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """Parse ``text``; raise ``ValueError`` with a readable reason when it is not a duration."""
    value = str(text).strip().lower()
    if not _WHOLE.match(value):
        raise ValueError(f"{text!r} is not a duration like 4h or 90m")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(value))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return timedelta(seconds=seconds)
