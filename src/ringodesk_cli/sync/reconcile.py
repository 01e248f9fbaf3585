"""Reconciling a create whose answer was lost: an operation the ledger holds as ``intended``
(a crash, a timeout between the request and its commit) is looked for in Zoho Desk before
anything is created again.

Every subject ringodesk writes carries the ``[rs:<id>]`` marker. Zoho's search lags behind
its writes (a record created seconds ago may not be found yet), so a lost create is looked
for first in lists scoped to a known record (a contact's tickets, a ticket's calls and tasks)
or in the department's newest records, and only then by search. Only documented endpoints
are used (``GET /contacts/{id}/calls`` is in no version of Zoho's OpenAPI files). The search
value is ``*[rs:<id>]*``: under the reading where a bare value must equal the whole subject,
a bare marker would find nothing (docs/zoho-readings.md); every hit is checked for the marker.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.sync.contacts import has_number

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

# One page of the newest records: calls, tasks and contacts lists take at most 99 (OAS
# Call.json, Task.json, Contact.json `limit`).
RECENT_LIMIT = 99


class Reconciler:
    """Read-only look-ups for lost creates, shared by the runner's threads."""

    def __init__(self, desk: DeskClient, default_region: str, department_id: str) -> None:
        self.desk = desk
        self.default_region = default_region
        self.department_id = department_id

    def lost_create(
        self, op: str, tag: str, contact_id: str, ticket_id: str | None
    ) -> dict[str, Any] | None:
        """An earlier run's lost outcome, or None: lists first, then search by subject."""
        if op == "ticket":
            found = _with_tag(self.desk.list_contact_tickets(contact_id, self.department_id), tag)
            return found or _with_tag(self.desk.search_tickets(subject=search_value(tag)), tag)
        module = "calls" if op == "call" else "tasks"
        if ticket_id:
            # OAS Call.json /tickets/{id}/calls, Task.json /tickets/{id}/tasks.
            scoped = list(self.desk.paginate(f"/tickets/{ticket_id}/{module}", limit=RECENT_LIMIT))
        else:
            scoped = self.desk.newest(module, self.department_id)
        found = _with_tag(scoped, tag)
        if found:
            return found
        search = self.desk.search_calls if module == "calls" else self.desk.search_tasks
        return _with_tag(search(subject=search_value(tag)), tag)

    def recent_contact(self, number: str) -> str | None:
        """The contact of ``number`` among the newest contacts (one page): a list is not
        subject to the search lag."""
        for contact in self.desk.newest_contacts(RECENT_LIMIT):
            if has_number(contact, number, self.default_region):
                return str(contact["id"])
        return None


def search_value(tag: str) -> str:
    """The subject search for a marker: contained anywhere in the subject."""
    return f"*{tag}*"


def stale_fields(
    found: dict[str, Any], body: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    """What ``body`` would change on ``found``, a record read back from a list. Lists leave
    fields out (``GET /tickets/{id}/calls`` has no duration or description): a field the
    list did not return is not compared, so a found record is not PATCHed for nothing.
    Times are compared as instants, numbers as text."""
    return {
        k: body[k] for k in keys if k in body and k in found and not _same(k, found[k], body[k])
    }


def _same(key: str, have: Any, want: Any) -> bool:
    if have == want or str(have) == str(want):
        return True
    if key.endswith("Time") or key.endswith("Date"):
        a, b = _instant(have), _instant(want)
        return a is not None and a == b
    return False


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _with_tag(items: list[dict[str, Any]], tag: str) -> dict[str, Any] | None:
    for item in items:
        if tag in str(item.get("subject") or ""):
            return item
    return None
