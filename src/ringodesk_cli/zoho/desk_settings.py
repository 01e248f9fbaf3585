"""Zoho Desk endpoints of the team rules, kept apart from :mod:`.desk`: business hours and
holiday lists (scope ``Desk.settings.READ``), and the update of a ticket that a call joins.

- ``GET /api/v1/businessHours`` (``status`` ACTIVE | INACTIVE, ``from``, ``limit`` 1-50) and
  ``GET /api/v1/businessHours/{id}``: ``type`` 24X7 | SPECIFIC | CUSTOM, ``timeZone.id`` (an
  IANA zone), ``businessTimes[]`` of ``{day, startTime, endTime, timeSlots[]}`` with times
  as ``HH:MM``, ``associatedHolidayList.holidayListId``.
- ``GET /api/v1/holidayList/{id}``: ``holidayListType`` RECURRING | YEAR_SPECIFIC, ``year``,
  ``holidays[]`` of ``{holidayName, from, to}`` as ``MM-DD``.
- ``GET /api/v1/contacts/{id}/tickets`` (``departmentId``, which older versions require).
- ``PATCH /api/v1/tickets/{id}``: the fields a joining call fills (only empty ones).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringodesk_cli.zoho.desk import api_path
from ringodesk_cli.zoho.desk_transport import LIST_LIMIT
from ringodesk_cli.zoho.paging import rows_of

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

BUSINESS_HOURS_LIMIT = 50


def business_hours_sets(desk: DeskClient, status: str | None = "ACTIVE") -> list[dict[str, Any]]:
    params: dict[str, Any] = {"status": status} if status else {}
    return list(desk.paginate("/businessHours", params, limit=BUSINESS_HOURS_LIMIT))


def business_hours(desk: DeskClient, set_id: str) -> dict[str, Any]:
    answer = desk.request("GET", api_path("/businessHours/{}", set_id))
    return answer if isinstance(answer, dict) else {}


def holiday_list(desk: DeskClient, list_id: str) -> dict[str, Any]:
    answer = desk.request("GET", api_path("/holidayList/{}", list_id))
    return answer if isinstance(answer, dict) else {}


def contact_tickets(desk: DeskClient, contact_id: str, department_id: str) -> list[dict[str, Any]]:
    """The contact's tickets in one department, one page of up to 100 without ``from`` (a
    paged walk would probe the list's paging on every contact without tickets; an open
    ticket within the reuse window is among a contact's first hundred in practice)."""
    path = api_path("/contacts/{}/tickets", contact_id)
    params = {"departmentId": department_id, "limit": LIST_LIMIT}
    return rows_of(desk.request("GET", path, params=params))


def update_ticket(desk: DeskClient, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A PATCH through the client's tolerant write (a refused ``cf`` value is dropped)."""
    return desk.write("PATCH", api_path("/tickets/{}", ticket_id), "tickets", body)


def update_task(desk: DeskClient, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A PATCH of a task (OAS Task.json ``PATCH /tasks/{taskId}``), tolerant as creates are:
    a ``description`` this portal refuses on tasks is dropped."""
    return desk.write("PATCH", api_path("/tasks/{}", task_id), "tasks", body)
