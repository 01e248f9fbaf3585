"""Finding in Zoho Desk what already exists: the contact of a number (through the local
contact index, :mod:`.contact_index`), and a create whose answer was lost (by the
``[rs:<id>]`` marker in its subject).

Zoho's search lags behind its writes (a record created seconds ago may not be found yet),
so a lost create is looked for first in lists scoped to a known record (a contact's tickets
and calls, a ticket's tasks) or in the newest records, and only then by search.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import phonenumbers

from ringodesk_cli.ringostat.phones import same_number

if TYPE_CHECKING:
    from ringodesk_cli.sync.contact_index import ContactIndex
    from ringodesk_cli.zoho.desk import DeskClient

# One page of the newest records: calls, tasks and contacts lists take at most 99 (OAS
# Call.json, Task.json, Contact.json `limit`).
RECENT_LIMIT = 99


class ContactFinder:
    """Read-only look-ups in Zoho Desk, shared by the runner's threads."""

    def __init__(
        self, desk: DeskClient, default_region: str, index: ContactIndex | None = None
    ) -> None:
        self.desk = desk
        self.default_region = default_region
        self.index = index
        self.ambiguous = 0  # numbers that matched several contacts (a switchboard)
        self._lock = threading.Lock()

    def _has_number(self, contact: dict[str, Any], number: str) -> bool:
        """Zoho matches numbers as free text: a hit counts only when its phone or mobile is
        ``number`` once normalised."""
        return any(
            contact.get(k) and same_number(str(contact[k]), number, self.default_region)
            for k in ("phone", "mobile")
        )

    def lost_create(
        self, op: str, tag: str, contact_id: str, ticket_id: str | None
    ) -> dict[str, Any] | None:
        """An earlier run's lost outcome: list endpoints scoped to the contact (or ticket)
        first (search lags behind writes), then Zoho's search by subject."""
        candidates: list[dict[str, Any]] = []
        if op == "ticket":
            candidates = self.desk.list_contact_tickets(contact_id)
            if not _with_tag(candidates, tag):
                candidates = self.desk.search_tickets(subject=tag)
        elif op == "call":
            candidates = self.desk.list_contact_calls(contact_id)
            if not _with_tag(candidates, tag):
                candidates = self.desk.search_calls(subject=tag)
        else:
            # Tasks: the ticket's tasks (OAS Task.json /tickets/{id}/tasks), else the newest
            # tasks (GET /tasks?sortBy=-createdTime, Task.json), then search.
            if ticket_id:
                candidates = list(
                    self.desk.paginate(f"/tickets/{ticket_id}/tasks", limit=RECENT_LIMIT)
                )
            else:
                candidates = self.desk.first_page(
                    "/tasks", {"sortBy": "-createdTime"}, limit=RECENT_LIMIT
                )
            if not _with_tag(candidates, tag):
                candidates = self.desk.search_tasks(subject=tag)
        hits = _with_tag(candidates, tag)
        return hits[0] if hits else None

    def recent_contact(self, number: str) -> str | None:
        """The newest contacts (``GET /contacts?sortBy=-createdTime``, OAS Contact.json
        ``sortBy`` createdTime; ``-`` for descending as Task.json documents), one page: a
        list is not subject to the search lag."""
        page = self.desk.first_page("/contacts", {"sortBy": "-createdTime"}, limit=RECENT_LIMIT)
        for contact in page:
            if self._has_number(contact, number):
                return str(contact["id"])
        return None

    def contact_by_number(self, number: str) -> str | None:
        """The contact whose phone or mobile is ``number`` once normalised. From the local
        contact index when it is built (no request); else (above ``contacts.index_max``, or
        Zoho refused the listing) by searching ``phone`` then ``mobile`` with a wildcard
        form, every hit verified. Several matches: the most recently modified wins, and the
        number counts as ambiguous."""
        if self.index is not None and self.index.ready:
            found = self.index.candidates(number)
            if not found:
                return None
            if len(found) > 1:
                with self._lock:
                    self.ambiguous += 1
            return found[0].contact_id  # newest modified first
        return self._search(number)

    def _search(self, number: str) -> str | None:
        # Zoho's search may match a bare value against the whole field text only
        # (docs/zoho-readings.md), so the number's national digits are wrapped in wildcards;
        # a number typed with punctuation inside them is found only through the index.
        form = f"*{_search_digits(number)}*"
        matches: dict[str, dict[str, Any]] = {}
        for field in ("phone", "mobile"):
            hits = (
                self.desk.search_contacts(phone=form)
                if field == "phone"
                else self.desk.search_contacts(mobile=form)
            )
            for contact in hits:
                if self._has_number(contact, number):
                    matches[str(contact["id"])] = contact
            if matches:
                break
        if not matches:
            return None
        if len(matches) > 1:
            with self._lock:
                self.ambiguous += 1
        best = max(matches.values(), key=lambda c: str(c.get("modifiedTime") or ""))
        if self.index is not None and not self.index.ledger.readonly:
            self.index.add(best, commit=False)
        return str(best["id"])


def _search_digits(number: str) -> str:
    """The national significant number: its digits are inside every way Zoho may hold the
    number as free text (``+380671234567``, ``0671234567``), whereas the
    full E.164 digits miss a contact saved in the national format. Hits are verified."""
    try:
        return str(phonenumbers.parse(number, None).national_number)
    except phonenumbers.NumberParseException:
        return number.lstrip("+")


def _with_tag(items: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    return [i for i in items if tag in str(i.get("subject") or "")]
