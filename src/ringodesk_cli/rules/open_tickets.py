"""``integration.tickets = "reuse-open"``: the open ticket a call of a contact joins.

Known from the ledger first: the ticket ringodesk made or joined for a contact (in one
department), with the time of its last call and the custom fields it holds. A ticket ringodesk
made or saw open in *this* run is taken as is (no request); anything else is asked of Zoho
once per contact, department and run (``GET /contacts/{id}/tickets``): the newest ticket that
is not Closed and whose last activity is within ``integration.reuse_window`` of the call (the
last activity: the ticket's latest call when ringodesk knows the ticket, else Zoho's
``modifiedTime``). A contact created by this run has no other ticket: no request either.

A joining call fills the ticket's custom fields that are empty (never one that has a value):
a PATCH with only those, and only when the call brings a value for one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ringodesk_cli.ledger.open_ticket_rows import (
    forget_open_ticket,
    open_ticket_row,
    remember_open_ticket,
)

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger
    from ringodesk_cli.rules.planner import CallPlan
    from ringodesk_cli.zoho.desk import DeskClient

CLOSED = "Closed"


@dataclass(frozen=True)
class OpenTicket:
    ticket_id: str
    last_activity: datetime
    filled: frozenset[str] | None  # cf apiNames holding a value; None: not known


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _is_open(ticket: Mapping[str, Any]) -> bool:
    status = str(ticket.get("statusType") or ticket.get("status") or "")
    return status != CLOSED


class OpenTickets:
    """Shared by the runner's threads; the caller holds the contact's lock around
    ``find`` .. ``remember`` so that two calls of one contact never open two tickets."""

    def __init__(self, ledger: Ledger, desk: DeskClient | None, window: timedelta) -> None:
        self.ledger = ledger
        self.desk = desk
        self.window = window
        self._lock = threading.Lock()
        self._checked: set[tuple[str, str]] = set()  # (contact, department) seen this run
        self.lookups = 0

    def _row(self, contact_id: str, department_id: str) -> OpenTicket | None:
        row = open_ticket_row(self.ledger, contact_id, department_id)
        if row is None:
            return None
        filled = frozenset(json.loads(row[2])) if row[2] is not None else None
        return OpenTicket(row[0], _time(row[1]), filled)

    def _fresh(self, ticket: OpenTicket | None, when: datetime) -> OpenTicket | None:
        if ticket is None or when - ticket.last_activity > self.window:
            return None
        return ticket

    def find(
        self, contact_id: str, department_id: str, when: datetime, *, new_contact: bool
    ) -> OpenTicket | None:
        """The open ticket a call of ``contact_id`` at ``when`` joins, or None."""
        key = (contact_id, department_id)
        known = self._row(contact_id, department_id)
        with self._lock:
            checked = key in self._checked
            if new_contact:
                self._checked.add(key)
        if checked or new_contact:
            return self._fresh(known, when)
        found = self._ask_zoho(contact_id, department_id, when, known)
        with self._lock:
            self._checked.add(key)
        if found is None:
            self.forget(contact_id, department_id)
        else:
            self.remember(contact_id, department_id, found)
        return found

    def _ask_zoho(
        self, contact_id: str, department_id: str, when: datetime, known: OpenTicket | None
    ) -> OpenTicket | None:
        assert self.desk is not None
        with self._lock:
            self.lookups += 1
        from ringodesk_cli.zoho.desk_settings import contact_tickets

        tickets = contact_tickets(self.desk, contact_id, department_id)
        best: OpenTicket | None = None
        for ticket in tickets:
            if not _is_open(ticket) or not ticket.get("id"):
                continue
            ticket_id = str(ticket["id"])
            stamps = [str(ticket.get(k)) for k in ("modifiedTime", "createdTime") if ticket.get(k)]
            last = max((_time(s) for s in stamps), default=None)
            if known is not None and known.ticket_id == ticket_id:
                # A ticket ringodesk made or joined: its last activity is its latest call
                # (Zoho's modifiedTime moves with every edit, ringodesk's own included).
                last = known.last_activity
            if last is None:
                continue
            cf = ticket.get("cf")
            filled = (
                frozenset(k for k, v in cf.items() if v not in (None, ""))
                if isinstance(cf, Mapping)
                else None
            )
            candidate = self._fresh(OpenTicket(ticket_id, last, filled), when)
            if candidate is not None and (best is None or last > best.last_activity):
                best = candidate
        return best

    def remember(self, contact_id: str, department_id: str, ticket: OpenTicket) -> None:
        if self.ledger.readonly:
            return
        filled = json.dumps(sorted(ticket.filled)) if ticket.filled is not None else None
        remember_open_ticket(self.ledger, contact_id, department_id, ticket.ticket_id,
                             ticket.last_activity.isoformat(), filled)  # fmt: skip
        with self._lock:
            self._checked.add((contact_id, department_id))

    def forget(self, contact_id: str, department_id: str) -> None:
        if self.ledger.readonly:
            return
        forget_open_ticket(self.ledger, contact_id, department_id)

    def joined(
        self,
        contact_id: str,
        department_id: str,
        ticket: OpenTicket,
        when: datetime,
        cf: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Record that a call at ``when`` joined ``ticket``; the custom field values to fill
        (those the ticket is known to lack and the call has)."""
        fill: dict[str, Any] = {}
        if ticket.filled is not None:
            fill = {k: v for k, v in cf.items() if v not in (None, "") and k not in ticket.filled}
        filled = None if ticket.filled is None else ticket.filled | frozenset(fill)
        last = max(ticket.last_activity, when)
        self.remember(contact_id, department_id, OpenTicket(ticket.ticket_id, last, filled))
        return fill


def join_or_open(
    tickets: OpenTickets,
    plan: CallPlan,
    ids: dict[str, str | None],
    contact_id: str,
    *,
    new_caller: bool,
    create_ticket: Callable[[dict[str, Any]], str],
) -> None:
    """Under reuse-open: set ``ids[TICKET]`` to the contact's open ticket (filling its empty
    custom fields), or to a ticket this call opens when the rules let it; else leave it unset.
    The caller holds the contact's lock."""
    from ringodesk_cli.rules.planner import TICKET, substitute
    from ringodesk_cli.zoho.desk_settings import update_ticket

    department = str(plan.call["departmentId"])
    when = plan.record.started_at
    cf = dict((plan.ticket or {}).get("cf") or {})
    found = tickets.find(contact_id, department, when, new_contact=new_caller)
    if found is not None:
        ids[TICKET] = found.ticket_id
        fill = tickets.joined(contact_id, department, found, when, cf)
        if fill and tickets.desk is not None:
            update_ticket(tickets.desk, found.ticket_id, {"cf": fill})
        return
    if plan.ticket is None:
        return
    ticket_id = create_ticket(substitute(plan.ticket, ids))
    ids[TICKET] = ticket_id
    filled = frozenset(k for k, v in cf.items() if v not in (None, ""))
    tickets.remember(contact_id, department, OpenTicket(ticket_id, when, filled))
