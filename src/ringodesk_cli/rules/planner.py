"""What one Ringostat call creates in Zoho Desk, decided without any I/O.

The planner turns a ``CallRecord`` plus the profile's policy into a ``CallPlan``: who owns
what, and the exact bodies of the contact, ticket, call activity and task requests. Bodies
refer to records created earlier in the same plan through the placeholders ``CONTACT`` and
``TICKET``; the runner substitutes Zoho's ids. The rules: a contact per client number; a
ticket for inbound calls (by default only for a new caller's first call); a call activity for
every call; a task for a missed inbound call, and for an answered inbound call on a number
or SIP linked to no agent; missed calls' work belongs to the senior manager, answered calls'
to the linked agent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ringodesk_cli.ringostat.catalogue import RS_FIELDS, TEXT_MAX_LENGTH
from ringodesk_cli.ringostat.records import CallRecord, Direction, Outcome
from ringodesk_cli.rules.call_texts import call_values
from ringodesk_cli.rules.call_texts import international as international
from ringodesk_cli.rules.call_texts import marker as marker
from ringodesk_cli.rules.routing import Route, route_for
from ringodesk_cli.rules.rules import Rules
from ringodesk_cli.rules.templates import SUBJECT_MAX as SUBJECT_MAX
from ringodesk_cli.rules.templates import Texts, Values, texts_from_settings
from ringodesk_cli.setup.employees import resolve_owner

CONTACT = "$contact"
TICKET = "$ticket"

# The six rs_* fields every ticket and contact gets: label -> the Ringostat parameter.
DEFAULT_FIELDS: dict[str, str] = {f.label: f.parameter for f in RS_FIELDS}
# The rs_* fields' maxLength; a longer value is cut to fit and kept whole in the description,
# so a long UTM never quarantines a call.
FIELD_MAX_LENGTH = TEXT_MAX_LENGTH


@dataclass(frozen=True)
class Policy:
    """The parts of a profile that decide what a call creates."""

    senior_manager: str
    department_id: str
    task_deadline: timedelta
    tickets: str = "new-caller"  # "new-caller" | "every-inbound" | "never"
    employees: Mapping[str, str] = field(default_factory=dict)
    ticket_fields: Mapping[str, str] = field(default_factory=dict)  # rs_* label -> apiName
    contact_fields: Mapping[str, str] = field(default_factory=dict)
    ticket_mapping: Mapping[str, str] = field(default_factory=dict)  # parameter -> apiName
    contact_mapping: Mapping[str, str] = field(default_factory=dict)
    rules: Rules = field(default_factory=Rules)
    routes: tuple[Route, ...] = ()
    # deadline_in = business-hours: call time -> due time (None: calendar time)
    due_at: Callable[[datetime, timedelta], datetime] | None = None
    reuse_window: timedelta = timedelta(days=7)
    deadline_in: str = "calendar"  # or "business-hours"
    business_hours: str | None = None  # a business-hours set id or name

    def routed(self, record: CallRecord) -> Policy:
        """This policy with the department, senior manager and ticket policy of the first
        route that matches ``record`` (itself when none does)."""
        route = route_for(self.routes, record)
        if route is None:
            return self
        return replace(
            self,
            department_id=route.department,
            senior_manager=route.senior_manager or self.senior_manager,
            tickets=route.tickets or self.tickets,
        )

    texts: Texts = field(default_factory=Texts)  # subjects and descriptions (English default)


@dataclass(frozen=True)
class CallPlan:
    record: CallRecord
    owner_id: str
    unlinked: bool  # answered inbound on a number/SIP linked to no employee
    contact: dict[str, Any]  # body used when no contact exists for the number
    ticket: dict[str, Any] | None  # None: no ticket for this call under the policy
    ticket_only_if_new: bool  # "new-caller": create the ticket only when the contact is new
    call: dict[str, Any]
    tasks: tuple[tuple[str, dict[str, Any]], ...]  # (operation name, body)
    truncated: tuple[str, ...] = ()
    reuse_open: bool = False  # tickets = "reuse-open": join the contact's open ticket

    def operations(self, *, new_caller: bool, open_ticket: bool = False) -> list[str]:
        ops = []
        if self.ticket is not None and _opens_ticket(
            self.ticket_only_if_new, self.reuse_open, new_caller, open_ticket
        ):
            ops.append("ticket")
        ops.append("call")
        ops.extend(name for name, _ in self.tasks)
        return ops


def _opens_ticket(only_if_new: bool, reuse_open: bool, new_caller: bool, open_ticket: bool) -> bool:
    if reuse_open:
        return not open_ticket
    return new_caller or not only_if_new


def planned_operations(
    record: CallRecord, policy: Policy, *, new_caller: bool, open_ticket: bool = False
) -> list[str]:
    """The creating operations of a call after its contact, without building any body: what
    `--dry-run` counts. Must agree with ``plan_call(...).operations(...)`` (tested)."""
    policy = policy.routed(record)
    ops = []
    if _wants_ticket(record, policy) and _opens_ticket(
        policy.tickets == "new-caller", policy.tickets == "reuse-open", new_caller, open_ticket
    ):
        ops.append("ticket")
    ops.append("call")
    if _wants_task(record, policy, resolve_owner(record.employee, policy.employees)):
        ops.append("task")
    return ops


def _wants_ticket(record: CallRecord, policy: Policy) -> bool:
    """Inbound calls get tickets under every policy but "never", unless the rules make the
    call an activity only or keep a missed call from opening one; outbound calls never."""
    return (
        record.direction is Direction.INBOUND
        and policy.tickets != "never"
        and policy.rules.for_call(record).may_open_ticket(record)
    )


def _wants_task(record: CallRecord, policy: Policy, linked_agent: str | None) -> bool:
    """A call-back task for a missed call the rules name; a link task for an answered call
    on a number or SIP linked to no agent (unless the rules make the call an activity only)."""
    rules = policy.rules.for_call(record)
    if rules.activity_only(record):
        return False
    return rules.missed_task(record) or _unlinked(record, linked_agent)


def _unlinked(record: CallRecord, linked_agent: str | None) -> bool:
    """An inbound call answered on a number or SIP linked to no employee."""
    return (
        record.direction is Direction.INBOUND
        and record.outcome is Outcome.ANSWERED
        and linked_agent is None
    )


def zoho_time(record_time: Any) -> str:
    """ISO 8601 UTC with milliseconds and Z, the pattern Zoho Desk's API requires."""
    return str(record_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def _custom_values(
    record: CallRecord,
    fields: Mapping[str, str],
    mapping: Mapping[str, str],
    truncated: list[str],
) -> dict[str, str]:
    cf: dict[str, str] = {}
    for label, parameter in DEFAULT_FIELDS.items():
        api_name = fields.get(label)
        value = record.value(parameter)
        if api_name and value:
            cf[api_name] = _fit(value, f"{label}", truncated)
    for parameter, api_name in mapping.items():
        value = record.value(parameter)
        if value and api_name not in cf:
            cf[api_name] = _fit(value, parameter, truncated)
    return cf


def _fit(value: str, name: str, truncated: list[str]) -> str:
    if len(value) <= FIELD_MAX_LENGTH:
        return value
    truncated.append(f"{name}: {value}")
    return value[: FIELD_MAX_LENGTH - 1] + "…"


def _description(values: Values, truncated: list[str], texts: Texts) -> str:
    text = texts.render("description", values)
    if truncated:
        text = "\n".join([text, texts.word("truncated_heading"), *truncated])
    return text


def _subject(key: str, values: Values, texts: Texts) -> str:
    """The subject of template ``key``: the marker always in it, whole, even when the text
    is cut to SUBJECT_MAX."""
    return texts.subject(key, values)


def plan_call(record: CallRecord, policy: Policy) -> CallPlan:
    """Everything one call creates, and who owns each record."""
    policy = policy.routed(record)
    inbound = record.direction is Direction.INBOUND
    answered = record.outcome is Outcome.ANSWERED
    linked_agent = resolve_owner(record.employee, policy.employees)
    # A missed call's work is the senior manager's, even when the export names someone.
    owner = policy.senior_manager if record.missed else linked_agent or policy.senior_manager
    unlinked = _unlinked(record, linked_agent)
    truncated: list[str] = []
    contact_cf = _custom_values(record, policy.contact_fields, policy.contact_mapping, truncated)
    ticket_cf = _custom_values(record, policy.ticket_fields, policy.ticket_mapping, truncated)
    texts = policy.texts
    values = call_values(record, texts)
    description = _description(values, truncated, texts)
    number = record.client_number
    when = zoho_time(record.started_at)
    due = zoho_time(
        policy.due_at(record.started_at, policy.task_deadline)
        if policy.due_at is not None
        else record.started_at + policy.task_deadline
    )

    contact: dict[str, Any] = {
        "lastName": international(number),
        "phone": number,
        "ownerId": owner,
        "description": texts.render("contact_description", values),
    }
    if contact_cf:
        contact["cf"] = contact_cf

    ticket: dict[str, Any] | None = None
    if _wants_ticket(record, policy):
        key = "ticket_subject_missed" if record.missed else "ticket_subject"
        ticket = {
            "subject": _subject(key, values, texts),
            "departmentId": policy.department_id,
            "contactId": CONTACT,
            "channel": "Phone",
            "phone": number,
            "assigneeId": owner,
            "description": description,
        }
        if ticket_cf:
            ticket["cf"] = ticket_cf

    status = "Completed" if answered else "Missed"
    call: dict[str, Any] = {
        "subject": _subject(
            "call_subject_inbound" if inbound else "call_subject_outbound", values, texts
        ),
        "departmentId": policy.department_id,
        "contactId": CONTACT,
        "startTime": when,
        "direction": record.direction.value,
        "duration": str(record.talk_seconds),
        "status": status,
        "ownerId": owner,
        "description": description,
    }
    reuse_open = policy.tickets == "reuse-open"
    if ticket is not None or reuse_open:
        # reuse-open: any call of a contact with an open ticket joins it (none: no ticketId)
        call["ticketId"] = TICKET

    tasks: list[tuple[str, dict[str, Any]]] = []
    wants_task = _wants_task(record, policy, linked_agent)
    if wants_task and record.outcome is Outcome.MISSED:
        tasks.append(
            (
                "task",
                {
                    "subject": _subject("task_subject_missed", values, texts),
                    "departmentId": policy.department_id,
                    "contactId": CONTACT,
                    "ownerId": policy.senior_manager,
                    "dueDate": due,
                    "description": description,
                },
            )
        )
    elif wants_task and unlinked:
        tasks.append(
            (
                "task",
                {
                    "subject": _subject("task_subject_unlinked", values, texts),
                    "departmentId": policy.department_id,
                    "contactId": CONTACT,
                    "ownerId": policy.senior_manager,
                    "dueDate": due,
                    "description": texts.render(
                        "task_description_unlinked", Values(values, description=description)
                    ),
                },
            )
        )
    for _, body in tasks:
        if ticket is not None or reuse_open:
            body["ticketId"] = TICKET
    return CallPlan(
        record=record,
        owner_id=owner,
        unlinked=unlinked,
        contact=contact,
        ticket=ticket,
        ticket_only_if_new=policy.tickets == "new-caller",
        call=call,
        tasks=tuple(tasks),
        truncated=tuple(truncated),
        reuse_open=reuse_open,
    )


def plan_before_call(record: CallRecord, policy: Policy) -> CallPlan:
    """What a call's "before" event creates (``integration.create_records = "before-call"``):
    its contact and, for a caller whose policy gives one a ticket, the ticket, both owned by
    the senior manager (the call is still ringing: nobody has answered it). The call
    activity and the tasks wait for the "after" event; ``call`` and ``tasks`` stay empty."""
    policy = policy.routed(record)
    texts = policy.texts
    values = call_values(record, texts)
    number = record.client_number
    contact: dict[str, Any] = {
        "lastName": international(number),
        "phone": number,
        "ownerId": policy.senior_manager,
        "description": texts.render("contact_description", values),
    }
    truncated: list[str] = []
    contact_cf = _custom_values(record, policy.contact_fields, policy.contact_mapping, truncated)
    if contact_cf:
        contact["cf"] = contact_cf
    ticket: dict[str, Any] | None = None
    if _wants_ticket(record, policy):
        ticket_cf = _custom_values(record, policy.ticket_fields, policy.ticket_mapping, truncated)
        ticket = {
            "subject": _subject("ticket_subject", values, texts),
            "departmentId": policy.department_id,
            "contactId": CONTACT,
            "channel": "Phone",
            "phone": number,
            "assigneeId": policy.senior_manager,
            "description": _description(values, truncated, texts),
            **({"cf": ticket_cf} if ticket_cf else {}),
        }
    return CallPlan(
        record=record,
        owner_id=policy.senior_manager,
        unlinked=False,
        contact=contact,
        ticket=ticket,
        ticket_only_if_new=policy.tickets == "new-caller",
        call={},
        tasks=(),
        truncated=tuple(truncated),
    )


def substitute(body: Mapping[str, Any], ids: Mapping[str, str | None]) -> dict[str, Any]:
    """Replace the CONTACT/TICKET placeholders with Zoho ids; drop a reference to nothing."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if value in (CONTACT, TICKET):
            resolved = ids.get(str(value))
            if resolved:
                out[key] = resolved
        else:
            out[key] = value
    return out


def policy_from_settings(settings: Any) -> Policy:
    """The profile's policy; a missing senior manager or department is a config error."""
    from ringodesk_cli.config.durations import parse_duration
    from ringodesk_cli.rules.routing import parse_routes
    from ringodesk_cli.rules.rules import rules_from_settings

    return Policy(
        senior_manager=settings.require("integration.senior_manager"),
        department_id=settings.require("zoho.department_id"),
        task_deadline=parse_duration(settings.get("integration.task_deadline")),
        tickets=settings.get("integration.tickets"),
        employees=settings.table("employees"),
        ticket_fields=settings.table("fields.tickets"),
        contact_fields=settings.table("fields.contacts"),
        ticket_mapping=settings.table("mapping.ticket"),
        contact_mapping=settings.table("mapping.contact"),
        rules=rules_from_settings(settings),
        reuse_window=parse_duration(settings.get("integration.reuse_window")),
        deadline_in=settings.get("integration.deadline_in"),
        business_hours=settings.get("integration.business_hours"),
        routes=parse_routes(
            settings.array("routing"), str(settings.get("ringostat.default_region"))
        ),
        texts=texts_from_settings(settings),
    )
