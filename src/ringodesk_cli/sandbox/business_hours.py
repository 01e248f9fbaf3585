"""Business hours and holiday lists, shaped as Zoho Desk's OpenAPI files describe them
(zoho/zohodesk-oas v1.0 BusinessHour.json and HolidayList.json; scope Desk.settings.READ):

- ``GET /api/v1/businessHours`` (``status`` ACTIVE | INACTIVE, ``from``, ``limit`` 1-50) and
  ``GET /api/v1/businessHours/{id}``: ``id``, ``name``, ``status``, ``type`` (24X7 | SPECIFIC |
  CUSTOM), ``timeZone {id, name}``, ``businessTimes[] {day, startTime, endTime, timeSlots[]}``,
  ``associatedHolidayList {holidayListId, holidayListName, holidayListStatus}``.
- ``GET /api/v1/holidayList`` and ``GET /api/v1/holidayList/{id}``: ``id``, ``name``,
  ``status``, ``holidayListType`` (RECURRING | YEAR_SPECIFIC), ``year``, ``holidays[]
  {holidayName, from, to}`` as ``MM-DD``, ``associatedBusinessHours[]``.

Seeded: one ACTIVE set "Support hours" (Monday-Friday 09:00-18:00 Europe/Kyiv, a lunch break
on Friday) with a recurring Ukrainian holiday list, and one INACTIVE 24X7 set.
"""

from __future__ import annotations

import copy
from typing import Any

from ringodesk_cli.sandbox.replies import DeskRequest, Reply, json_reply, list_reply, not_found
from ringodesk_cli.sandbox.validation import enum_param, paging

HOLIDAY_LIST_ID = "1892000000099001"
SUPPORT_HOURS_ID = "1892000000098001"
ALWAYS_ID = "1892000000098002"
_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY")


def _seed_hours() -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = [
        {"day": d, "startTime": "09:00", "endTime": "18:00", "timeSlots": []} for d in _WEEKDAYS
    ]
    days.append(
        {"day": "FRIDAY", "startTime": "09:00", "endTime": "18:00",
         "timeSlots": [{"startTime": "09:00", "endTime": "13:00"},
                       {"startTime": "14:00", "endTime": "18:00"}]}
    )  # fmt: skip
    return [
        {
            "id": SUPPORT_HOURS_ID,
            "name": "Support hours",
            "status": "ACTIVE",
            "type": "SPECIFIC",
            "timeZone": {"id": "Europe/Kyiv", "name": "Eastern European Time"},
            "businessTimes": days,
            "associatedHolidayList": {
                "holidayListId": HOLIDAY_LIST_ID,
                "holidayListName": "Ukraine",
                "holidayListStatus": "ACTIVE",
            },
        },
        {
            "id": ALWAYS_ID,
            "name": "Always on",
            "status": "INACTIVE",
            "type": "24X7",
            "timeZone": {"id": "UTC", "name": "Coordinated Universal Time"},
            "businessTimes": [],
            "associatedHolidayList": None,
        },
    ]


def _seed_holidays() -> list[dict[str, Any]]:
    return [
        {
            "id": HOLIDAY_LIST_ID,
            "name": "Ukraine",
            "status": "ACTIVE",
            "holidayListType": "RECURRING",
            "year": None,
            "holidays": [
                {"holidayName": "New Year", "from": "01-01", "to": "01-01"},
                {"holidayName": "Independence Day", "from": "08-24", "to": "08-24"},
                {"holidayName": "Christmas", "from": "12-25", "to": "12-25"},
            ],
            "associatedBusinessHours": [{"id": SUPPORT_HOURS_ID, "name": "Support hours"}],
        }
    ]


class BusinessHoursEndpoints:
    """The two read endpoints of each module; the sets can be replaced by a test."""

    def __init__(self) -> None:
        self.hours = _seed_hours()
        self.holiday_lists = _seed_holidays()

    def list_hours(self, req: DeskRequest) -> Reply:
        status = enum_param(req.params, "status", ("ACTIVE", "INACTIVE"))
        offset, limit = paging(req.params, 50)
        found = [h for h in self.hours if status is None or h["status"] == status]
        return list_reply(copy.deepcopy(found[offset : offset + limit]))

    def get_hours(self, req: DeskRequest) -> Reply:
        return json_reply(copy.deepcopy(self._one(self.hours, req.args[0])))

    def list_holidays(self, req: DeskRequest) -> Reply:
        offset, limit = paging(req.params, 50)
        return list_reply(copy.deepcopy(self.holiday_lists[offset : offset + limit]))

    def get_holidays(self, req: DeskRequest) -> Reply:
        return json_reply(copy.deepcopy(self._one(self.holiday_lists, req.args[0])))

    @staticmethod
    def _one(items: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
        for item in items:
            if item["id"] == item_id:
                return item
        raise not_found()
