"""The Desk route table: path template, handler and the scopes that admit a request.

Scopes come from each operation's ``security`` in Zoho's OpenAPI files; any one of
``scopes`` suffices. Searches also need ``Desk.search.READ``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from ringodesk_cli.sandbox.business_hours import BusinessHoursEndpoints
from ringodesk_cli.sandbox.call_attachments import AttachmentEndpoints
from ringodesk_cli.sandbox.desk_records import RecordEndpoints
from ringodesk_cli.sandbox.desk_setup import SetupEndpoints
from ringodesk_cli.sandbox.replies import DeskRequest, Reply

Handler = Callable[[DeskRequest], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    scopes: tuple[str, ...]
    search: bool = False
    needs_org: bool = True
    multipart: bool = False  # the body is multipart/form-data, not JSON

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", self.template) + "$")


def _ops(*stems: str, op: str) -> tuple[str, ...]:
    return tuple(f"{s}.{op}" for s in stems)


def build_routes(
    setup: SetupEndpoints, rec: RecordEndpoints, att: AttachmentEndpoints | None = None
) -> list[Route]:
    basic = ("Desk.basic.READ", "Desk.settings.READ")
    calls = ("Desk.activities.calls", "Desk.calls", "Desk.activities")
    tasks = ("Desk.activities.tasks", "Desk.tasks", "Desk.activities")
    v1 = "/api/v1"
    routes = [
        Route("GET", f"{v1}/organizations", setup.organizations,
              (*basic, "Desk.organization.READ"), needs_org=False),
        Route("GET", f"{v1}/accessibleOrganizations", setup.organizations,
              (*basic, "Desk.organization.READ"), needs_org=False),
        Route("GET", f"{v1}/organizations/{{id}}", setup.organization, basic, needs_org=False),
        Route("GET", f"{v1}/myinfo", setup.myinfo, basic),
        Route("GET", f"{v1}/agents", setup.agents, (*basic, "Desk.agents.READ")),
        Route("GET", f"{v1}/agents/{{id}}", setup.agent, (*basic, "Desk.agents.READ")),
        Route("GET", f"{v1}/departments", setup.departments, basic),
        # CustomView.json getViews: Desk.settings.READ or Desk.basic.READ.
        Route("GET", f"{v1}/views", setup.views, basic),
        Route("GET", f"{v1}/departments/{{id}}", setup.department, basic),
        Route("GET", f"{v1}/fields", setup.fields, ("Desk.basic.READ", "Desk.fields.READ")),
        Route("GET", f"{v1}/fields/{{id}}", setup.field,
              ("Desk.fields.READ", "Desk.settings.READ")),
        Route("POST", f"{v1}/fields", setup.create_field,
              ("Desk.fields.CREATE", "Desk.settings.CREATE")),
        Route("GET", f"{v1}/organizationFields", setup.org_fields,
              ("Desk.basic.READ", "Desk.fields.READ")),
        Route("POST", f"{v1}/organizationFields", setup.create_org_field,
              ("Desk.fields.CREATE", "Desk.settings.CREATE")),
        # Searches come before `{id}` routes so that ".../search" is not taken for an id.
        Route("GET", f"{v1}/contacts/search", rec.search_contacts, ("Desk.contacts.READ",),
              search=True),
        Route("GET", f"{v1}/tickets/search", rec.search("tickets"), ("Desk.tickets.READ",),
              search=True),
        Route("GET", f"{v1}/calls/search", rec.search("calls"), _ops(*calls, op="READ"),
              search=True),
        Route("GET", f"{v1}/tasks/search", rec.search("tasks"), _ops(*tasks, op="READ"),
              search=True),
        Route("POST", f"{v1}/contacts", rec.create_contact, ("Desk.contacts.CREATE",)),
        Route("GET", f"{v1}/contacts", rec.lister("contacts"), ("Desk.contacts.READ",)),
        Route("GET", f"{v1}/contacts/count", rec.count_contacts, ("Desk.contacts.READ",)),
        Route("GET", f"{v1}/contacts/{{id}}", rec.get("contacts"), ("Desk.contacts.READ",)),
        Route("POST", f"{v1}/contacts/{{id}}/merge", rec.merge_contacts,
              ("Desk.contacts.UPDATE",)),
        Route("PATCH", f"{v1}/contacts/{{id}}", rec.patch("contacts"), ("Desk.contacts.UPDATE",)),
        Route("GET", f"{v1}/contacts/{{id}}/tickets", rec.children("tickets", "contacts",
              "contactId"), ("Desk.tickets.READ",)),
        # In no OAS version (Call.json's contactOrAccountCallsListViewJson schema implies it):
        # the reading `contact_calls` decides whether it answers or is 404.
        Route("GET", f"{v1}/contacts/{{id}}/calls", rec.children("calls", "contacts",
              "contactId"), _ops(*calls, op="READ")),
        Route("POST", f"{v1}/tickets", rec.create_ticket, ("Desk.tickets.CREATE",)),
        Route("GET", f"{v1}/tickets", rec.lister("tickets"), ("Desk.tickets.READ",)),
        Route("GET", f"{v1}/tickets/{{id}}", rec.get("tickets"), ("Desk.tickets.READ",)),
        Route("PATCH", f"{v1}/tickets/{{id}}", rec.patch("tickets"), ("Desk.tickets.UPDATE",)),
        Route("GET", f"{v1}/tickets/{{id}}/calls", rec.children("calls", "tickets", "ticketId"),
              _ops(*calls, op="READ")),
        Route("GET", f"{v1}/tickets/{{id}}/tasks", rec.children("tasks", "tickets", "ticketId"),
              _ops(*tasks, op="READ")),
        Route("POST", f"{v1}/calls", rec.create_call, _ops(*calls, op="CREATE")),
        Route("GET", f"{v1}/calls", rec.lister("calls"), _ops(*calls, op="READ")),
        Route("GET", f"{v1}/calls/{{id}}", rec.get("calls"), _ops(*calls, op="READ")),
        Route("PATCH", f"{v1}/calls/{{id}}", rec.patch("calls"), _ops(*calls, op="UPDATE")),
        Route("POST", f"{v1}/tasks", rec.create_task, _ops(*tasks, op="CREATE")),
        Route("GET", f"{v1}/tasks", rec.lister("tasks"), _ops(*tasks, op="READ")),
        Route("GET", f"{v1}/tasks/{{id}}", rec.get("tasks"), _ops(*tasks, op="READ")),
        Route("PATCH", f"{v1}/tasks/{{id}}", rec.patch("tasks"), _ops(*tasks, op="UPDATE")),
    ]  # fmt: skip
    hours = BusinessHoursEndpoints()
    settings = ("Desk.settings.READ",)
    routes += [
        Route("GET", f"{v1}/businessHours", hours.list_hours, settings),
        Route("GET", f"{v1}/businessHours/{{id}}", hours.get_hours, settings),
        Route("GET", f"{v1}/holidayList", hours.list_holidays, settings),
        Route("GET", f"{v1}/holidayList/{{id}}", hours.get_holidays, settings),
    ]
    if att is not None:
        routes.extend(_attachment_routes(att, v1, calls))
    return routes


def _attachment_routes(att: AttachmentEndpoints, v1: str, calls: tuple[str, ...]) -> list[Route]:
    # CallAttachment.json: POST and DELETE need Desk.activities.calls.UPDATE or
    # Desk.tasks.UPDATE; the GET (in no OAS version) takes the calls' READ scopes.
    update = ("Desk.activities.calls.UPDATE", "Desk.tasks.UPDATE")
    path = f"{v1}/calls/{{id}}/attachments"
    return [
        Route("POST", path, att.create, update, multipart=True),
        Route("GET", path, att.listing, _ops(*calls, op="READ")),
        Route("DELETE", path + "/{attachmentId}", att.delete, update),
    ]


def match(
    routes: list[Route], method: str, path: str
) -> tuple[Route | None, tuple[str, ...], bool]:
    """(route, path arguments, whether the path exists under another method)."""
    other = False
    for route in routes:
        found = route.pattern.match(path)
        if found:
            if route.method == method:
                return route, found.groups(), False
            other = True
    return None, (), other
