"""The sandbox's business hours and holiday lists, as Zoho's BusinessHour.json and
HolidayList.json shape them (scope Desk.settings.READ)."""

from __future__ import annotations

from sandbox_fixture import desk_session
from sandbox_fixture import sandbox as sandbox

from ringodesk_cli.sandbox import Sandbox


def test_business_hours_and_holiday_lists(sandbox: Sandbox) -> None:  # noqa: F811
    http = desk_session(sandbox)
    v1 = f"{sandbox.url}/api/v1"
    active = http.get(f"{v1}/businessHours", params={"status": "ACTIVE"}, timeout=5).json()
    (one,) = active["data"]
    assert (one["name"], one["type"], one["timeZone"]["id"]) == (
        "Support hours", "SPECIFIC", "Europe/Kyiv")  # fmt: skip
    every = http.get(f"{v1}/businessHours", timeout=5).json()["data"]
    assert {h["status"] for h in every} == {"ACTIVE", "INACTIVE"}
    assert http.get(f"{v1}/businessHours", params={"status": "ON"}, timeout=5).status_code == 422
    full = http.get(f"{v1}/businessHours/{one['id']}", timeout=5).json()
    friday = next(d for d in full["businessTimes"] if d["day"] == "FRIDAY")
    assert [s["endTime"] for s in friday["timeSlots"]] == ["13:00", "18:00"]
    list_id = full["associatedHolidayList"]["holidayListId"]
    holidays = http.get(f"{v1}/holidayList/{list_id}", timeout=5).json()
    assert holidays["holidayListType"] == "RECURRING"
    assert {"from": "01-01", "to": "01-01", "holidayName": "New Year"} in holidays["holidays"]
    assert http.get(f"{v1}/holidayList/1", timeout=5).status_code == 404
    no_scope = desk_session(sandbox, "Desk.tickets.READ")
    assert no_scope.get(f"{v1}/businessHours", timeout=5).status_code == 401
