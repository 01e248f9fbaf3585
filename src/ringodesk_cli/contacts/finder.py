"""Finding in Zoho Desk the contact of a number, through the local contact index
(:mod:`.contact_index`). A create whose answer was lost is reconciled in
:mod:`ringodesk_cli.delivery.reconcile`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import phonenumbers

from ringodesk_cli.errors import AuthError, ZohoError, ZohoUnavailableError
from ringodesk_cli.ringostat.phones import same_number

if TYPE_CHECKING:
    from ringodesk_cli.contacts.index import ContactIndex
    from ringodesk_cli.zoho.desk import DeskClient


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
                if has_number(contact, number, self.default_region):
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
            self.index.add(best)
        return str(best["id"])


def has_number(contact: dict[str, Any], number: str, default_region: str) -> bool:
    """Zoho matches numbers as free text: a contact counts only when its phone or mobile is
    ``number`` once normalised."""
    return any(
        contact.get(k) and same_number(str(contact[k]), number, default_region)
        for k in ("phone", "mobile")
    )


def _search_digits(number: str) -> str:
    """The national significant number: its digits are inside every way Zoho may hold the
    number as free text (``+380671234567``, ``0671234567``), whereas the
    full E.164 digits miss a contact saved in the national format. Hits are verified."""
    try:
        return str(phonenumbers.parse(number, None).national_number)
    except phonenumbers.NumberParseException:
        return number.lstrip("+")


def contact_gone(exc: ZohoError) -> bool:
    """``exc`` says Zoho no longer knows the contact a create named (agents merged or deleted
    it): a 404 on a create (not a missing endpoint) or a 422 naming ``contactId``."""
    if isinstance(exc, AuthError | ZohoUnavailableError):
        return False
    named = any("contactId" in str(e.get("fieldName") or "") for e in exc.errors)
    return (exc.status == 404 and exc.error_code != "URL_NOT_FOUND") or (
        exc.status == 422 and named
    )
