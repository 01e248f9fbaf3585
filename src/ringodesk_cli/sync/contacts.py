"""Finding in Zoho Desk the contact of a number. (A create whose answer was lost is
reconciled in :mod:`ringodesk_cli.sync.reconcile`.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import phonenumbers

from ringodesk_cli.errors import ZohoError
from ringodesk_cli.ringostat.phones import same_number

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient


class ContactFinder:
    """Read-only look-ups in Zoho Desk, shared by the runner's threads."""

    def __init__(self, desk: DeskClient, default_region: str) -> None:
        self.desk = desk
        self.default_region = default_region
        self.ambiguous = 0  # numbers that matched several contacts (a switchboard)
        self._lock = threading.Lock()
        self._all_refused = False

    def _has_number(self, contact: dict[str, Any], number: str) -> bool:
        """Zoho matches numbers as free text: a hit counts only when its phone or mobile is
        ``number`` once normalised."""
        return any(
            contact.get(k) and same_number(str(contact[k]), number, self.default_region)
            for k in ("phone", "mobile")
        )

    def contact_by_number(self, number: str) -> str | None:
        """One ``_all`` search for the number's digits, which covers phone and mobile at the
        cost of one API credit; if Zoho refuses ``_all`` (not every portal accepts it), phone
        then mobile. Every hit is checked against the normalised number. Several matches: the
        most recently modified wins."""
        digits = _search_digits(number)
        matches: dict[str, dict[str, Any]] = {}
        for found in self._contact_searches(digits):
            for contact in found:
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
        return str(best["id"])

    def _contact_searches(self, digits: str) -> Iterator[list[dict[str, Any]]]:
        if not self._all_refused:
            try:
                yield self.desk.search_contacts(all_=digits)
                return
            except ZohoError as exc:
                if not _refused_parameter(exc):
                    raise
                self._all_refused = True  # this portal has no `_all`: use the documented pair
        yield self.desk.search_contacts(phone=digits)
        yield self.desk.search_contacts(mobile=digits)


def _refused_parameter(exc: ZohoError) -> bool:
    return exc.status in (400, 422) and exc.error_code in (
        "INVALID_DATA",
        "UNPROCESSABLE_ENTITY",
        "BAD_REQUEST",
    )


def _search_digits(number: str) -> str:
    """The national significant number: its digits are inside every way Zoho may hold the
    number as free text (``+380671234567``, ``0671234567``), whereas the
    full E.164 digits miss a contact saved in the national format. Hits are verified."""
    try:
        return str(phonenumbers.parse(number, None).national_number)
    except phonenumbers.NumberParseException:
        return number.lstrip("+")
