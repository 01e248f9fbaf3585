"""The Zoho Desk REST API v1 client: the endpoints ringodesk uses, over the transport of
:mod:`ringodesk_cli.zoho.desk_transport` (token, retries, typed errors, paging).

Creates and updates tolerate the readings Zoho leaves open (``docs/zoho-readings.md``): a
record refused for a ``cf`` value (422 naming ``/cf/<field>``) is sent again without that
value, which is kept in the description (an optional field never fails a call; counted in
``dropped_cf``); a call or task refused for its ``description`` is sent again without it,
and the client remembers that (``KnownAnswers``, in the profile's state) so no later request
sends it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ringodesk_cli.errors import (
    AuthError,
    OutcomeUnknownError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.zoho.desk_transport import (
    API_PREFIX,
    CALLS_LIMIT,
    LIST_LIMIT,
    SEARCH_LIMIT,
    SETTINGS_LIMIT,
    THRESHOLD_EXCEEDED_RETRIES,
    DeskTransport,
    TokenSource,
    log,
)
from ringodesk_cli.zoho.paging import rows_of

__all__ = [
    "API_PREFIX",
    "THRESHOLD_EXCEEDED_RETRIES",
    "DeskClient",
    "OutcomeUnknownError",
    "TokenSource",
]


class DeskClient(DeskTransport):
    """The endpoints: organizations, agents, departments, fields, contacts, tickets, calls,
    tasks; creates and updates through the tolerant write of the open readings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._views: dict[str, str | None] = {}  # module -> its all-records view (GET /views)

    # ------------------------------------------------------- organizations
    def organizations(self) -> list[dict[str, Any]]:
        return rows_of(self.request("GET", "/organizations", with_org=False))

    def accessible_organizations(self) -> list[dict[str, Any]]:
        # The orgs this token was granted (OAS Organization.json); asked before an org is chosen.
        return rows_of(self.request("GET", "/accessibleOrganizations", with_org=False))

    def myinfo(self) -> dict[str, Any]:
        return _one(self.request("GET", "/myinfo"), "/myinfo")

    def departments(self) -> list[dict[str, Any]]:
        return list(self.paginate("/departments", limit=SETTINGS_LIMIT))

    def agents(self) -> list[dict[str, Any]]:
        # OAS Agent.json: `status` filters ACTIVE or DISABLED; whether no filter returns both
        # is not documented, so ask for each and merge (the manager picker must see disabled
        # agents to refuse them by name).
        found: dict[str, dict[str, Any]] = {}
        for status in ("ACTIVE", "DISABLED"):
            for agent in self.paginate("/agents", {"status": status}, limit=SETTINGS_LIMIT):
                found.setdefault(str(agent.get("id")), agent)
        return list(found.values())

    # -------------------------------------------------------------- fields
    def list_fields(self, module: str) -> list[dict[str, Any]]:
        # The current Fields API (OAS Field.json); a data center without it answers 404
        # URL_NOT_FOUND (NotFoundError), and the caller falls back to list_organization_fields.
        return rows_of(self.request("GET", "/fields", params={"module": module}))

    def create_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        return _one(
            self.request("POST", "/fields", params={"module": module}, json=body), "/fields"
        )

    def list_organization_fields(self, module: str) -> list[dict[str, Any]]:
        # Its deprecated twin (OAS FieldOld.json, x-deprecated-on 01/07/2026).
        return rows_of(self.request("GET", "/organizationFields", params={"module": module}))

    def create_organization_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.request("POST", "/organizationFields", params={"module": module}, json=body)
        return _one(answer, "/organizationFields")

    # ------------------------------------------------------------ contacts
    def search_contacts(
        self,
        *,
        phone: str | None = None,
        mobile: str | None = None,
        all_: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """At most ``limit`` matches. ``phone``/``mobile`` exist only in newer OAS
        versions and match by wildcard; callers verify each number. Criteria given together
        are combined by Zoho (presumably AND), so search phone and mobile separately."""
        params = {k: v for k, v in (("phone", phone), ("mobile", mobile), ("_all", all_)) if v}
        if not params:
            raise ValueError("search_contacts needs phone, mobile or all_")
        found = self.first_page("/contacts/search", params, limit=min(limit, SEARCH_LIMIT))
        return found[:limit]

    def create_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", "/contacts", "contacts", body)

    def contacts_count(self) -> int | None:
        """``GET /contacts/count`` with ``viewId``, which Contact.json marks required: the id
        of the portal's view of all contacts (:meth:`view_id`). Refused with it (or no view
        known), it is asked once without; refused again, None ("count unknown")."""
        view = self.view_id("contacts")
        for params in ([{"viewId": view}] if view else []) + [{}]:
            try:
                answer = self.request("GET", "/contacts/count", params=params or None)
            except ZohoError as exc:
                if refused(exc):
                    continue
                raise
            try:
                return int(str(_one(answer, "/contacts/count")["count"]))
            except (ZohoError, KeyError, TypeError, ValueError):
                return None
        return None

    def view_id(self, module: str) -> str | None:
        """The id of ``module``'s view of all its records (CustomView.json ``GET /views``,
        scope ``Desk.basic.READ`` or ``Desk.settings.READ``): a system view named "All ...",
        else the first system view, else the first view. Asked once per client; None when
        Zoho refuses the list or has none."""
        with self._stats_lock:
            if module in self._views:
                return self._views[module]
        try:
            views = rows_of(self.request("GET", "/views", params={"module": module}))
        except ZohoError as exc:
            if not refused(exc):
                raise
            views = []
        chosen = _all_records_view(views)
        with self._stats_lock:
            self._views[module] = chosen
        return chosen

    # ------------------------------------------------------------- tickets
    def create_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", "/tickets", "tickets", body)

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        path = api_path("/tickets/{}", ticket_id)
        return _one(self.request("GET", path), path)

    def search_tickets(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/tickets/search", {"subject": subject})

    def list_contact_tickets(self, contact_id: str, department_id: str) -> list[dict[str, Any]]:
        # OAS Ticket.json; the older version marks departmentId required, so it is sent.
        path = api_path("/contacts/{}/tickets", contact_id)
        return list(self.paginate(path, {"departmentId": department_id}, limit=LIST_LIMIT))

    # --------------------------------------------------------------- calls
    def create_call(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", "/calls", "calls", body)

    def update_call(self, call_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.write("PATCH", api_path("/calls/{}", call_id), "calls", body)

    def search_calls(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/calls/search", {"subject": subject})

    def list_ticket_calls(self, ticket_id: str) -> list[dict[str, Any]]:
        path = api_path("/tickets/{}/calls", ticket_id)  # OAS Call.json
        return list(self.paginate(path, limit=CALLS_LIMIT))

    def created_page(
        self, module: str, start: int, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One page (99, the cap of Call.json, Task.json and Contact.json) of ``GET /calls``,
        ``/tasks`` or ``/contacts`` in ascending ``createdTime`` order from ``start``. These
        lists document ``sortBy`` names without the ``-`` (descending) form that only a
        ticket's own calls and tasks document (docs/zoho-readings.md), so ascending is the
        only order asked for."""
        query = {**(params or {}), "sortBy": "createdTime", "from": start, "limit": CALLS_LIMIT}
        return rows_of(self.request("GET", f"/{module}", params=query))

    # --------------------------------------------------------------- tasks
    def create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.write("POST", "/tasks", "tasks", body)

    def search_tasks(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/tasks/search", {"subject": subject})

    # ------------------------------------------------------ tolerant writes
    def write(self, method: str, path: str, module: str, body: dict[str, Any]) -> dict[str, Any]:
        """A create or update that an open reading of Zoho does not fail: a refused
        ``description`` (calls, tasks) or ``cf`` value is dropped and the body sent again.
        Each key is dropped at most once, so this ends."""
        body = dict(body)
        if module in _DESCRIPTION_OPTIONAL and self.answers.description_refused(module):
            body.pop("description", None)
        while True:
            if method == "PATCH" and not body:
                return {}  # nothing left that this portal accepts: no request
            try:
                return _one(self.request(method, path, json=body), path)
            except ZohoError as exc:
                fixed = self._without_refused(module, body, exc)
                if fixed is None:
                    raise
                body = fixed

    def _without_refused(
        self, module: str, body: dict[str, Any], exc: ZohoError
    ) -> dict[str, Any] | None:
        """``body`` without the keys ``exc`` refuses, or None when it refuses anything else
        (the error stands)."""
        if exc.status not in (400, 422) or not exc.errors:
            return None
        cf = dict(body.get("cf") or {})
        drop_description = False
        refused_cf: list[str] = []
        for error in exc.errors:
            parts = str(error.get("fieldName") or "").strip("/").split("/")
            if (
                parts == ["description"]
                and module in _DESCRIPTION_OPTIONAL
                and "description" in body
            ):
                drop_description = True
            elif len(parts) == 2 and parts[0] == "cf" and parts[1] in cf:
                refused_cf.append(parts[1])
            elif len(parts) == 1 and parts[0] in cf and parts[0] not in body:
                refused_cf.append(parts[0])  # a field named without its /cf/ prefix
            else:
                return None
        fixed = dict(body)
        if drop_description:
            fixed.pop("description")
            self.answers.refuse_description(module)
            log.info("Zoho refuses description on %s: sent without it from now on", module)
        if refused_cf:
            kept = {name: str(cf.pop(name)) for name in dict.fromkeys(refused_cf)}
            if cf:
                fixed["cf"] = cf
            else:
                fixed.pop("cf", None)
            if "description" in fixed:
                fixed["description"] = _with_values(str(fixed["description"] or ""), kept)
            with self._stats_lock:
                self.dropped_cf.update(kept.keys())
            log.info("Zoho refuses the value of %s on %s: sent without it", ", ".join(kept), module)
        return fixed


# Calls and tasks: description is only in the newer OAS request bodies.
_DESCRIPTION_OPTIONAL = frozenset({"calls", "tasks"})


def refused(exc: ZohoError) -> bool:
    """A refusal of the request itself (a parameter, a scope, an unknown endpoint), not Zoho
    being down or the token broken."""
    return not isinstance(exc, AuthError | ZohoUnavailableError) and exc.status in (
        400,
        403,
        404,
        405,
        422,
    )


def _all_records_view(views: list[dict[str, Any]]) -> str | None:
    """The view of all records among ``views`` (CustomView.json ``viewsJson``)."""
    system = [v for v in views if v.get("id") and not v.get("isCustomView")]
    named_all = [
        v
        for v in system
        if any(str(v.get(k) or "").lower().startswith("all") for k in ("name", "viewName"))
    ]
    for group in (named_all, system, [v for v in views if v.get("id")]):
        if group:
            return str(group[0]["id"])
    return None


def _with_values(description: str, values: dict[str, str]) -> str:
    """The description with the cf values Zoho refused, unless it already holds them."""
    missing = {k: v for k, v in values.items() if v and v not in description}
    if not missing:
        return description
    lines = ["Values Zoho did not accept in their custom fields:"]
    lines.extend(f"{name}: {value}" for name, value in missing.items())
    return (description + "\n\n" if description else "") + "\n".join(lines)


def _one(answer: Any, path: str) -> dict[str, Any]:
    if isinstance(answer, dict):
        return answer
    raise ZohoError(f"{path}: expected a JSON object from Zoho Desk, got {type(answer).__name__}")


def api_path(template: str, *ids: str) -> str:
    """``template`` with each id quoted into it (``/tickets/{}``)."""
    # Ids are Zoho's numeric strings; quoting keeps a malformed one from changing the path.
    return template.format(*(quote(str(i), safe="") for i in ids))
