"""The pure planner: what one call creates, and for whom (the R4-R7 rules: contact, ticket,
call activity, task, and their owners)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.errors import ConfigError
from ringodesk_cli.ringostat.records import CallRecord, Direction, Employee, Outcome
from ringodesk_cli.rules.planner import (
    CONTACT,
    TICKET,
    Policy,
    plan_call,
    policy_from_settings,
    substitute,
)

SENIOR, ANNA = "900", "901"
POLICY = Policy(
    senior_manager=SENIOR,
    department_id="50",
    task_deadline=timedelta(hours=4),
    employees={"anna_sip": ANNA},
    ticket_fields={"rs_utm_source": "cf_rs_utm_source", "rs_google_client_id": "cf_gcid"},
    contact_fields={"rs_utm_source": "cf_c_source"},
    ticket_mapping={"landing": "cf_landing"},
)
START = datetime(2024, 5, 14, 6, 0, 0, tzinfo=UTC)


def record(
    *,
    call_type: str = "in",
    outcome: Outcome = Outcome.ANSWERED,
    sip: str | None = "anna_sip",
    utm_source: str = "google",
    rid: str = "ua-1",
) -> CallRecord:
    direction = Direction.OUTBOUND if call_type == "out" else Direction.INBOUND
    return CallRecord(
        ringostat_id=rid,
        started_at=START,
        call_type=call_type,
        direction=direction,
        disposition={"answered": "ANSWERED", "missed": "NO ANSWER"}.get(outcome.value, "x"),
        outcome=outcome,
        talk_seconds=42 if outcome is Outcome.ANSWERED else 0,
        total_seconds=50,
        client_number="+380671234567",
        our_number="+380443334455",
        employee=Employee(None, None, sip) if sip else None,
        recording_url="https://rec.example.com/1.mp3",
        call_card_url=None,
        utm=MappingProxyType({"utm_source": utm_source} if utm_source else {}),
        google_client_id="111.222",
        extra=MappingProxyType({"landing": "https://x.example.com/"}),
    )


def test_answered_inbound_call_belongs_to_the_linked_agent_with_ticket_and_no_task() -> None:
    plan = plan_call(record(), POLICY)
    assert plan.owner_id == ANNA
    assert plan.contact["ownerId"] == ANNA
    assert plan.contact["lastName"] == "+380 67 123 4567"
    assert plan.contact["cf"] == {"cf_c_source": "google"}
    assert plan.ticket is not None
    assert plan.ticket["assigneeId"] == ANNA
    assert plan.ticket["cf"] == {
        "cf_rs_utm_source": "google",
        "cf_gcid": "111.222",
        "cf_landing": "https://x.example.com/",
    }
    assert plan.call["status"] == "Completed"
    assert plan.call["startTime"] == "2024-05-14T06:00:00.000Z"
    assert (plan.call["contactId"], plan.call["ticketId"]) == (CONTACT, TICKET)
    assert plan.tasks == ()
    assert plan.operations(new_caller=True) == ["ticket", "call"]
    assert plan.operations(new_caller=False) == ["call"]


def test_missed_call_is_the_senior_managers_with_a_task_due_after_the_deadline() -> None:
    plan = plan_call(record(outcome=Outcome.MISSED), replace_deadline(timedelta(minutes=90)))
    assert plan.owner_id == SENIOR  # even though the export names anna_sip (R4b)
    assert plan.ticket is not None and plan.ticket["assigneeId"] == SENIOR
    assert plan.call["status"] == "Missed"
    ((name, task),) = plan.tasks
    assert name == "task"
    assert task["ownerId"] == SENIOR
    assert task["dueDate"] == "2024-05-14T07:30:00.000Z"
    assert "status" not in task  # Zoho's default is open
    assert (task["contactId"], task["ticketId"]) == (CONTACT, TICKET)
    assert task["subject"].endswith(" [rs:ua-1]")


def replace_deadline(deadline: timedelta) -> Policy:
    from dataclasses import replace

    return replace(POLICY, task_deadline=deadline)


def test_outbound_unanswered_is_a_missed_call_without_ticket_or_task() -> None:
    plan = plan_call(record(call_type="out", outcome=Outcome.MISSED), POLICY)
    assert plan.owner_id == ANNA
    assert plan.ticket is None
    assert plan.tasks == ()
    assert (plan.call["status"], plan.call["direction"]) == ("Missed", "outbound")
    assert "ticketId" not in plan.call
    assert plan.operations(new_caller=True) == ["call"]


def test_answered_on_an_unlinked_sip_gives_the_senior_manager_a_link_task() -> None:
    plan = plan_call(record(sip="reception_sip"), POLICY)
    assert plan.unlinked and plan.owner_id == SENIOR
    ((_, task),) = plan.tasks
    assert "reception_sip" in task["subject"]
    assert "ringodesk employees link" in task["description"]


def test_outbound_by_an_unlinked_employee_is_the_senior_managers_without_task() -> None:
    plan = plan_call(record(call_type="out", sip="reception_sip"), POLICY)
    assert (plan.owner_id, plan.unlinked, plan.tasks) == (SENIOR, False, ())


@pytest.mark.parametrize(("policy", "new", "old"), [
    ("new-caller", ["ticket", "call"], ["call"]),
    ("every-inbound", ["ticket", "call"], ["ticket", "call"]),
    ("never", ["call"], ["call"]),
])  # fmt: skip
def test_ticket_policy(policy: str, new: list[str], old: list[str]) -> None:
    from dataclasses import replace

    plan = plan_call(record(), replace(POLICY, tickets=policy))
    assert plan.operations(new_caller=True) == new
    assert plan.operations(new_caller=False) == old


def test_a_long_utm_is_cut_to_fit_and_kept_whole_in_the_description() -> None:
    long = "x" * 400
    plan = plan_call(record(utm_source=long), POLICY)
    assert plan.ticket is not None
    # The rs_* fields are created with maxLength 255: 254 characters and an ellipsis.
    assert plan.ticket["cf"]["cf_rs_utm_source"] == "x" * 254 + "…"
    assert long in plan.call["description"]
    assert plan.truncated


def test_a_short_subject_is_kept_whole_with_its_marker() -> None:
    plan = plan_call(record(rid="ua-7"), POLICY)
    assert plan.call["subject"] == "Inbound call from +380 67 123 4567 (answered) [rs:ua-7]"
    assert plan.ticket is not None
    assert plan.ticket["subject"] == "Call from +380 67 123 4567 [rs:ua-7]"


@pytest.mark.parametrize("rid_length", [200, 230, 248])
def test_subjects_cut_to_255_keep_the_marker_whole(rid_length: int) -> None:
    """Tickets allow 255 characters in a subject (calls and tasks 300): a long Ringostat id
    makes every subject too long, and the text is cut, never the `[rs:<id>]` marker."""
    rid = "ua-" + "9" * (rid_length - 3)
    tag = f" [rs:{rid}]"
    for outcome, sip in ((Outcome.MISSED, "anna_sip"), (Outcome.ANSWERED, "nobody_sip")):
        plan = plan_call(record(rid=rid, outcome=outcome, sip=sip), POLICY)
        assert plan.ticket is not None and len(plan.tasks) == 1
        subjects = {
            "ticket": plan.ticket["subject"],
            "call": plan.call["subject"],
            "task": plan.tasks[0][1]["subject"],
        }
        full = {
            "ticket": "Missed call from +380 67 123 4567"
            if outcome is Outcome.MISSED
            else "Call from +380 67 123 4567",
            "call": "Inbound call from +380 67 123 4567 "
            + ("(no answer)" if outcome is Outcome.MISSED else "(answered)"),
            "task": "Call back +380 67 123 4567"
            if outcome is Outcome.MISSED
            else "Link Ringostat employee nobody_sip to a Zoho Desk agent",
        }
        for name, subject in subjects.items():
            assert subject.endswith(tag), (name, subject)
            text = subject[: -len(tag)]
            if len(full[name]) + len(tag) > 255:
                assert len(subject) == 255, (name, subject)  # cut, and only as much as needed
                assert full[name].startswith(text), (name, subject)
            else:
                assert text == full[name], (name, subject)


def test_substitute_fills_ids_and_drops_a_reference_to_nothing() -> None:
    body = {"contactId": CONTACT, "ticketId": TICKET, "subject": "s"}
    assert substitute(body, {CONTACT: "1", TICKET: None}) == {"contactId": "1", "subject": "s"}


def test_policy_from_settings_needs_a_senior_manager() -> None:
    paths = Paths.discover()
    settings = Settings.load("default", paths)
    settings.set("zoho.department_id", "50")
    with pytest.raises(ConfigError, match=r"integration\.senior_manager"):
        policy_from_settings(settings)
    settings.set("integration.senior_manager", "900")
    settings.set("integration.task_deadline", "2h")
    policy = policy_from_settings(settings)
    assert (policy.senior_manager, policy.task_deadline, policy.tickets) == (
        "900",
        timedelta(hours=2),
        "new-caller",
    )


def test_planned_operations_agree_with_the_full_plan_for_every_kind_of_call() -> None:
    """`--dry-run` counts with planned_operations; the real run creates plan_call's bodies."""
    from dataclasses import replace
    from itertools import product

    from ringodesk_cli.rules.planner import planned_operations
    from ringodesk_cli.rules.rules import CallRules, Rules

    strict = Rules(
        base=CallRules(min_talk_seconds=30, skip_voicemail=True, ticket_for_missed=False),
        by_type={"out": CallRules(missed_task_for="all")},
    )
    for call_type, outcome, sip, tickets, new_caller, open_ticket, rules in product(
        ("in", "callback", "out", "transitout"),
        (Outcome.ANSWERED, Outcome.MISSED),
        ("anna_sip", "nobody_sip", None),
        ("new-caller", "every-inbound", "never", "reuse-open"),
        (True, False),
        (True, False),
        (Rules(), strict),
    ):
        call = record(call_type=call_type, outcome=outcome, sip=sip)
        policy = replace(POLICY, tickets=tickets, rules=rules)
        planned = planned_operations(call, policy, new_caller=new_caller, open_ticket=open_ticket)
        assert planned == plan_call(call, policy).operations(
            new_caller=new_caller, open_ticket=open_ticket
        ), (call_type, outcome, sip, tickets, new_caller, open_ticket, rules)
