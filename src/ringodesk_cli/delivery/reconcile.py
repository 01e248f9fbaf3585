"""Reconciling a create whose answer was lost: an operation the ledger holds as ``intended``
(a crash, a timeout between the request and its commit) is looked for in Zoho Desk before
anything is created again.

Every subject ringodesk writes carries the ``[rs:<id>]`` marker. Zoho's search lags behind
its writes (a record created seconds ago may not be found yet; an hour is seen), so a lost
create is looked for first in lists, and only then by search:

* a ticket among its contact's tickets (``GET /contacts/{id}/tickets``);
* a call or task with a ticket among the ticket's calls or tasks;
* a call or task without a ticket, and a contact, at the end of the module's list in
  ascending ``createdTime`` order (``GET /calls``, ``/tasks``, ``/contacts``): Zoho's files
  document no descending (``-``) form for these lists (docs/zoho-readings.md). The end is
  found from a count where Zoho gives one (contacts), else by probing pages; the list is read
  back from there until records older than the call (less ``CREATED_MARGIN``). What was read
  is kept for the run (``CreatedTail``), so the next lost create costs one request.

Only documented endpoints are used (``GET /contacts/{id}/calls`` is in no version of Zoho's
OpenAPI files). The search value is ``*[rs:<id>]*``: under the reading where a bare value
must equal the whole subject, a bare marker would find nothing (docs/zoho-readings.md);
every hit is checked for the marker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ringodesk_cli.contacts.finder import has_number
from ringodesk_cli.errors import ScopeError, ZohoError
from ringodesk_cli.zoho.desk import refused

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

# A page of GET /calls, /tasks and /contacts: at most 99 (Call.json, Task.json, Contact.json).
PAGE = 99
# A record made for a call is created after the call; this much earlier is still looked at:
# Zoho's clock, and a Ringostat time zone set wrong (offsets reach 14 hours).
CREATED_MARGIN = timedelta(days=1)
# At most this many pages are read back from a list's end for one look-up (then search).
MAX_PAGES_BACK = 100

Fetch = Callable[[int], list[dict[str, Any]]]
Match = Callable[[dict[str, Any]], bool]


class Reconciler:
    """Read-only look-ups for lost creates, shared by the runner's threads."""

    def __init__(self, desk: DeskClient, default_region: str, department_id: str) -> None:
        self.desk = desk
        self.default_region = default_region
        self.department_id = department_id
        self._tails: dict[tuple[str, str], CreatedTail] = {}
        self._lock = threading.Lock()

    def lost_create(
        self,
        op: str,
        tag: str,
        contact_id: str,
        ticket_id: str | None,
        *,
        since: datetime | None = None,
        department: str | None = None,
    ) -> dict[str, Any] | None:
        """An earlier run's lost outcome, or None: lists first, then search by subject.
        ``since``: the call's time (no record made for it is older, less the margin);
        ``department``: the one the record was sent to (default: the profile's)."""
        if op == "ticket":
            found = _with_tag(self.desk.list_contact_tickets(contact_id, self.department_id), tag)
            if found:
                return found
            searched = _unless_refused(lambda: self.desk.search_tickets(subject=search_value(tag)))
            return _with_tag(searched, tag)
        module = "calls" if op == "call" else "tasks"
        if ticket_id:
            # OAS Call.json /tickets/{id}/calls, Task.json /tickets/{id}/tasks.
            scoped = list(self.desk.paginate(f"/tickets/{ticket_id}/{module}", limit=PAGE))
            found = _with_tag(scoped, tag)
        else:
            dep = str(department or self.department_id)
            found = self._tail(module, dep).find(_tagged(tag), _floor(since))
        if found:
            return found
        search = self.desk.search_calls if module == "calls" else self.desk.search_tasks
        return _with_tag(_unless_refused(lambda: search(subject=search_value(tag))), tag)

    def recent_contact(self, number: str, *, since: datetime | None = None) -> str | None:
        """The contact of ``number`` among the contacts created since the call (less the
        margin), read from the end of the ascending list: a list is not subject to the
        search lag."""
        found = self._tail("contacts", "").find(
            lambda c: has_number(c, number, self.default_region), _floor(since)
        )
        return str(found["id"]) if found else None

    def _tail(self, module: str, department: str) -> CreatedTail:
        with self._lock:
            tail = self._tails.get((module, department))
            if tail is None:
                params = {"departmentId": department} if department else None

                def fetch(start: int) -> list[dict[str, Any]]:
                    return self.desk.created_page(module, start, params)

                hint = self.desk.contacts_count if module == "contacts" else None
                tail = self._tails[(module, department)] = CreatedTail(fetch, hint)
            return tail


class CreatedTail:
    """The newest records of one list in ascending ``createdTime`` order: its end located
    (from a count, else by probing pages), then read backwards as far as a look-up needs.
    What was read is kept, so later look-ups re-read only the last page. ``from`` may count
    from 0 or 1 (docs/zoho-readings.md): pages overlap by one record, and records are kept
    by id, so either way none is missed."""

    def __init__(self, fetch: Fetch, hint: Callable[[], int | None] | None = None) -> None:
        self._fetch = fetch
        self._hint = hint
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self._first: int | None = None  # `from` of the earliest page read
        self._last: int | None = None  # `from` of the page read last, at the end

    def find(self, match: Match, floor: datetime | None) -> dict[str, Any] | None:
        """The newest record ``match`` accepts among those created at or after ``floor``
        (None: only the last pages), or None. A list Zoho refuses is an empty list."""
        with self._lock:
            try:
                self._read_end()
                hit = self._match(match)
                pages = 0
                while hit is None and pages < MAX_PAGES_BACK and self._read_back(floor):
                    pages += 1
                    hit = self._match(match)
            except ZohoError as exc:
                if not refused(exc):
                    raise
                return None
            return hit

    def _match(self, match: Match) -> dict[str, Any] | None:
        newest_first = sorted(
            self._records.values(), key=lambda r: str(r.get("createdTime") or ""), reverse=True
        )
        return next((record for record in newest_first if match(record)), None)

    def _keep(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._records.setdefault(str(row.get("id")), row)

    def _read_end(self) -> None:
        if self._last is None:
            start, rows = self._locate_end()
            self._first = start
        else:
            start = max(1, self._last)
            rows = self._fetch(start)
            if not rows:  # records were deleted: the end moved back
                start, rows = self._locate_end()
                self._first = min(self._first or start, start)
        self._keep(rows)
        while len(rows) >= PAGE:  # records added meanwhile: read on to the end
            start += len(rows) - 1
            rows = self._fetch(start)
            self._keep(rows)
        self._last = start

    def _locate_end(self) -> tuple[int, list[dict[str, Any]]]:
        """A page that reaches the end of the list (non-empty and short), with its ``from``;
        (1, []) for an empty list. From the count when there is one, else doubling steps
        then halving: about 2·log2(n/99) requests."""
        count = self._hint() if self._hint is not None else None
        start = max(1, count - PAGE + 2) if count else 1
        good, bad, step = 0, 0, PAGE  # good: an offset known to hold a record; bad: none
        while True:
            rows = self._fetch(start)
            if rows and len(rows) < PAGE:
                return start, rows
            if rows:
                good = start + len(rows) - 1
            else:
                bad = start
            if bad and good >= bad:
                bad = 0  # records were added meanwhile: step on from the record seen
            if bad and bad - good <= 1:
                return (good, self._fetch(good)) if good else (1, [])
            if bad:
                start = max(1, (good + bad) // 2)
            else:
                start, step = good + step, step * 2

    def _read_back(self, floor: datetime | None) -> bool:
        """One more page before the earliest read; False when there is none or the records
        read already reach back before ``floor``."""
        if not self._first or self._first <= 1 or floor is None:
            return False
        oldest = min(
            (t for t in (_instant(r.get("createdTime")) for r in self._records.values()) if t),
            default=None,
        )
        if oldest is not None and oldest < floor:
            return False
        start = max(1, self._first - (PAGE - 1))
        self._keep(self._fetch(start))
        self._first = start
        return True


def _unless_refused(search: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A search's hits; none when Zoho refuses it (``Desk.search.READ`` is optional: activation
    may have done without it, docs/zoho-readings.md)."""
    try:
        return search()
    except ZohoError as exc:
        if not (refused(exc) or isinstance(exc, ScopeError)):
            raise
        return []


def _floor(since: datetime | None) -> datetime | None:
    if since is None:
        return None
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    return aware - CREATED_MARGIN


def _tagged(tag: str) -> Match:
    return lambda item: tag in str(item.get("subject") or "")


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
