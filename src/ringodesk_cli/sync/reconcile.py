"""Reconciling a create whose answer was lost: an operation the ledger holds as ``intended``
(a crash, a timeout between the request and its commit) is looked for in Zoho Desk before
anything is created again.

Every subject ringodesk writes carries the ``[rs:<id>]`` marker. Zoho's search lags behind
its writes (a record created seconds ago may not be found yet), so a lost create is looked
for first in lists scoped to a known record (a contact's tickets, a ticket's calls and
tasks) or in the newest records, and only then by search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringodesk_cli.ringostat.phones import same_number

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

# One page of the newest records: calls, tasks and contacts lists take at most 99 (OAS
# Call.json, Task.json, Contact.json `limit`).
RECENT_LIMIT = 99


class Reconciler:
    """Read-only look-ups for lost creates, shared by the runner's threads."""

    def __init__(self, desk: DeskClient, default_region: str) -> None:
        self.desk = desk
        self.default_region = default_region

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
            if any(
                contact.get(k) and same_number(str(contact[k]), number, self.default_region)
                for k in ("phone", "mobile")
            ):
                return str(contact["id"])
        return None


def _with_tag(items: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    return [i for i in items if tag in str(i.get("subject") or "")]
