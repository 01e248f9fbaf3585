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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import phonenumbers

from ringodesk_cli.ringostat.catalogue import RS_FIELDS, TEXT_MAX_LENGTH
from ringodesk_cli.ringostat.records import UTM_FIELDS, CallRecord, Direction, Outcome
from ringodesk_cli.setup.employees import resolve_owner

CONTACT = "$contact"
TICKET = "$ticket"

# The six rs_* fields every ticket and contact gets: label -> the Ringostat parameter.
DEFAULT_FIELDS: dict[str, str] = {f.label: f.parameter for f in RS_FIELDS}
# The rs_* fields' maxLength; a longer value is cut to fit and kept whole in the description,
# so a long UTM never quarantines a call.
FIELD_MAX_LENGTH = TEXT_MAX_LENGTH
SUBJECT_MAX = 255  # Zoho: ticket subjects allow 255, call and task subjects 300; keep the lower


def marker(ringostat_id: str) -> str:
    """The marker put in every subject: a create whose answer was lost is found by it."""
    return f"[rs:{ringostat_id}]"


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

    def operations(self, *, new_caller: bool) -> list[str]:
        ops = []
        if self.ticket is not None and (new_caller or not self.ticket_only_if_new):
            ops.append("ticket")
        ops.append("call")
        ops.extend(name for name, _ in self.tasks)
        return ops


def planned_operations(record: CallRecord, policy: Policy, *, new_caller: bool) -> list[str]:
    """The creating operations of a call after its contact, without building any body: what
    `--dry-run` counts. Must agree with ``plan_call(...).operations(...)`` (tested)."""
    ops = []
    if _wants_ticket(record, policy) and (new_caller or policy.tickets != "new-caller"):
        ops.append("ticket")
    ops.append("call")
    if record.missed or _unlinked(record, resolve_owner(record.employee, policy.employees)):
        ops.append("task")
    return ops


def _wants_ticket(record: CallRecord, policy: Policy) -> bool:
    """Inbound calls get tickets under every policy but "never"; outbound calls never."""
    return record.direction is Direction.INBOUND and policy.tickets != "never"


def _unlinked(record: CallRecord, linked_agent: str | None) -> bool:
    """An inbound call answered on a number or SIP linked to no employee."""
    return (
        record.direction is Direction.INBOUND
        and record.outcome is Outcome.ANSWERED
        and linked_agent is None
    )


# Repeat callers: the same few thousand numbers are formatted over and over.
@lru_cache(maxsize=8192)
def international(number: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return number


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


def _description(record: CallRecord, truncated: list[str]) -> str:
    inbound = record.direction is Direction.INBOUND
    caller = record.client_number if inbound else (record.our_number or "")
    called = (record.our_number or "") if inbound else record.client_number
    lines = [
        f"From: {caller}",
        f"To: {called}",
        f"Direction: {record.direction.value} ({record.call_type})",
        f"Ringostat status: {record.disposition}",
        f"Talk time: {record.talk_seconds} s; total: {record.total_seconds} s",
    ]
    if record.employee:
        who = ", ".join(
            p for p in (record.employee.name, record.employee.number, record.employee.sip) if p
        )
        lines.append(f"Employee: {who}")
    if record.recording_url:
        lines.append(f"Recording: {record.recording_url}")
    if record.call_card_url:
        lines.append(f"Call card: {record.call_card_url}")
    for name in UTM_FIELDS:
        if record.utm.get(name):
            lines.append(f"{name}: {record.utm[name]}")
    if record.google_client_id:
        lines.append(f"Google client id: {record.google_client_id}")
    lines.append(f"Ringostat id: {record.ringostat_id}")
    if truncated:
        lines.append("Values cut to fit their fields, in full:")
        lines.extend(truncated)
    return "\n".join(lines)


def _subject(text: str, record: CallRecord) -> str:
    tag = " " + marker(record.ringostat_id)
    return text[: SUBJECT_MAX - len(tag)] + tag


def plan_call(record: CallRecord, policy: Policy) -> CallPlan:
    """Everything one call creates, and who owns each record."""
    inbound = record.direction is Direction.INBOUND
    answered = record.outcome is Outcome.ANSWERED
    linked_agent = resolve_owner(record.employee, policy.employees)
    # A missed call's work is the senior manager's, even when the export names someone.
    owner = policy.senior_manager if record.missed else linked_agent or policy.senior_manager
    unlinked = _unlinked(record, linked_agent)
    truncated: list[str] = []
    contact_cf = _custom_values(record, policy.contact_fields, policy.contact_mapping, truncated)
    ticket_cf = _custom_values(record, policy.ticket_fields, policy.ticket_mapping, truncated)
    description = _description(record, truncated)
    number = record.client_number
    when = zoho_time(record.started_at)
    due = zoho_time(record.started_at + policy.task_deadline)

    contact: dict[str, Any] = {
        "lastName": international(number),
        "phone": number,
        "ownerId": owner,
        "description": f"Created by ringodesk from Ringostat call {record.ringostat_id}",
    }
    if contact_cf:
        contact["cf"] = contact_cf

    ticket: dict[str, Any] | None = None
    if _wants_ticket(record, policy):
        verb = "Missed call" if record.missed else "Call"
        ticket = {
            "subject": _subject(f"{verb} from {international(number)}", record),
            "departmentId": policy.department_id,
            "contactId": CONTACT,
            "channel": "Phone",
            "phone": number,
            "assigneeId": owner,
            "description": description,
        }
        if ticket_cf:
            ticket["cf"] = ticket_cf

    direction_text = "Inbound" if inbound else "Outbound"
    status = "Completed" if answered else "Missed"
    call: dict[str, Any] = {
        "subject": _subject(
            f"{direction_text} call {'from' if inbound else 'to'} {international(number)}"
            f" ({record.disposition.lower()})",
            record,
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
    if ticket is not None:
        call["ticketId"] = TICKET

    tasks: list[tuple[str, dict[str, Any]]] = []
    if record.missed:
        tasks.append(
            (
                "task",
                {
                    "subject": _subject(f"Call back {international(number)}", record),
                    "departmentId": policy.department_id,
                    "contactId": CONTACT,
                    "ownerId": policy.senior_manager,
                    "dueDate": due,
                    "description": description,
                },
            )
        )
    elif unlinked:
        who = _employee_text(record)
        tasks.append(
            (
                "task",
                {
                    "subject": _subject(
                        f"Link Ringostat employee {who} to a Zoho Desk agent", record
                    ),
                    "departmentId": policy.department_id,
                    "contactId": CONTACT,
                    "ownerId": policy.senior_manager,
                    "dueDate": due,
                    "description": (
                        f"A call was answered on {who}, which is linked to no Zoho Desk agent."
                        f" Link it with `ringodesk employees link KEY AGENT`.\n\n{description}"
                    ),
                },
            )
        )
    for _, body in tasks:
        if ticket is not None:
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
    )


def plan_before_call(record: CallRecord, policy: Policy) -> CallPlan:
    """What a call's "before" event creates (``integration.create_records = "before-call"``):
    its contact and, for a caller whose policy gives one a ticket, the ticket, both owned by
    the senior manager (the call is still ringing: nobody has answered it). The call
    activity and the tasks wait for the "after" event; ``call`` and ``tasks`` stay empty."""
    number = record.client_number
    contact: dict[str, Any] = {
        "lastName": international(number),
        "phone": number,
        "ownerId": policy.senior_manager,
        "description": f"Created by ringodesk from Ringostat call {record.ringostat_id}",
    }
    truncated: list[str] = []
    contact_cf = _custom_values(record, policy.contact_fields, policy.contact_mapping, truncated)
    if contact_cf:
        contact["cf"] = contact_cf
    ticket: dict[str, Any] | None = None
    if _wants_ticket(record, policy):
        ticket_cf = _custom_values(record, policy.ticket_fields, policy.ticket_mapping, truncated)
        ticket = {
            "subject": _subject(f"Incoming call from {international(number)}", record),
            "departmentId": policy.department_id,
            "contactId": CONTACT,
            "channel": "Phone",
            "phone": number,
            "assigneeId": policy.senior_manager,
            "description": _description(record, truncated),
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


def _employee_text(record: CallRecord) -> str:
    employee = record.employee
    if employee is None:
        return f"number {record.our_number or 'unknown'}"
    parts = [p for p in (employee.sip, employee.number, employee.name) if p]
    return " / ".join(parts) if parts else f"number {record.our_number or 'unknown'}"


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
    from ringodesk_cli.durations import parse_duration

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
    )
