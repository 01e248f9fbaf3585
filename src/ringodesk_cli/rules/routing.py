"""Routes: which Zoho department, senior manager and ticket policy a call belongs to.

``[[routing]]`` entries are tried in order and the first match wins; a call no route matches
takes the profile's own settings (``zoho.department_id``, ``integration.senior_manager``,
``integration.tickets``). A route matches the number called (``dst``, compared as E.164
whatever its format in the file), Ringostat's number pool (``pool``: the call's
``pool_name``) or Ringostat's department (``ringostat_department``: the call's
``department``), both compared without case. A route names its department by id or name
and its senior manager by agent id or e-mail: :func:`resolve_routes` turns names into ids
against Zoho's lists, once per run, before any call is planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ringodesk_cli.errors import ConfigError
from ringodesk_cli.ringostat.phones import to_e164
from ringodesk_cli.ringostat.records import CallRecord, Direction


@dataclass(frozen=True)
class Route:
    """One ``[[routing]]`` entry: what it matches and where it sends the call."""

    index: int  # from 1, as `routing check` names it
    match_key: str  # "dst" | "pool" | "ringostat_department"
    match_value: str  # dst as E.164; pool and department case-folded
    department: str  # Zoho id once resolved, else as written
    senior_manager: str | None = None
    tickets: str | None = None
    written: Mapping[str, str] | None = None  # the entry as written, for messages

    def matches(self, record: CallRecord) -> bool:
        if self.match_key == "dst":
            ours = record.our_number if record.direction is Direction.INBOUND else None
            return ours is not None and ours == self.match_value
        name = "pool_name" if self.match_key == "pool" else "department"
        value = record.value(name)
        return value is not None and value.strip().casefold() == self.match_value


def parse_routes(entries: Sequence[Mapping[str, str]], default_region: str) -> tuple[Route, ...]:
    """The checked ``[[routing]]`` entries (see ``Settings.array``) as routes."""
    routes = []
    for index, entry in enumerate(entries, start=1):
        key = next(k for k in ("dst", "pool", "ringostat_department") if k in entry)
        raw = entry[key]
        if key == "dst":
            try:
                value = to_e164(raw, default_region)
            except ValueError as exc:
                raise ConfigError(f"routing[{index}].dst: {exc}") from None
        else:
            value = raw.strip().casefold()
        routes.append(
            Route(
                index=index,
                match_key=key,
                match_value=value,
                department=entry["department"],
                senior_manager=entry.get("senior_manager"),
                tickets=entry.get("tickets"),
                written=dict(entry),
            )
        )
    return tuple(routes)


def route_for(routes: Iterable[Route], record: CallRecord) -> Route | None:
    """The first route that matches ``record``; None: the profile's own settings."""
    return next((r for r in routes if r.matches(record)), None)


@dataclass(frozen=True)
class RouteProblem:
    route: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"routing[{self.route}].{self.key}: {self.message}"


def _department_id(written: str, departments: list[dict[str, Any]]) -> str | None:
    for dep in departments:
        if (
            written == str(dep.get("id"))
            or written.casefold() == str(dep.get("name", "")).casefold()
        ):
            return str(dep["id"]) if dep.get("isEnabled", True) else None
    return None


def _agent(written: str, agents: list[dict[str, Any]]) -> dict[str, Any] | None:
    for agent in agents:
        email = str(agent.get("emailId") or "").casefold()
        if written == str(agent.get("id")) or (email and written.casefold() == email):
            return agent
    return None


def check_routes(
    routes: Sequence[Route], departments: list[dict[str, Any]], agents: list[dict[str, Any]]
) -> tuple[tuple[Route, ...], list[RouteProblem]]:
    """Routes with Zoho ids in place of names, and every problem: a department that does not
    exist or is disabled, a senior manager who is no active agent or not in that department."""
    resolved: list[Route] = []
    problems: list[RouteProblem] = []
    for route in routes:
        dep_id = _department_id(route.department, departments)
        if dep_id is None:
            problems.append(
                RouteProblem(
                    route.index, "department", f"no enabled department {route.department!r}"
                )
            )
        manager_id = route.senior_manager
        if route.senior_manager is not None:
            agent = _agent(route.senior_manager, agents)
            if agent is None or agent.get("status") != "ACTIVE":
                what = "no agent" if agent is None else "a deactivated agent"
                problems.append(
                    RouteProblem(
                        route.index, "senior_manager", f"{route.senior_manager!r} is {what}"
                    )
                )
            else:
                manager_id = str(agent["id"])
                deps = [str(d) for d in agent.get("associatedDepartmentIds") or []]
                if dep_id is not None and deps and dep_id not in deps:
                    problems.append(
                        RouteProblem(
                            route.index,
                            "senior_manager",
                            f"{route.senior_manager!r} is not in department {route.department!r}",
                        )
                    )
        resolved.append(
            Route(
                index=route.index,
                match_key=route.match_key,
                match_value=route.match_value,
                department=dep_id or route.department,
                senior_manager=manager_id,
                tickets=route.tickets,
                written=route.written,
            )
        )
    return tuple(resolved), problems


def needs_lookup(routes: Sequence[Route]) -> bool:
    """Some route names its department or senior manager by anything but a Zoho id."""
    return any(
        not r.department.isdigit() or (r.senior_manager and not r.senior_manager.isdigit())
        for r in routes
    )


def resolve_routes(routes: Sequence[Route], desk: Any) -> tuple[Route, ...]:
    """Routes with ids only; names are looked up in Zoho (two listings, only when a route
    uses a name). A route that cannot be resolved is a config error naming it."""
    if not needs_lookup(routes):
        return tuple(routes)
    resolved, problems = check_routes(routes, desk.departments(), desk.agents())
    if problems:
        raise ConfigError("; ".join(str(p) for p in problems), hint="run `ringodesk routing check`")
    return resolved


def routing_report(settings: Any, desk: Any) -> list[dict[str, Any]]:
    """``routing check``: every route as written, what it resolves to, and its problems."""
    routes = parse_routes(settings.array("routing"), str(settings.get("ringostat.default_region")))
    resolved, problems = (
        check_routes(routes, desk.departments(), desk.agents()) if routes else ((), [])
    )
    report = []
    for route in resolved:
        mine = [str(p) for p in problems if p.route == route.index]
        report.append(
            {
                "route": route.index,
                "match": f"{route.match_key} = {(route.written or {}).get(route.match_key)}",
                "department": route.department,
                "senior_manager": route.senior_manager
                or settings.get("integration.senior_manager"),
                "tickets": route.tickets or settings.get("integration.tickets"),
                "ok": not mine,
                "problems": mine,
            }
        )
    return report
