"""A department's calls, tickets or tasks created from a moment on, oldest first: what the
recovery of a lost ledger (``sync.recovery``) reads.

Only the ascending ``sortBy=createdTime`` is used: Call.json, Ticket.json and Task.json list
``createdTime`` among their ``sortBy`` values, and Call.json and Ticket.json have no ``-``
(descending) form. The first record of the window is found without counting the list: single
records (``limit=1``) at ``from`` = 1, 2, 4, 8... until one is inside the window or the list
ends, then a bisection between the last two; the window is then read page by page. About
2·log2(n) small requests for a list of n records, then one per page of the window.

Whether ``from`` counts from 0 or 1 (docs/zoho-readings.md) shifts every index by the same
one, so the bisection holds either way; the walk starts one record early and keeps only
records created inside the window, each once (by id). A window that starts before the first
record also asks ``from=0`` (a server counting from 0 would hide its first record at 1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ZohoError
from ringodesk_cli.zoho.paging import rows_of

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

# The list caps (OAS `limit`): calls and tasks 99; tickets are not capped there.
PAGE_LIMITS = {"calls": 99, "tasks": 99, "tickets": 99}
MODULES = tuple(PAGE_LIMITS)


def _created(row: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(row.get("createdTime") or "").replace("Z", "+00:00"))
    except ValueError:
        return None


def created_since(
    desk: DeskClient, module: str, since: datetime, *, department_id: str
) -> list[dict[str, Any]]:
    """Every record of ``module`` (calls, tickets, tasks) in the department created at or
    after ``since`` (aware), oldest first."""
    limit = PAGE_LIMITS[module]
    base = {"departmentId": department_id, "sortBy": "createdTime"}

    def page(start: int, size: int) -> list[dict[str, Any]]:
        return rows_of(
            desk.request("GET", f"/{module}", params={**base, "from": start, "limit": size})
        )

    def inside(start: int) -> bool | None:
        """Whether the record at ``start`` is in the window; None past the list's end."""
        rows = page(start, 1)
        if not rows:
            return None
        created = _created(rows[0])
        return created is None or created >= since

    first = _first_inside(inside)
    found: dict[str, dict[str, Any]] = {}
    if first <= 1:
        _keep(found, _from_zero(page, limit), since)
    start = max(first - 1, 1)
    seen: set[str] = set()
    while True:
        rows = page(start, limit)
        _keep(found, rows, since)
        ids = {str(r.get("id")) for r in rows}
        if len(rows) < limit or ids <= seen:  # the end, or a server that ignores `from`
            break
        seen |= ids
        start += len(rows)
    return sorted(found.values(), key=lambda r: str(r.get("createdTime") or ""))


def _first_inside(inside: Callable[[int], bool | None]) -> int:
    """The smallest ``from`` whose record is in the window (or past the end)."""
    below, above = 0, 1
    while True:
        state = inside(above)
        if state is None or state:
            break
        below, above = above, above * 2
    while above - below > 1:
        middle = (above + below) // 2
        state = inside(middle)
        if state is None or state:
            above = middle
        else:
            below = middle
    return above


def _from_zero(page: Callable[[int, int], list[dict[str, Any]]], limit: int) -> list[Any]:
    try:
        return page(0, limit)
    except ZohoError as exc:
        if exc.status in (400, 422):  # counted from 1: 0 is refused
            return []
        raise


def _keep(found: dict[str, dict[str, Any]], rows: list[dict[str, Any]], since: datetime) -> None:
    for row in rows:
        created = _created(row)
        if row.get("id") is not None and (created is None or created >= since):
            found.setdefault(str(row["id"]), row)
