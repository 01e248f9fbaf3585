"""Settings that are arrays of tables (``[[routing]]``): each entry's keys checked, and a
problem located as ``file:line: routing[2].department``.

A route names exactly one of ``dst`` (a number in any format), ``pool`` (Ringostat's
``pool_name``) or ``ringostat_department`` to match, then the Zoho ``department`` (id or
name) and optionally ``senior_manager`` (agent id or e-mail) and ``tickets``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ringodesk_cli.config.keys import TICKET_POLICIES

ROUTE_MATCHERS = ("dst", "pool", "ringostat_department")
ROUTE_TARGETS = ("department", "senior_manager", "tickets")


class EntryError(ValueError):
    """One entry of an array of tables is wrong: its index (from 0) and key (None: the
    entry as a whole)."""

    def __init__(self, index: int, key: str | None, message: str) -> None:
        self.index = index
        self.key = key
        super().__init__(message)

    def dotted(self, name: str) -> str:
        where = f"{name}[{self.index + 1}]"
        return f"{where}.{self.key}" if self.key else where


def _text(index: int, key: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(index, key, f"{value!r} must be a non-empty string")
    return value.strip()


def check_routes(value: Any) -> list[dict[str, str]]:
    """The ``[[routing]]`` entries as plain dicts of strings; ``EntryError`` otherwise."""
    if not isinstance(value, list):
        raise EntryError(0, None, "must be an array of tables: write each route as [[routing]]")
    routes: list[dict[str, str]] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise EntryError(index, None, "must be a table ([[routing]])")
        for key in entry:
            if key not in (*ROUTE_MATCHERS, *ROUTE_TARGETS):
                allowed = ", ".join((*ROUTE_MATCHERS, *ROUTE_TARGETS))
                raise EntryError(index, str(key), f"unknown key (allowed: {allowed})")
        route = {str(k): _text(index, str(k), v) for k, v in entry.items()}
        matchers = [k for k in ROUTE_MATCHERS if k in route]
        if len(matchers) != 1:
            raise EntryError(
                index,
                None,
                f"name exactly one of {', '.join(ROUTE_MATCHERS)} to match"
                + (f" (found {', '.join(matchers)})" if matchers else ""),
            )
        if "dst" in route and sum(ch.isdigit() for ch in route["dst"]) < 3:
            raise EntryError(index, "dst", f"{route['dst']!r} is not a phone number")
        if "department" not in route:
            raise EntryError(index, "department", "missing: the Zoho department (id or name)")
        if "tickets" in route and route["tickets"] not in TICKET_POLICIES:
            raise EntryError(
                index, "tickets", f"{route['tickets']!r} is not one of {', '.join(TICKET_POLICIES)}"
            )
        routes.append(route)
    return routes


CHECKERS = {"routing": check_routes}

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")
_ASSIGN = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


def entry_line(text: str, name: str, index: int, key: str | None) -> int | None:
    """The line (1-based) of ``key`` in the ``index``-th ``[[name]]`` entry of ``text``, or
    of the entry's header when the key is not written there."""
    seen = -1
    header_line: int | None = None
    inside = False
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _ARRAY_HEADER.match(raw)
        if match:
            inside = match.group(1).strip().strip("\"'") == name and (seen := seen + 1) == index
            if inside:
                header_line = number
            elif header_line is not None:
                break
            continue
        if _HEADER.match(raw):
            if header_line is not None:
                break
            inside = False
            continue
        assign = _ASSIGN.match(raw)
        if inside and key and assign and assign.group(1).strip("\"'") == key:
            return number
    return header_line
