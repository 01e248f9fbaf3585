"""The OAuth scopes ringodesk asks Zoho Accounts for, and what losing each one costs.

Only scopes of Zoho's documented scope list (the ``iam-oauth2-schema`` scopes of Common.json
in Zoho's zohodesk-oas) and their ``.ALL`` forms are asked for. If Zoho Accounts answers
``invalid_scope`` anyway, activation drops an optional scope and says what that costs; a
required one ends activation with its name and what it is needed for
(docs/zoho-readings.md, "scopes").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Common.json's scope list, as `service.resource` stems with their operations (Zoho writes
# the operation in capitals in requests; matching is case-insensitive).
_DOCUMENTED_STEMS: dict[str, tuple[str, ...]] = {
    "Desk.zia": ("create", "update", "read", "delete"),
    "Desk.calls": ("create", "update", "read", "delete"),
    "Desk.extensions": ("create", "read", "update", "delete"),
    "Desk.search": ("read",),
    "Desk.events": ("create", "update", "read", "delete"),
    "Desk.articles": ("create", "update", "read", "delete"),
    "Desk.basic": ("create", "update", "read", "delete"),
    "Desk.tasks": ("create", "read", "update", "delete"),
    "Desk.settings": ("create", "update", "read", "delete"),
    "Desk.settings.extension": ("create", "update", "read", "delete"),
    "Desk.tickets": ("create", "update", "read", "delete"),
    "Desk.contacts": ("create", "update", "read", "delete"),
    "Desk.activities": ("create", "update", "read", "delete"),
    "Desk.community": ("create", "update", "read", "delete"),
    "Desk.feeds": ("create", "update", "read", "delete"),
    "Desk.products": ("create", "update", "read", "delete"),
    "Desk.integrations": ("create", "update", "read", "delete"),
    "Desk.phonebridge": ("create", "read"),
    "Desk.deskOembed": ("read",),
}
_DOCUMENTED_WHOLE = frozenset({"desk.exports", "desk.imports"})


def documented(scope: str) -> bool:
    """``scope`` is in Zoho's scope list, or is the ``.ALL`` form of a stem in it."""
    lowered = scope.strip().lower()
    if lowered in _DOCUMENTED_WHOLE:
        return True
    stem, _, operation = lowered.rpartition(".")
    for name, operations in _DOCUMENTED_STEMS.items():
        if name.lower() == stem and (operation == "all" or operation in operations):
            return True
    return False


@dataclass(frozen=True)
class Scope:
    name: str
    optional: bool
    needed_for: str


# What each requested scope is needed for; an optional one may be dropped.
SCOPES: tuple[Scope, ...] = (
    Scope("Desk.basic.READ", False, "reading the organization, departments and agents"),
    Scope("Desk.settings.ALL", False, "creating ringodesk's fields and reading business hours"),
    Scope("Desk.tickets.ALL", False, "creating and updating tickets"),
    Scope("Desk.contacts.ALL", False, "finding and creating contacts"),
    Scope("Desk.calls.ALL", False, "creating call activities"),
    Scope("Desk.tasks.ALL", False, "creating tasks and attaching recordings to calls"),
    Scope(
        "Desk.search.READ",
        True,
        "searching Zoho: without it, contacts are found only through the local contact index "
        "(no search above contacts.index_max) and a lost create only through lists",
    ),
)


def scope_string(dropped: frozenset[str] = frozenset()) -> str:
    """The scopes to ask for, without ``dropped``."""
    return ",".join(s.name for s in SCOPES if s.name not in dropped)


def named_in(text: str, asked: str) -> list[Scope]:
    """The requested scopes that Zoho's ``text`` (an ``error_description``) names."""
    words = {w.lower() for w in re.findall(r"[A-Za-z][\w.]*", text or "")}
    return [s for s in SCOPES if s.name in asked.split(",") and s.name.lower() in words]


def describe(scope: Scope) -> str:
    """One line: the scope and what losing it costs."""
    kind = "optional" if scope.optional else "required"
    return f"{scope.name} ({kind}: {scope.needed_for})"
