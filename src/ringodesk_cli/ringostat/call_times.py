"""How long a call lasted and when it happened, as Ringostat's fields write them.

``billsec`` (talk) and ``duration`` (the whole call) are whole seconds (``42``; ``42.0`` as a
JSON number may carry) or a clock (``m:ss``, ``h:mm:ss``), from 0 to one day. Anything else
(``inf``, ``1e3``, a 30-digit number, a negative part) cannot be a call's length: the row is
refused naming the field, never rounded into something Zoho would show.

A call dated more than a day after now has not happened: a clock or an export gone wrong.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

MAX_SECONDS = 86_400  # one day: no call lasts longer
FUTURE_SLACK = timedelta(days=1)  # time zones and clocks that run a little ahead

# ASCII digits only: \d would take Arabic-Indic and other digits too.
_WHOLE = re.compile(r"^([0-9]{1,6})(?:[.,]0+)?$")
_CLOCK = re.compile(r"^([0-9]{1,5})(?::([0-5]?[0-9]))?:([0-5]?[0-9])$")


def parse_seconds(raw: str) -> int | None:
    """The seconds ``raw`` says (empty is 0), or None when it is not a call's length."""
    text = raw.strip()
    if not text:
        return 0
    whole = _WHOLE.match(text)
    if whole:
        total = int(whole.group(1))
    else:
        clock = _CLOCK.match(text)
        if not clock:
            return None
        first, middle, last = clock.groups()
        if middle is None:  # m:ss
            total = int(first) * 60 + int(last)
        else:  # h:mm:ss
            total = (int(first) * 60 + int(middle)) * 60 + int(last)
    return total if total <= MAX_SECONDS else None


def seconds_problem(raw: str) -> str:
    """Why ``raw`` is refused as a number of seconds, for the bad row's line."""
    return (
        f"{raw.strip()!r} is not a call length: whole seconds (42) or a clock (1:05, 0:01:05), "
        f"from 0 to {MAX_SECONDS:,} (one day)"
    )


def too_far_ahead(started_at: datetime, now: datetime) -> bool:
    """Whether a call starting at ``started_at`` (aware) lies more than a day after ``now``."""
    return started_at > now + FUTURE_SLACK
