"""Due dates in business hours: worked examples, and a property test checked against an
independent minute-by-minute count (across DST changes and a holiday)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringodesk_cli.errors import ConfigError
from ringodesk_cli.rules.business_hours import DAYS, calendar_from_zoho
from ringodesk_cli.rules.team_rules import business_calendar, choose_set

KYIV = ZoneInfo("Europe/Kyiv")
# Zoho's shape (BusinessHour.json): weekdays 9-18 with a lunch break on Friday, a Saturday
# morning, and a holiday list (HolidayList.json) with 8 March every year and a year-specific
# block after the autumn DST change (2026-10-25), and New Year wrapping the year end.
HOURS = {
    "type": "SPECIFIC",
    "timeZone": {"id": "Europe/Kyiv", "name": "Eastern European Time"},
    "businessTimes": [
        *({"day": d, "startTime": "09:00", "endTime": "18:00"} for d in DAYS[:4]),
        {"day": "FRIDAY", "startTime": "09:00", "endTime": "18:00",
         "timeSlots": [{"startTime": "09:00", "endTime": "13:00"},
                       {"startTime": "14:00", "endTime": "18:00"}]},
        {"day": "SATURDAY", "startTime": "10:00", "endTime": "14:00"},
    ],
    "associatedHolidayList": {"holidayListId": "7", "holidayListName": "UA"},
}  # fmt: skip
HOLIDAYS = [
    {"holidayListType": "RECURRING", "holidays": [
        {"holidayName": "Women's day", "from": "03-08", "to": "03-08"},
        {"holidayName": "New year", "from": "12-31", "to": "01-01"}]},
    {"holidayListType": "YEAR_SPECIFIC", "year": 2026, "holidays": [
        {"holidayName": "Autumn break", "from": "10-26", "to": "10-27"}]},
]  # fmt: skip
CAL = calendar_from_zoho(HOURS, HOLIDAYS)
assert CAL is not None


def kyiv(*args: int) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def test_friday_evening_plus_four_hours_is_monday_morning() -> None:
    # 17:50 on Friday 2026-12-04: 10 minutes on Friday, Saturday 10-14, then Monday.
    weekdays_only = calendar_from_zoho({**HOURS, "businessTimes": HOURS["businessTimes"][:5]})
    assert weekdays_only is not None
    due = weekdays_only.due(kyiv(2026, 12, 4, 17, 50), timedelta(hours=4))
    assert due == kyiv(2026, 12, 7, 12, 50)
    assert CAL.due(kyiv(2026, 12, 4, 17, 50), timedelta(hours=4)) == kyiv(2026, 12, 5, 13, 50)


def test_lunch_break_holidays_and_the_year_end() -> None:
    assert CAL.due(kyiv(2026, 12, 4, 12, 30), timedelta(hours=1)) == kyiv(2026, 12, 4, 14, 30)
    # 24 October 2026 is a Saturday; the 25th a Sunday (DST ends); 26-27 a holiday block.
    assert CAL.due(kyiv(2026, 10, 24, 13, 0), timedelta(hours=2)) == kyiv(2026, 10, 28, 10, 0)
    # The autumn break is 2026's only: 26 October 2027 is a working Tuesday.
    assert CAL.due(kyiv(2027, 10, 25, 17, 0), timedelta(hours=2)) == kyiv(2027, 10, 26, 10, 0)
    # 31 Dec - 1 Jan wraps the year end, every year.
    assert CAL.due(kyiv(2026, 12, 30, 17, 0), timedelta(hours=2)) == kyiv(2027, 1, 2, 11, 0)


def test_24x7_means_calendar_time() -> None:
    assert calendar_from_zoho({"type": "24X7", "timeZone": {"id": "UTC"}}) is None


# An independent reference for the property test, written from the HOURS and HOLIDAYS above
# by hand (never through the product's calendar): minutes after local midnight per weekday.
REF_SLOTS = {
    0: ((540, 1080),), 1: ((540, 1080),), 2: ((540, 1080),), 3: ((540, 1080),),
    4: ((540, 780), (840, 1080)), 5: ((600, 840),),
}  # fmt: skip


def ref_holiday(day: date) -> bool:
    md = (day.month, day.day)
    return md in {(3, 8), (12, 31), (1, 1)} or (day.year == 2026 and md in {(10, 26), (10, 27)})


def ref_working(instant: datetime) -> bool:
    """Is ``instant`` inside a slot of the reference (a slot's end excluded)?"""
    local = instant.astimezone(KYIV)
    minute = local.hour * 60 + local.minute + local.second / 60
    slots = REF_SLOTS.get(local.weekday(), ())
    return not ref_holiday(local.date()) and any(a <= minute < b for a, b in slots)


def working_minutes(start: datetime, end: datetime) -> int:
    """Every whole minute in [start, end) whose middle is working time in the reference."""
    count = 0
    moment = start
    while moment < end:
        if ref_working(moment + timedelta(seconds=30)):
            count += 1
        moment += timedelta(minutes=1)
    return count


# Starts around both 2026 DST changes (29 March, 25 October) and the 8 March holiday.
STARTS = st.sampled_from(
    [
        datetime(2026, 3, 5, tzinfo=UTC),
        datetime(2026, 3, 26, tzinfo=UTC),
        datetime(2026, 10, 22, tzinfo=UTC),
        datetime(2026, 12, 28, tzinfo=UTC),
    ]
).flatmap(lambda base: st.integers(0, 6 * 24 * 60).map(lambda m: base + timedelta(minutes=m)))


@settings(max_examples=40, deadline=None)
@given(start=STARTS, minutes=st.integers(1, 20 * 60))
def test_due_is_exactly_the_deadline_of_working_time_and_not_a_minute_later(
    start: datetime, minutes: int
) -> None:
    due = CAL.due(start, timedelta(minutes=minutes))
    assert working_minutes(start, due) == minutes  # exactly the deadline's worth
    assert ref_working(due - timedelta(seconds=30))  # the earliest such moment: no idle tail


class FakeDesk:
    """Answers the three settings reads from fixed data and counts them."""

    def __init__(self, sets: list[dict[str, Any]]) -> None:
        self.sets = sets
        self.requests: list[str] = []

    def paginate(self, path: str, params: Any = None, *, limit: int = 100) -> Any:
        self.requests.append(path)
        return iter(self.sets)

    def request(self, method: str, path: str, **_: Any) -> Any:
        self.requests.append(path)
        if path.startswith("/holidayList/"):
            return HOLIDAYS[0]
        return next(s for s in self.sets if path.endswith(s["id"]))


def test_the_calendar_is_cached_for_the_day_and_a_choice_is_required(tmp_path: Path) -> None:
    sets = [{**HOURS, "id": "1", "name": "Support", "status": "ACTIVE",
             "associatedHolidayList": {"holidayListId": "7"}}]  # fmt: skip
    desk = FakeDesk(sets)
    first = business_calendar(desk, tmp_path, None, today="2026-12-03")  # type: ignore[arg-type]
    again = business_calendar(desk, tmp_path, None, today="2026-12-03")  # type: ignore[arg-type]
    assert first == again and first is not None and first.is_holiday(datetime(2027, 3, 8).date())
    assert desk.requests == ["/businessHours", "/businessHours/1", "/holidayList/7"]
    business_calendar(desk, tmp_path, None, today="2026-12-04")  # type: ignore[arg-type]
    assert len(desk.requests) == 6  # a new day: fetched again
    two = [*sets, {**sets[0], "id": "2", "name": "Sales"}]
    with pytest.raises(ConfigError, match=r"choose one of .*Support \(1\), Sales \(2\)"):
        choose_set(two, None)
    assert choose_set(two, "Sales")["id"] == "2"
    with pytest.raises(ConfigError, match="no business-hours set 'HR'"):
        choose_set(two, "HR")
