"""Due dates in business hours: a deadline counts only the working time of Zoho Desk's
business hours, skipping holidays. Pure: no I/O, time zones and DST through zoneinfo.

Working time is a set of slots per weekday, as wall-clock ``HH:MM`` in the set's time zone
(Zoho's ``businessTimes[]``, each day's ``timeSlots[]`` or its ``startTime``/``endTime``;
``24:00`` or an end of ``00:00`` means midnight at the end of the day). A deadline adds real
elapsed time inside those slots: a slot across a DST change is as long as it really is.
Holidays come from the set's holiday lists: ``from``/``to`` as ``MM-DD`` (a range may wrap
the year end), every year (``RECURRING``) or only in ``year`` (``YEAR_SPECIFIC``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
DAY_MINUTES = 24 * 60
SEARCH_DAYS = 3 * 366  # a calendar with no working time in this long is refused


@dataclass(frozen=True)
class Holiday:
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    year: int | None = None  # None: every year

    def covers(self, day: date) -> bool:
        if self.year is not None and day.year != self.year:
            return False
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # wraps the year end


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    # weekday (0 = Monday) -> sorted, non-overlapping (start, end) minutes after midnight
    slots: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: tuple[Holiday, ...] = ()

    def is_holiday(self, day: date) -> bool:
        return any(h.covers(day) for h in self.holidays)

    def _wall(self, day: date, minute: int) -> datetime:
        naive = datetime.combine(day, time()) + timedelta(minutes=minute)
        return naive.replace(tzinfo=self.zone).astimezone(UTC)

    def working_slots(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working intervals as UTC instants (none on a holiday)."""
        if self.is_holiday(day):
            return []
        return [
            (self._wall(day, a), self._wall(day, b)) for a, b in self.slots.get(day.weekday(), ())
        ]

    def is_working(self, instant: datetime) -> bool:
        """``instant`` falls inside a slot (its end included)."""
        local = instant.astimezone(self.zone).date()
        return any(
            a <= instant <= b
            for day in (local - timedelta(days=1), local)
            for a, b in self.working_slots(day)
        )

    def due(self, start: datetime, work: timedelta) -> datetime:
        """The moment ``work`` of working time after ``start`` (an aware datetime)."""
        if start.tzinfo is None:
            raise ValueError("start must carry its time zone")
        if not any(self.slots.values()):
            raise ValueError("the business hours have no working time")
        cursor = start.astimezone(UTC)
        remaining = work
        day = cursor.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            for begin, end in self.working_slots(day):
                if end <= cursor:
                    continue
                cursor = max(cursor, begin)
                available = end - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
                cursor = end
            day += timedelta(days=1)
        raise ValueError("no working time within three years (holidays cover every day?)")


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= DAY_MINUTES:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def _merge(slots: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(slots):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def _slot(item: Mapping[str, Any]) -> tuple[int, int]:
    start, end = _minutes(item["startTime"]), _minutes(item["endTime"])
    return start, DAY_MINUTES if end == 0 else end  # 00:00-00:00: the whole day


def holidays_from_zoho(lists: Sequence[Mapping[str, Any]]) -> tuple[Holiday, ...]:
    out: list[Holiday] = []
    for holiday_list in lists:
        year = (
            holiday_list.get("year")
            if holiday_list.get("holidayListType") == "YEAR_SPECIFIC"
            else None
        )
        for item in holiday_list.get("holidays") or []:
            start = tuple(int(p) for p in str(item["from"]).split("-"))
            end = tuple(int(p) for p in str(item.get("to") or item["from"]).split("-"))
            out.append(Holiday((start[0], start[1]), (end[0], end[1]), int(year) if year else None))
    return tuple(out)


def calendar_from_zoho(
    hours: Mapping[str, Any], holiday_lists: Sequence[Mapping[str, Any]] = ()
) -> BusinessCalendar | None:
    """A business-hours set as Zoho returns it; None for ``24X7`` (every minute works)."""
    zone = ZoneInfo(str((hours.get("timeZone") or {}).get("id") or "UTC"))
    if hours.get("type") == "24X7":
        return None
    slots: dict[int, list[tuple[int, int]]] = {}
    for entry in hours.get("businessTimes") or []:
        weekday = DAYS.index(str(entry["day"]).upper())
        parts = entry.get("timeSlots") or [entry]
        slots.setdefault(weekday, []).extend(_slot(p) for p in parts)
    return BusinessCalendar(
        zone=zone,
        slots={d: _merge(s) for d, s in slots.items()},
        holidays=holidays_from_zoho(holiday_lists),
    )
