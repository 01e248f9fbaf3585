"""Desk endpoints for records: contacts, tickets, call activities and tasks, their lists and
their searches (Contact.json, Ticket.json, Call.json, Task.json, Search.json)."""

from __future__ import annotations

import re
from typing import Any

from ringodesk_cli.sandbox.config import SandboxConfig
from ringodesk_cli.sandbox.replies import (
    DeskRequest,
    Reply,
    field_error,
    invalid_data,
    invalid_param,
    json_reply,
    list_reply,
    not_found,
)
from ringodesk_cli.sandbox.store import Store, iso
from ringodesk_cli.sandbox.validation import id_param, paging, single, validate_body

# List caps from the OAS `limit` parameters: calls, tasks and contacts 99 (Call.json,
# Task.json, Contact.json), tickets not given there (100, §8); searches have no maximum in
# Search.json, 100 is assumed.
LIST_CAPS = {"calls": 99, "tasks": 99, "contacts": 99, "tickets": 100}
SEARCH_CAP = 100
CLOSED_CALL = ("Completed", "Missed", "Canceled")
_REF_KIND = {"contactId": "contacts", "ticketId": "tickets"}


# `sortBy` values the OpenAPI lists per list endpoint (Contact.json, Task.json, ...); a `-`
# prefix sorts descending (Task.json: "A - prefix denotes a descending order of sorting").
SORT_KEYS: dict[str, frozenset[str]] = {
    "contacts": frozenset(
        {"firstName", "lastName", "phone", "email", "account", "createdTime", "modifiedTime"}
    ),
    "tasks": frozenset(
        {"category", "subject", "dueDate", "status", "createdTime", "modifiedTime", "priority"}
    ),
}
_DEFAULT_SORT_KEYS = frozenset({"createdTime", "modifiedTime"})


def _sorted(kind: str, req: DeskRequest, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raw = single(req.params, "sortBy")
    if not raw:
        return items
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in SORT_KEYS.get(kind, _DEFAULT_SORT_KEYS):
        raise invalid_param("sortBy")
    # Ties (same millisecond) keep creation order, reversed with the rest when descending.
    ranked = sorted(enumerate(items), key=lambda pair: (str(pair[1].get(key) or ""), pair[0]))
    ordered = [item for _, item in ranked]
    return ordered[::-1] if descending else ordered


def _digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text or ""))


class RecordEndpoints:
    def __init__(self, store: Store, cfg: SandboxConfig) -> None:
        self.store = store
        self.cfg = cfg
        self.search_lag = cfg.search_lag_seconds

    # ---- shared checks ------------------------------------------------------------------
    def _check_refs(self, module: str, body: dict[str, Any]) -> None:
        errors: list[dict[str, str]] = []
        for key, value in body.items():
            if value in (None, ""):
                continue
            ref = str(value)
            if key == "departmentId" and self.store.department(ref) is None:
                errors.append(field_error("/departmentId", "invalid", "No such department"))
            elif key in _REF_KIND and self.store.record(_REF_KIND[key], ref) is None:
                errors.append(field_error(f"/{key}", "invalid", f"No such {_REF_KIND[key][:-1]}"))
            elif key in ("ownerId", "assigneeId"):
                agent = self.store.agent(ref)
                if agent is None or agent["status"] != "ACTIVE":
                    errors.append(field_error(f"/{key}", "invalid", "No such active agent"))
            elif key in ("accountId", "productId", "teamId", "layoutId"):
                errors.append(field_error(f"/{key}", "invalid", "No such record in the sandbox"))
        errors.extend(self._check_cf(module, body.get("cf")))
        if errors:
            raise invalid_data(errors)

    def _check_cf(self, module: str, cf: Any) -> list[dict[str, str]]:
        if not cf:
            return []
        known = self.store.custom_fields(module)
        errors = []
        for key, value in cf.items():
            field = known.get(key)
            if field is None:
                errors.append(field_error(f"/cf/{key}", "invalid", f"Unknown custom field {key}"))
                continue
            text = "" if value is None else str(value)
            max_len = field.get("maxLength")
            if max_len is not None and len(text) > int(max_len):
                errors.append(field_error(f"/cf/{key}", "invalid", f"Longer than {max_len}"))
            values = field.get("allowedValues")
            if values and text and text not in values:
                errors.append(field_error(f"/cf/{key}", "invalid", "Not an allowed value"))
        return errors

    def _base(self, module: str, rec_id: str, now: float) -> dict[str, Any]:
        cf: dict[str, Any] = dict.fromkeys(self.store.custom_fields(module))
        return {
            "id": rec_id,
            "createdTime": iso(now),
            "modifiedTime": iso(now),
            "creatorId": self.store.agents[0]["id"],
            "webUrl": f"https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#{module}/dv/{rec_id}",
            "isSpam": False,
            "cf": cf,
        }

    def _apply(self, module: str, record: dict[str, Any], body: dict[str, Any], now: float) -> None:
        for key, value in body.items():
            if key == "cf":
                record["cf"].update(value or {})
            elif key not in ("customFields", "contact"):
                record[key] = (
                    str(value) if key in ("duration", "zip") and value is not None else value
                )
        record["modifiedTime"] = iso(now)
        if module == "calls":
            closed = record.get("status") in CLOSED_CALL
            record["statusType"] = "Closed" if closed else "Open"
            if closed and not record.get("completedTime"):
                record["completedTime"] = iso(now)
        elif module == "tickets":
            status = record.get("status") or "Open"
            record["statusType"] = {"Closed": "Closed", "On Hold": "On Hold"}.get(status, "Open")
        elif module == "tasks":
            record["statusType"] = "Closed" if record.get("status") == "Completed" else "Open"
        labels = {
            f["apiName"]: f["displayLabel"] for f in self.store.custom_fields(module).values()
        }
        record["customFields"] = {labels.get(k, k): v for k, v in record["cf"].items()}

    def _get(self, kind: str, rec_id: str) -> dict[str, Any]:
        record = self.store.record(kind, rec_id)
        if record is None:
            raise not_found()
        return record

    # ---- generic create / get / patch / list --------------------------------------------
    def _create(self, kind: str, req: DeskRequest, defaults: dict[str, Any]) -> dict[str, Any]:
        body = validate_body(kind, "create", req.body)
        self._check_refs(kind, body)
        with self.store.lock:
            record = self._base(kind, self.store.new_id(), req.now)
            record.update(defaults)
            self._apply(kind, record, body, req.now)
            return self.store.add(kind, record, req.now)

    def _patch(self, kind: str, req: DeskRequest) -> Reply:
        body = validate_body(kind, "update", req.body)
        self._check_refs(kind, body)
        with self.store.lock:
            record = self._get(kind, req.args[0])
            self._apply(kind, record, body, req.now)
            return json_reply(record)

    def get(self, kind: str) -> Any:
        return lambda req: json_reply(self._get(kind, req.args[0]))

    def patch(self, kind: str) -> Any:
        return lambda req: self._patch(kind, req)

    def _page(self, kind: str, req: DeskRequest, items: list[dict[str, Any]]) -> Reply:
        items = _sorted(kind, req, items)
        offset, limit = paging(req.params, LIST_CAPS[kind])
        dep = id_param(req.params, "departmentId")
        if dep is not None:
            items = [r for r in items if r.get("departmentId") == dep]
        return list_reply(items[offset : offset + limit])

    def lister(self, kind: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            with self.store.lock:
                items = list(self.store.records[kind].values())
            return self._page(kind, req, items)

        return handler

    def children(self, kind: str, parent: str, key: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            self._get(parent, req.args[0])
            with self.store.lock:
                items = [r for r in self.store.records[kind].values() if r.get(key) == req.args[0]]
            return self._page(kind, req, items)

        return handler

    # ---- creates ------------------------------------------------------------------------
    def create_contact(self, req: DeskRequest) -> Reply:
        return json_reply(self._create("contacts", req, {"firstName": None, "email": None,
                                                         "phone": None, "mobile": None,
                                                         "ownerId": None}))  # fmt: skip

    def create_ticket(self, req: DeskRequest) -> Reply:
        body = validate_body("tickets", "create", req.body)
        inline = body.get("contact")
        if not body.get("contactId") and not inline:
            raise invalid_data([field_error("/contactId", "missing", "contactId or contact")])
        if inline and not (inline.get("lastName") or inline.get("email")):
            # QDX create-a-ticket: "either lastName or email must be present".
            raise invalid_data([field_error("/contact", "invalid", "lastName or email needed")])
        self._check_refs("tickets", body)
        defaults: dict[str, Any] = {
            "ticketNumber": self.store.next_ticket_number(),
            "status": "Open",
            "email": None,
            "phone": None,
            "assigneeId": None,
            "channel": None,
        }
        if inline and not body.get("contactId"):
            defaults["contactId"] = self._inline_contact(inline, req.now)
        contact = self.store.record("contacts", body.get("contactId") or defaults["contactId"])
        if contact is not None:
            defaults["email"] = contact.get("email")
            defaults["phone"] = contact.get("phone")
        return json_reply(self._create("tickets", req, defaults))

    def _inline_contact(self, inline: dict[str, Any], now: float) -> str:
        # A ticket's inline contact is matched by e-mail only (DECISIONS.md "Zoho behaviours
        # that bite"): a phone-only caller becomes a new contact every time.
        email = (inline.get("email") or "").lower()
        with self.store.lock:
            if email:
                for c in self.store.records["contacts"].values():
                    if (c.get("email") or "").lower() == email:
                        return str(c["id"])
            record = self._base("contacts", self.store.new_id(), now)
            record.update({"firstName": None, "email": None, "phone": None, "mobile": None})
            self._apply("contacts", record, {k: v for k, v in inline.items()}, now)
            if not record.get("lastName"):
                record["lastName"] = email
            self.store.add("contacts", record, now)
            return str(record["id"])

    def create_call(self, req: DeskRequest) -> Reply:
        return json_reply(self._create("calls", req, {"ticketId": None, "ownerId": None,
                                                      "priority": None, "description": None,
                                                      "completedTime": None}))  # fmt: skip

    def create_task(self, req: DeskRequest) -> Reply:
        # Zoho's default task status is open (DECISIONS.md: tasks are sent without status).
        return json_reply(self._create("tasks", req, {"status": "Not Started", "ticketId": None,
                                                      "contactId": None, "ownerId": None,
                                                      "dueDate": None, "priority": None,
                                                      "description": None}))  # fmt: skip

    # ---- searches -----------------------------------------------------------------------
    def _visible(self, kind: str, now: float) -> list[dict[str, Any]]:
        # New records take a while to become searchable (DECISIONS.md "Search lags").
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

    def search(self, kind: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            subject = (single(req.params, "subject") or "").replace("*", "").lower()
            rec_id = id_param(req.params, "id")
            dep = id_param(req.params, "departmentId")
            contact = id_param(req.params, "contactId")
            status = single(req.params, "status")
            found = [
                r
                for r in self._visible(kind, req.now)
                if subject in (r.get("subject") or "").lower()
                and rec_id in (None, r["id"])
                and dep in (None, r.get("departmentId"))
                and contact in (None, r.get("contactId"))
                and status in (None, r.get("status"))
            ]
            return self._found(req, found)

        return handler

    def search_contacts(self, req: DeskRequest) -> Reply:
        """Free-text style: a phone/mobile query matches every number that *contains* its
        digits (Zoho searches numbers as text, §5), so callers must verify what they get."""
        every = req.params.get("_all", [])
        if any(len(a) < 3 or len(a) > 1000 for a in every):
            raise invalid_param("_all")
        for name in ("phone", "mobile"):
            if len(req.params.get(name, [])) > 30:
                raise invalid_param(name)
        rec_id = id_param(req.params, "id")
        email = (single(req.params, "email") or "").replace("*", "").lower()
        last = (single(req.params, "lastName") or "").replace("*", "").lower()

        def number_match(name: str, record: dict[str, Any]) -> bool:
            queries = [_digits(q) for q in req.params.get(name, [])]
            return not queries or any(q and q in _digits(record.get(name)) for q in queries)

        def all_match(record: dict[str, Any]) -> bool:
            for q in every:
                text = " ".join(
                    str(record.get(k) or "")
                    for k in ("firstName", "lastName", "email", "phone", "mobile")
                ).lower()
                digits = _digits(q)
                numbers = _digits(record.get("phone")) + " " + _digits(record.get("mobile"))
                if q.replace("*", "").lower() not in text and not (
                    len(digits) >= 3 and digits in numbers
                ):
                    return False
            return True  # fmt: skip

        found = [
            r
            for r in self._visible("contacts", req.now)
            if number_match("phone", r)
            and number_match("mobile", r)
            and all_match(r)
            and rec_id in (None, r["id"])
            and email in (r.get("email") or "").lower()
            and last in (r.get("lastName") or "").lower()
        ]
        return self._found(req, found)
