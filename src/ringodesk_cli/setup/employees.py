"""Links from Ringostat employees to Zoho Desk agents, the ``[employees]`` table (rule R1).

A call log names its employee in up to three ways: the full name (``employee_fio``, often
empty), the employee number (``employee_number``, Ringostat's staffId) and the SIP login or
extension (:class:`ringodesk_cli.ringostat.records.Employee`). A link's key may be any of
these; the value is the Zoho Desk agent id. The sync asks :func:`resolve_owner` who owns a
call; ``None`` sends the call to the senior manager (R4c).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ringodesk_cli.errors import UsageError

if TYPE_CHECKING:  # records pulls in phonenumbers, too slow to load for every command
    from ringodesk_cli.ringostat.records import Employee

TABLE = "employees"
_NUMBER_LIKE = re.compile(r"^\+?[\d\s().\-]+$")
_SIP_PREFIX = "sip:"
Kind = Literal["sip", "number", "name"]


def _name_key(text: str) -> str:
    # Names are typed by hand in two systems: ignore case and runs of spaces.
    return " ".join(text.split()).casefold()


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _sip_key(text: str) -> str:
    value = text.strip().casefold()
    if value.startswith(_SIP_PREFIX):
        value = value[len(_SIP_PREFIX) :]
    return value.split("@", 1)[0].strip()


def _is_number_like(text: str) -> bool:
    return bool(_NUMBER_LIKE.match(text.strip())) and bool(_digits(text))


def key_matches(key: str, kind: Kind, value: str) -> bool:
    """Whether link ``key`` names the employee attribute ``value`` of ``kind``.

    A key written ``sip:...`` matches SIP logins only. A number-like key compares digits only
    (``+380 67 123`` equals ``38067123``) against numbers and SIP extensions; any key is also
    compared with names (case and spacing ignored) and SIP logins (case ignored).
    """
    if not key.strip() or not value.strip():
        return False
    forced_sip = key.strip().casefold().startswith(_SIP_PREFIX)
    if kind == "sip":
        if _sip_key(key) == _sip_key(value):
            return True
        return _is_number_like(_sip_key(key)) and _digits(_sip_key(key)) == _digits(value)
    if forced_sip:
        return False
    if kind == "number":
        return _is_number_like(key) and _is_number_like(value) and _digits(key) == _digits(value)
    return _name_key(key) == _name_key(value)


def resolve_owner(employee: Employee | None, links: Mapping[str, str]) -> str | None:
    """The agent id linked to ``employee``, or ``None`` (the senior manager's case, R4c).

    The most specific identity wins: SIP login, then employee number, then name, so that two
    employees sharing a name are still told apart by their SIP or number links.
    """
    if employee is None:
        return None
    identities: tuple[tuple[Kind, str | None], ...] = (
        ("sip", employee.sip),
        ("number", employee.number),
        ("name", employee.name),
    )
    for kind, value in identities:
        if not value:
            continue
        for key, agent_id in links.items():
            if key_matches(key, kind, value):
                return str(agent_id)
    return None


def same_key(a: str, b: str) -> bool:
    """Two link keys that would match the same employee (so one replaces the other)."""
    if a.strip().casefold().startswith(_SIP_PREFIX) or b.strip().casefold().startswith(_SIP_PREFIX):
        return _sip_key(a) == _sip_key(b)
    if _is_number_like(a) or _is_number_like(b):
        return _is_number_like(a) and _is_number_like(b) and _digits(a) == _digits(b)
    return _name_key(a) == _name_key(b)


# -- agents --------------------------------------------------------------------------------


def agent_name(agent: Mapping[str, Any]) -> str:
    name = agent.get("name")
    if name:
        return str(name)
    parts = [str(agent.get(p) or "") for p in ("firstName", "lastName")]
    return " ".join(p for p in parts if p) or str(agent.get("emailId") or agent.get("id") or "")


def agent_label(agent: Mapping[str, Any]) -> str:
    email = agent.get("emailId")
    return f"{agent_name(agent)} <{email}>" if email else agent_name(agent)


def is_active(agent: Mapping[str, Any]) -> bool:
    # Agent.json: status is ACTIVE, DISABLED, DELETED or IMPORTED; only ACTIVE can own work.
    return str(agent.get("status") or "ACTIVE").upper() == "ACTIVE"


def _close_agents(ref: str, agents: Iterable[Mapping[str, Any]]) -> list[str]:
    choices: dict[str, Mapping[str, Any]] = {}
    for agent in agents:
        if not is_active(agent):
            continue
        for text in (agent.get("emailId"), agent_name(agent)):
            if text:
                choices[str(text).casefold()] = agent
    close = difflib.get_close_matches(ref.casefold(), list(choices), n=3, cutoff=0.5)
    seen: list[str] = []
    for text in close:
        label = agent_label(choices[text])
        if label not in seen:
            seen.append(label)
    return seen


def find_agent(ref: str, agents: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The agent whose id or e-mail (case-insensitive) is ``ref``, whatever its status."""
    wanted = ref.strip()
    for agent in agents:
        if str(agent.get("id") or "") == wanted:
            return agent
        email = agent.get("emailId")
        if email and str(email).casefold() == wanted.casefold():
            return agent
    return None


def resolve_agent(ref: str, agents: list[dict[str, Any]]) -> dict[str, Any]:
    """The active agent named by id or e-mail; an unknown or disabled one is refused."""
    agent = find_agent(ref, agents)
    if agent is None:
        close = _close_agents(ref, agents)
        raise UsageError(
            f"no Zoho Desk agent has the id or e-mail {ref!r}",
            hint=("did you mean " + " or ".join(close) + "?")
            if close
            else "see the agents with `ringodesk agents list`",
        )
    if not is_active(agent):
        raise UsageError(
            f"agent {agent_label(agent)} is {str(agent.get('status')).upper()} in Zoho Desk "
            f"and cannot own calls",
            hint="link an active agent, or re-activate this one in Zoho Desk",
        )
    return dict(agent)


# -- the [employees] table ---------------------------------------------------------------------


class LinkTable(Protocol):
    """The part of ``Settings`` used here."""

    def table(self, name: str) -> dict[str, str]: ...
    def set_table_entry(self, table: str, key: str, value: str) -> None: ...
    def remove_table_entry(self, table: str, key: str) -> bool: ...


@dataclass(frozen=True)
class LinkStatus:
    key: str
    agent_id: str
    agent: str | None  # "Name <email>" when the agent is known
    state: Literal["ok", "unknown", "disabled"]


def link(settings: LinkTable, key: str, agent_ref: str, agents: list[dict[str, Any]]) -> str:
    """Link employee ``key`` to an active agent; returns the agent id. The caller saves.

    A key equivalent to an existing one (same digits, same name up to case and spaces)
    replaces it rather than adding a second link that would race with the first.
    """
    key = key.strip()
    if not key:
        raise UsageError("the employee key is empty: give a name, an employee number or a SIP")
    agent = resolve_agent(agent_ref, agents)
    agent_id = str(agent["id"])
    current = settings.table(TABLE)
    if key not in current:
        for existing in current:
            if same_key(existing, key):
                settings.remove_table_entry(TABLE, existing)
    settings.set_table_entry(TABLE, key, agent_id)
    return agent_id


def unlink(settings: LinkTable, key: str) -> str:
    """Remove the link named ``key`` (or an equivalent spelling); returns the removed key."""
    current = settings.table(TABLE)
    target = key if key in current else next((k for k in current if same_key(k, key)), None)
    if target is None:
        close = difflib.get_close_matches(key, list(current), n=3, cutoff=0.5)
        raise UsageError(
            f"no employee link {key!r} in [{TABLE}]",
            hint=("did you mean " + " or ".join(close) + "?")
            if close
            else "see them with `ringodesk employees list`",
        )
    settings.remove_table_entry(TABLE, target)
    return target


def link_statuses(links: Mapping[str, str], agents: list[dict[str, Any]]) -> list[LinkStatus]:
    """Each link resolved against the live agents (``employees list``)."""
    by_id = {str(a.get("id")): a for a in agents}
    statuses: list[LinkStatus] = []
    for key, agent_id in links.items():
        agent = by_id.get(str(agent_id))
        if agent is None:
            statuses.append(LinkStatus(key, str(agent_id), None, "unknown"))
        else:
            state: Literal["ok", "disabled"] = "ok" if is_active(agent) else "disabled"
            statuses.append(LinkStatus(key, str(agent_id), agent_label(agent), state))
    return statuses
