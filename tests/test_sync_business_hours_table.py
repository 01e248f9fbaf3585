"""Business-hours boundaries as a table computed on paper: every expected due date below was
worked out by hand from the slots, holidays and Kyiv's DST dates (29 March and 25 October
2026: 23- and 25-hour Sundays), never by the product's calendar. Closing time, midnight slot
ends, the Friday lunch break, weekends, recurring and year-specific holidays, DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.rules.business_hours import BusinessCalendar, calendar_from_zoho
from test_sync_business_hours import HOLIDAYS, HOURS

KYIV = ZoneInfo("Europe/Kyiv")


def hours(*times: dict[str, Any]) -> dict[str, Any]:
    return {"type": "SPECIFIC", "timeZone": {"id": "Europe/Kyiv"}, "businessTimes": list(times)}


def day(name: str, start: str, end: str, *slots: tuple[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"day": name, "startTime": start, "endTime": end}
    if slots:
        entry["timeSlots"] = [{"startTime": a, "endTime": b} for a, b in slots]
    return entry


WEEKDAYS = [day(d, "09:00", "18:00") for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY")]


def calendar(hours_set: dict[str, Any], holidays: list[dict[str, Any]] = []) -> BusinessCalendar:  # noqa: B006
    cal = calendar_from_zoho(hours_set, holidays)
    assert cal is not None
    return cal


# Mon-Thu 9-18, Fri 9-13 + 14-18, Sat 10-14; 8 March and 31 Dec - 1 Jan every year,
# 26-27 October 2026 only.
CAL = calendar(HOURS, HOLIDAYS)
# Mon-Fri 9-18; Saturday 22:00 to "24:00"; Sunday 20:00 to "00:00" (a Zoho time slot).
NIGHT = calendar(
    hours(
        *WEEKDAYS,
        day("FRIDAY", "09:00", "18:00"),
        day("SATURDAY", "22:00", "24:00"),
        day("SUNDAY", "20:00", "00:00", ("20:00", "00:00")),
    )
)
# The whole Sunday, then Monday 9-18: a Sunday lasts 23 hours in March and 25 in October.
# Monday "00:00" to "00:00": the whole day (an end of 00:00 is the day's midnight end).
ALLDAY = calendar(hours(day("MONDAY", "00:00", "00:00"), day("TUESDAY", "09:00", "18:00")))
# Monday's slots overlap, nest and touch (9-13, 10-11, 12-14, 14-18): one stretch 9-18.
OVERLAP = calendar(
    hours(
        day(
            "MONDAY",
            "09:00",
            "18:00",
            ("09:00", "13:00"),
            ("10:00", "11:00"),
            ("12:00", "14:00"),
            ("14:00", "18:00"),
        )
    )
)
SUNDAYS = calendar(hours(day("SUNDAY", "00:00", "24:00"), day("MONDAY", "09:00", "18:00")))

# (calendar, start as Kyiv wall time, working time, due as Kyiv wall time)
TABLE = [
    # closing time is kept: a deadline ending at 18:00 is due at 18:00, not 09:00 next day
    ("CAL", "2026-12-07 14:00", "4h", "2026-12-07 18:00"),
    ("CAL", "2026-12-07 18:00", "1m", "2026-12-08 09:01"),
    ("CAL", "2026-12-07 08:00", "1h", "2026-12-07 10:00"),
    # Friday's split slots: the morning ends at 13:00, the afternoon starts at 14:00
    ("CAL", "2026-12-04 09:00", "4h", "2026-12-04 13:00"),
    ("CAL", "2026-12-04 12:59", "2m", "2026-12-04 14:01"),
    ("CAL", "2026-12-04 17:00", "1h", "2026-12-04 18:00"),
    # weekends: Saturday 10-14 works, Sunday does not
    ("CAL", "2026-12-04 17:00", "2h", "2026-12-05 11:00"),
    ("CAL", "2026-12-05 14:00", "30m", "2026-12-07 09:30"),
    ("CAL", "2026-12-06 12:00", "9h", "2026-12-07 18:00"),
    # RECURRING 03-08: Monday 8 March 2027 is off
    ("CAL", "2027-03-08 10:00", "1h", "2027-03-09 10:00"),
    ("CAL", "2027-03-05 17:30", "5h", "2027-03-09 09:30"),
    # YEAR_SPECIFIC 2026 10-26..10-27 (Mon, Tue); in 2027 the 26th is a working Tuesday
    ("CAL", "2026-10-26 09:00", "1h", "2026-10-28 10:00"),
    ("CAL", "2027-10-26 09:00", "1h", "2027-10-26 10:00"),
    # RECURRING 12-31..01-01 wraps the year end: Thursday and Friday off, Saturday works
    ("CAL", "2026-12-31 10:00", "1h", "2027-01-02 11:00"),
    # the Monday after the spring DST change (Sunday is off): 1h Fri + 4h Sat + 1h Mon
    ("CAL", "2026-03-27 17:00", "6h", "2026-03-30 10:00"),
    # a slot ending at 00:00 or 24:00 is kept, and a deadline can fall on its midnight end
    ("NIGHT", "2026-12-06 23:00", "1h", "2026-12-07 00:00"),
    ("NIGHT", "2026-12-06 23:00", "2h", "2026-12-07 10:00"),
    ("NIGHT", "2026-12-05 21:00", "2h", "2026-12-06 00:00"),
    ("NIGHT", "2026-12-05 23:30", "1h", "2026-12-06 20:30"),
    ("ALLDAY", "2026-12-07 10:00", "14h", "2026-12-08 00:00"),
    ("ALLDAY", "2026-12-07 10:00", "15h", "2026-12-08 10:00"),
    ("ALLDAY", "2026-12-06 12:00", "24h", "2026-12-08 00:00"),
    ("OVERLAP", "2026-12-07 09:00", "9h", "2026-12-07 18:00"),
    ("OVERLAP", "2026-12-07 12:30", "1h", "2026-12-07 13:30"),
    # DST days in Kyiv: Sunday 29 March 2026 has 23 hours, Sunday 25 October 2026 has 25
    ("SUNDAYS", "2026-03-29 00:00", "23h", "2026-03-30 00:00"),
    ("SUNDAYS", "2026-03-29 00:00", "24h", "2026-03-30 10:00"),
    ("SUNDAYS", "2026-10-25 00:00", "24h", "2026-10-25 23:00"),
    ("SUNDAYS", "2026-10-25 00:00", "25h", "2026-10-26 00:00"),
]
CALENDARS = {"CAL": CAL, "NIGHT": NIGHT, "ALLDAY": ALLDAY, "OVERLAP": OVERLAP, "SUNDAYS": SUNDAYS}
UNITS = {"m": "minutes", "h": "hours"}


def wall(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KYIV)


@pytest.mark.parametrize(("cal", "start", "work", "due"), TABLE)
def test_due_dates_computed_on_paper(cal: str, start: str, work: str, due: str) -> None:
    delta = timedelta(**{UNITS[work[-1]]: int(work[:-1])})
    assert CALENDARS[cal].due(wall(start), delta) == wall(due)


@pytest.mark.parametrize(
    ("start", "work", "due_utc"),
    [
        # The same DST rows in UTC, written out: EET is UTC+2, EEST (summer) UTC+3.
        ("2026-03-29 00:00", "23h", "2026-03-29 21:00"),
        ("2026-03-29 00:00", "24h", "2026-03-30 07:00"),
        ("2026-10-25 00:00", "24h", "2026-10-25 21:00"),
        ("2026-10-25 00:00", "25h", "2026-10-25 22:00"),
    ],
)
def test_dst_days_in_utc(start: str, work: str, due_utc: str) -> None:
    due = SUNDAYS.due(wall(start), timedelta(hours=int(work[:-1])))
    assert due == datetime.fromisoformat(due_utc).replace(tzinfo=UTC)


def test_a_slot_across_the_spring_gap_is_as_long_as_it_really_is() -> None:
    # Sunday 29 March 2026 02:00-05:00 wall time: 00:00Z to 02:00Z, two real hours.
    gap = calendar(hours(day("SUNDAY", "02:00", "05:00"), day("MONDAY", "09:00", "18:00")))
    assert gap.due(wall("2026-03-29 02:00"), timedelta(hours=2)) == wall("2026-03-29 05:00")
    assert gap.due(wall("2026-03-29 02:00"), timedelta(hours=3)) == wall("2026-03-30 10:00")


def test_a_naive_start_and_a_calendar_without_working_time_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CAL.due(datetime(2026, 12, 7, 10, 0), timedelta(hours=1))
    closed = calendar(hours(day("MONDAY", "09:00", "09:00")))
    with pytest.raises(ValueError, match="no working time"):
        closed.due(wall("2026-12-07 10:00"), timedelta(hours=1))
