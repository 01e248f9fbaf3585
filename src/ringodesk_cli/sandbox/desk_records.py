"""Desk endpoints for records: contacts, tickets, call activities and tasks and their lists
(Contact.json, Ticket.json, Call.json, Task.json); searches are in ``desk_search``."""

from __future__ import annotations

from typing import Any

from ringodesk_cli.sandbox.config import SandboxConfig, resolve_readings
from ringodesk_cli.sandbox.desk_search import SearchEndpoints
from ringodesk_cli.sandbox.replies import (
    ApiError,
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
# Task.json, Contact.json); tickets are not capped there, 100 is assumed.
LIST_CAPS = {"calls": 99, "tasks": 99, "contacts": 99, "tickets": 100}
CLOSED_CALL = ("Completed", "Missed", "Canceled")
_REF_KIND = {"contactId": "contacts", "ticketId": "tickets"}


# `sortBy` values the OpenAPI lists per module list (Contact.json, Task.json, Call.json,
# Ticket.json getContacts/getTasks/getCalls/getTickets), without a `-` form; and per record's
# own list, where "A - prefix denotes descending order" (getCallsByTicket, getTasksByTicket,
# getTicketsByContact).
SORT_KEYS: dict[str, frozenset[str]] = {
    "contacts": frozenset(
        {"firstName", "lastName", "phone", "email", "account", "createdTime", "modifiedTime"}
    ),
    "tasks": frozenset(
        {"category", "subject", "dueDate", "status", "createdTime", "modifiedTime", "priority"}
    ),
    "calls": frozenset({"startTime", "createdTime"}),
    "tickets": frozenset({"dueDate", "createdTime", "recentThread"}),
}
OWN_SORT_KEYS: dict[tuple[str, str], frozenset[str]] = {
    ("calls", "tickets"): frozenset({"startTime", "createdTime"}),
    ("tasks", "tickets"): frozenset({"dueDate", "createdTime"}),
    ("tickets", "contacts"): frozenset({"createdTime", "modifiedTime"}),
    ("calls", "contacts"): frozenset({"startTime", "createdTime"}),
}
# Under the `free` reading these sort every list too, in either direction.
_FREE_SORT_KEYS = frozenset({"createdTime", "modifiedTime"})


def _sorted(
    req: DeskRequest, items: list[dict[str, Any]], keys: frozenset[str], *, descending_ok: bool
) -> list[dict[str, Any]]:
    raw = single(req.params, "sortBy")
    if not raw:
        return items
    descending = raw.startswith("-")
    if descending and not descending_ok:
        raise invalid_param("sortBy")
    key = raw[1:] if descending else raw
    if key not in keys:
        raise invalid_param("sortBy")
    # Ties (same millisecond) keep creation order, reversed with the rest when descending.
    ranked = sorted(enumerate(items), key=lambda pair: (str(pair[1].get(key) or ""), pair[0]))
    ordered = [item for _, item in ranked]
    return ordered[::-1] if descending else ordered


# cf values under the OAS reading: at most 100 characters, none of these characters.
CF_MAX = 100
CF_FORBIDDEN = frozenset("=&%+#();")
# Contact fields a merge may take from one of the merged contacts (Contact.json sourceValues).
MERGE_SOURCE_FIELDS = frozenset(
    {"zip", "lastName", "country", "secondaryEmail", "city", "facebook", "mobile",
     "description", "type", "title", "firstName", "accountId", "twitter", "phone", "street",
     "email"}
)  # fmt: skip


class RecordEndpoints(SearchEndpoints):
    def __init__(self, store: Store, cfg: SandboxConfig) -> None:
        self.store = store
        self.cfg = cfg
        self.search_lag = cfg.search_lag_seconds
        # Replaced whole (never mutated) when the admin API changes a reading.
        self.readings = resolve_readings(cfg.readings)

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
            if self.reading("cf_values") == "oas" and (
                len(text) > CF_MAX or CF_FORBIDDEN & set(text)
            ):
                errors.append(
                    field_error(
                        f"/cf/{key}",
                        "invalid",
                        f"At most {CF_MAX} characters, none of = & % + # ( ) ;",
                    )
                )
        return errors

    def _check_description(self, kind: str, body: dict[str, Any]) -> None:
        if (
            kind in ("calls", "tasks")
            and "description" in body
            and self.reading("call_task_description") == "refused"
        ):
            raise invalid_data([field_error("/description", "invalid", "Unknown key")])

    def _require_department(self, req: DeskRequest) -> None:
        if self.reading("department_required") == "yes" and not single(req.params, "departmentId"):
            raise ApiError(
                422,
                "UNPROCESSABLE_ENTITY",
                "The value passed for the 'departmentId' query parameter is invalid.",
            )

    def _base(self, module: str, rec_id: str, now: float) -> dict[str, Any]:
        cf: dict[str, Any] = dict.fromkeys(self.store.custom_fields(module))
        return {
            "id": rec_id,
            "createdTime": iso(now),
            "modifiedTime": iso(now),
            "creatorId": self.store.agents[0]["id"],
            "webUrl": self.store.web_url(module, rec_id),
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
        self._check_description(kind, body)
        self._check_refs(kind, body)
        with self.store.lock:
            record = self._base(kind, self.store.new_id(), req.now)
            record.update(defaults)
            self._apply(kind, record, body, req.now)
            return self.store.add(kind, record, req.now)

    def _patch(self, kind: str, req: DeskRequest) -> Reply:
        body = validate_body(kind, "update", req.body)
        self._check_description(kind, body)
        self._check_refs(kind, body)
        with self.store.lock:
            record = self._get(kind, req.args[0])
            self._apply(kind, record, body, req.now)
            return json_reply(record)

    def get(self, kind: str) -> Any:
        return lambda req: json_reply(self._get(kind, req.args[0]))

    def patch(self, kind: str) -> Any:
        return lambda req: self._patch(kind, req)

    def _page(
        self, kind: str, req: DeskRequest, items: list[dict[str, Any]], parent: str | None = None
    ) -> Reply:
        own = OWN_SORT_KEYS.get((kind, parent or ""))
        keys = own if own is not None else SORT_KEYS[kind]
        if self.reading("list_sort") == "free":
            items = _sorted(req, items, keys | _FREE_SORT_KEYS, descending_ok=True)
        else:
            items = _sorted(req, items, keys, descending_ok=own is not None)
        offset, limit = paging(req.params, LIST_CAPS[kind])
        dep = id_param(req.params, "departmentId")
        if dep is not None:
            items = [r for r in items if r.get("departmentId") == dep]
        return list_reply(items[offset : offset + limit])

    def lister(self, kind: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            if kind == "tasks":
                self._require_department(req)
            with self.store.lock:
                items = list(self.store.records[kind].values())
            return self._page(kind, req, items)

        return handler

    def children(self, kind: str, parent: str, key: str) -> Any:
        def handler(req: DeskRequest) -> Reply:
            if (kind, parent) == ("calls", "contacts") and self.reading(
                "contact_calls"
            ) == "absent":
                raise not_found()
            self._get(parent, req.args[0])
            if (kind, parent) == ("tickets", "contacts"):
                self._require_department(req)
            with self.store.lock:
                items = [r for r in self.store.records[kind].values() if r.get(key) == req.args[0]]
            return self._page(kind, req, items, parent)

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
        # A ticket's inline contact is matched by e-mail only (reported by users of Zoho
        # Desk integrations): a phone-only caller becomes a new contact every time.
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
        # Zoho's default task status is open (the product sends tasks without a status).
        return json_reply(self._create("tasks", req, {"status": "Not Started", "ticketId": None,
                                                      "contactId": None, "ownerId": None,
                                                      "dueDate": None, "priority": None,
                                                      "description": None}))  # fmt: skip

    # ---- contacts: count and merge ------------------------------------------------------
    def count_contacts(self, req: DeskRequest) -> Reply:
        """Contact.json getContactsCount: ``{"count": "N"}`` (a string, as its example shows).
        ``viewId`` is marked required there: absent, it is refused under the reading
        ``count_view=required`` (422 naming it); the sandbox has one view of contacts (all of
        them, ``GET /views``), and any other id is 422 too. ``startsWith`` filters on the
        last name."""
        view = id_param(req.params, "viewId")
        if view is None and self.reading("count_view") == "required":
            raise invalid_param("viewId")
        if view is not None and view != self.store.view_id("contacts"):
            raise invalid_param("viewId")
        starts = (single(req.params, "startsWith") or "").lower()
        with self.store.lock:
            count = sum(
                1
                for r in self.store.records["contacts"].values()
                if str(r.get("lastName") or "").lower().startswith(starts)
            )
        return json_reply({"count": str(count)})

    def merge_contacts(self, req: DeskRequest) -> Reply:
        """Contact.json mergeContacts: ``{"ids": [...], "source": {field: id, "cf": {cf: id}}}``.
        The contact in the path survives; the others in ``ids`` are merged into it and
        disappear, their tickets, calls and tasks move to it. ``source`` picks, per field,
        the merged contact whose value the survivor keeps (default: the survivor's own)."""
        body = req.body if isinstance(req.body, dict) else {}
        survivor_id = req.args[0]
        errors: list[dict[str, str]] = [
            field_error(f"/{k}", "invalid", "Unknown key")
            for k in body
            if k not in ("ids", "source")
        ]
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids:
            errors.append(field_error("/ids", "missing", "'ids' must list contact ids"))
            raise invalid_data(errors)
        source = body.get("source") or {}
        if not isinstance(source, dict):
            raise invalid_data([field_error("/source", "invalid", "An object is expected")])
        with self.store.lock:
            survivor = self._get("contacts", survivor_id)
            merged: list[str] = []
            for n, raw in enumerate(ids):
                rid = str(raw)
                if not rid.isdigit() or self.store.record("contacts", rid) is None:
                    errors.append(field_error(f"/ids/{n}", "invalid", "No such contact"))
                elif rid != survivor_id and rid not in merged:
                    merged.append(rid)
            if not merged and not errors:
                errors.append(field_error("/ids", "invalid", "At least two contacts to merge"))
            members = {survivor_id, *merged}
            picks: list[tuple[str, str, str | None]] = []  # (field, from id, cf name)
            for key, value in source.items():
                if key == "cf" and isinstance(value, dict):
                    for cf_name, rid in value.items():
                        if cf_name not in survivor.get("cf", {}) or str(rid) not in members:
                            errors.append(field_error(f"/source/cf/{cf_name}", "invalid",
                                                      "Not a merged contact's field"))  # fmt: skip
                        else:
                            picks.append(("cf", str(rid), cf_name))
                elif key not in MERGE_SOURCE_FIELDS or str(value) not in members:
                    errors.append(field_error(f"/source/{key}", "invalid",
                                              "Not a merged contact's field"))  # fmt: skip
                else:
                    picks.append((key, str(value), None))
            if errors:
                raise invalid_data(errors)
            records = self.store.records["contacts"]
            for key, rid, cf_name in picks:
                if cf_name is None:
                    survivor[key] = records[rid].get(key)
                else:
                    survivor["cf"][cf_name] = records[rid].get("cf", {}).get(cf_name)
            labels = {
                f["apiName"]: f["displayLabel"]
                for f in self.store.custom_fields("contacts").values()
            }
            survivor["customFields"] = {labels.get(k, k): v for k, v in survivor["cf"].items()}
            survivor["modifiedTime"] = iso(req.now)
            gone = set(merged)
            for kind in ("tickets", "calls", "tasks"):
                for record in self.store.records[kind].values():
                    if record.get("contactId") in gone:
                        record["contactId"] = survivor_id
            for rid in merged:
                self.store.remove("contacts", rid)
            return json_reply(survivor)

    def add_contact(self, fields: dict[str, Any], now: float) -> dict[str, Any]:
        """A contact typed by an agent in Zoho Desk's UI (the admin API): any number format,
        no validation (a last name is filled in when none is given); it becomes searchable
        after the search lag."""
        with self.store.lock:
            record = self._base("contacts", self.store.new_id(), now)
            record.update({"firstName": None, "email": None, "phone": None, "mobile": None,
                           "ownerId": None, "lastName": "Agent-typed contact"})  # fmt: skip
            self._apply("contacts", record, dict(fields), now)
            return self.store.add("contacts", record, now)
