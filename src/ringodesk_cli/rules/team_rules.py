"""What a live run settles once before planning: route names turned into Zoho ids, and,
with ``integration.deadline_in = "business-hours"``, the business-hours calendar (Zoho's set
and its holiday lists, cached in the state dir and fetched again once a day)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ConfigError
from ringodesk_cli.rules.business_hours import BusinessCalendar, calendar_from_zoho
from ringodesk_cli.rules.routing import resolve_routes
from ringodesk_cli.zoho import desk_settings

if TYPE_CHECKING:
    from ringodesk_cli.rules.planner import Policy
    from ringodesk_cli.session import Session
    from ringodesk_cli.zoho.desk import DeskClient

CACHE_FILE = "business_hours.json"


def prepare_policy(policy: Policy, desk: DeskClient, state_dir: Path) -> Policy:
    """``policy`` with route names resolved to Zoho ids and, for business-hours deadlines,
    the calendar's due time; raises what the Desk client raises (``engine.Engine.ready``
    turns Zoho out of reach into a stopped run)."""
    routes = resolve_routes(policy.routes, desk) if policy.routes else policy.routes
    due_at = policy.due_at
    if policy.deadline_in == "business-hours" and due_at is None:
        calendar = business_calendar(desk, state_dir, policy.business_hours)
        if calendar is not None:
            due_at = calendar.due
    return replace(policy, routes=routes, due_at=due_at)


def choose_set(sets: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    """The business-hours set named by id or name; without a name, the only active one."""
    if wanted:
        for item in sets:
            if wanted in (str(item.get("id")), str(item.get("name"))):
                return item
        raise ConfigError(
            f"integration.business_hours: no business-hours set {wanted!r}",
            hint="sets: " + ", ".join(str(s.get("name")) for s in sets) if sets else None,
        )
    active = [s for s in sets if s.get("status", "ACTIVE") == "ACTIVE"]
    if len(active) != 1:
        names = ", ".join(f"{s.get('name')} ({s.get('id')})" for s in active) or "none"
        raise ConfigError(
            f"integration.business_hours: choose one of the active business-hours sets: {names}",
            hint="ringodesk config set integration.business_hours NAME",
        )
    return active[0]


def fetch_calendar_data(desk: DeskClient, wanted: str | None) -> dict[str, Any]:
    chosen = choose_set(desk_settings.business_hours_sets(desk, None), wanted)
    hours = desk_settings.business_hours(desk, str(chosen["id"])) or chosen
    ids = {str(h.get("holidayListId") or h.get("id")) for h in hours.get("holidayLists") or []}
    associated = hours.get("associatedHolidayList") or {}
    if associated.get("holidayListId"):
        ids.add(str(associated["holidayListId"]))
    lists = [desk_settings.holiday_list(desk, i) for i in sorted(ids) if i and i != "None"]
    return {"hours": hours, "holiday_lists": lists}


def business_calendar(
    desk: DeskClient, state_dir: Path, wanted: str | None, *, today: str | None = None
) -> BusinessCalendar | None:
    """The calendar, from the state dir's copy when fetched today (UTC) for this choice."""
    today = today or datetime.now(UTC).date().isoformat()
    path = state_dir / CACHE_FILE
    data: dict[str, Any] | None = None
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("day") == today and cached.get("wanted") == wanted:
            data = cached["data"]
    except (OSError, ValueError, KeyError, AttributeError):
        data = None
    if data is None:
        data = fetch_calendar_data(desk, wanted)
        state_dir.mkdir(parents=True, exist_ok=True)
        payload = {"day": today, "wanted": wanted, "data": data}
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return calendar_from_zoho(data["hours"], data["holiday_lists"])


def online_problems(open_session: Callable[[], Session]) -> tuple[list[str], str | None]:
    """What the team rules name, checked against Zoho (`config check`): each route's
    department (enabled) and senior manager (an active agent of it), and the business-hours
    set with ``integration.deadline_in = "business-hours"``. Returns (problems, a note when
    Zoho could not be asked: no working token, Zoho unavailable)."""
    from ringodesk_cli.errors import RingodeskError
    from ringodesk_cli.rules.routing import check_routes, parse_routes

    try:
        session = open_session()
        settings = session.settings
        desk = session.desk()
        problems: list[str] = []
        routes = parse_routes(
            settings.array("routing"), str(settings.get("ringostat.default_region"))
        )
        if routes:
            _, found = check_routes(routes, desk.departments(), desk.agents())
            problems += [str(p) for p in found]
        if settings.get("integration.deadline_in") == "business-hours":
            try:
                sets = desk_settings.business_hours_sets(desk, None)
                choose_set(sets, settings.get("integration.business_hours"))
            except ConfigError as exc:
                problems.append(str(exc))
    except RingodeskError as exc:
        return [], f"not checked against Zoho Desk ({exc})"
    return problems, None
