"""Desk searches of the sandbox: contacts by number, e-mail or name, and tickets, call
activities and tasks by subject (Search.json), under the search reading in force
(docs/zoho-readings.md)."""

from __future__ import annotations

import re
from typing import Any

from ringodesk_cli.sandbox.replies import DeskRequest, Reply, invalid_param, json_reply
from ringodesk_cli.sandbox.store import Store
from ringodesk_cli.sandbox.validation import id_param, paging, single

# Search.json gives searches no maximum `limit`; 100 is assumed.
SEARCH_CAP = 100
_CONTACT_NAME_FIELDS = ("firstName", "lastName", "email", "phone", "mobile")


def _digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


def pattern_match(query: str, text: Any) -> bool:
    """The strict reading of a search value (the OAS's ``searchStr`` wording): a bare value
    matches the whole field text, ``*x*`` contains, ``x*`` starts with, ``*x`` ends with;
    case-insensitive, no digit normalisation."""
    q = query.lower()
    t = str(text or "").lower()
    if len(q) >= 2 and q.startswith("*") and q.endswith("*"):
        return q[1:-1] in t
    if q.endswith("*"):
        return t.startswith(q[:-1])
    if q.startswith("*"):
        return t.endswith(q[1:])
    return t == q


class SearchEndpoints:
    """The search handlers; :class:`RecordEndpoints` adds the records themselves."""

    store: Store
    search_lag: float
    readings: dict[str, str]

    def reading(self, name: str) -> str:
        return self.readings[name]

    def _visible(self, kind: str, now: float) -> list[dict[str, Any]]:
        # New records take a while to become searchable (docs/zoho-readings.md).
        lag = self.search_lag
        with self.store.lock:
            created = self.store.created_at
            return [
                r
                for r in self.store.records[kind].values()
                if now - created.get(r["id"], 0.0) >= lag
            ]

    def _found(self, req: DeskRequest, items: list[dict[str, Any]]) -> Reply:
        offset, limit = paging(req.params, SEARCH_CAP)
        items = sorted(items, key=lambda r: r.get("modifiedTime") or "", reverse=True)
        page = items[offset : offset + limit]
        # Search.json: {"data": [...], "count": N}; 204 when nothing matched.
        return json_reply({"data": page, "count": len(items)}) if page else Reply(204)

    def _text_match(self, query: str | None, text: Any) -> bool:
        """A text search value (subject, email, lastName) under the current reading."""
        if query is None:
            return True
        if self.reading("search") == "exact":
            return pattern_match(query, text)
        return query.replace("*", "").lower() in str(text or "").lower()

    def search(self, kind: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            subject = single(req.params, "subject")
            rec_id = id_param(req.params, "id")
            dep = id_param(req.params, "departmentId")
            contact = id_param(req.params, "contactId")
            status = single(req.params, "status")
            found = [
                r
                for r in self._visible(kind, req.now)
                if self._text_match(subject, r.get("subject"))
                and rec_id in (None, r["id"])
                and dep in (None, r.get("departmentId"))
                and contact in (None, r.get("contactId"))
                and status in (None, r.get("status"))
            ]
            return self._found(req, found)

        return handler

    def search_contacts(self, req: DeskRequest) -> Reply:
        """Strict reading (``search=exact``): every value matches a whole field's text unless
        it carries ``*`` wildcards, with no digit normalisation. Lenient (``search=digits``):
        a phone/mobile query matches every number that *contains* its digits, as does an
        ``_all`` value of three digits or more. Either way callers must verify what they get."""
        every = req.params.get("_all", [])
        if any(len(a) < 3 or len(a) > 1000 for a in every):
            raise invalid_param("_all")
        for name in ("phone", "mobile"):
            if len(req.params.get(name, [])) > 30:
                raise invalid_param(name)
        rec_id = id_param(req.params, "id")
        email = single(req.params, "email")
        last = single(req.params, "lastName")
        exact = self.reading("search") == "exact"

        def number_match(name: str, record: dict[str, Any]) -> bool:
            values = req.params.get(name, [])
            if exact:
                return not values or any(pattern_match(q, record.get(name)) for q in values)
            queries = [_digits(q) for q in values]
            return not queries or any(q and q in _digits(record.get(name)) for q in queries)

        def all_match(record: dict[str, Any]) -> bool:
            for q in every:
                if exact:
                    if not any(pattern_match(q, record.get(k)) for k in _CONTACT_NAME_FIELDS):
                        return False
                    continue
                text = " ".join(str(record.get(k) or "") for k in _CONTACT_NAME_FIELDS).lower()
                digits = _digits(q)
                numbers = _digits(record.get("phone")) + " " + _digits(record.get("mobile"))
                if q.replace("*", "").lower() not in text and not (
                    len(digits) >= 3 and digits in numbers
                ):
                    return False
            return True

        found = [
            r
            for r in self._visible("contacts", req.now)
            if number_match("phone", r)
            and number_match("mobile", r)
            and all_match(r)
            and rec_id in (None, r["id"])
            and self._text_match(email, r.get("email"))
            and self._text_match(last, r.get("lastName"))
        ]
        return self._found(req, found)
