"""``integration.create_records = "before-call"``: records made while the phone rings.

For each before event noted by the inbox (``serve_before``, state pending), in the worker's
delivery stream (``worker.py``, under the run lock, in order with the number's other calls):
the contact is found or made and, for a caller the policy gives a ticket (by default a
new caller), the ticket is created, both owned by the senior manager
(``planner.plan_before_call``). Each create goes through the runner's own steps, so it is
written "intended" before its request and "done" with Zoho's id after, under the call's
Ringostat id, with the ``[rs:<id>]`` marker in the subject. The after event is then
delivered as any call: the runner finds the contact made by this call (a new caller) and
the ticket already done, reuses both, and adds the call activity and the tasks. Nothing is
created twice, and a call whose before step never ran (missed event, Zoho down) simply
gets everything at its after event or from the cron catch-up.
"""

from __future__ import annotations

import threading

from ringodesk_cli.delivery.runner import Runner
from ringodesk_cli.errors import (
    AuthError,
    Interrupted,
    OutcomeUnknownError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.ledger.inbox_rows import before_state, mark_before
from ringodesk_cli.ledger.record_json import from_json
from ringodesk_cli.ledger.schema import BeforeState
from ringodesk_cli.ledger.store import CallState, Ledger, OpKind
from ringodesk_cli.ringostat.records import CallRecord
from ringodesk_cli.rules.planner import CONTACT, CallPlan, plan_before_call, plan_call
from ringodesk_cli.serve.inbox import BEFORE_DONE, BEFORE_FAILED, BEFORE_PENDING, BEFORE_SKIPPED
from ringodesk_cli.zoho.desk_settings import update_ticket

# The after event's values are on the ticket made at the before event.
BEFORE_FINAL = BeforeState.FINAL


def _mark(ledger: Ledger, rid: str, state: str, error: str | None = None) -> str:
    mark_before(ledger, rid, state, error)
    return state


def step(runner: Runner, ledger: Ledger, rid: str, halt: threading.Event) -> str:
    row = ledger.get_call(rid)
    if row is None or row.state is not CallState.WAITING:
        # The after event came first (or the call is gone): its delivery does everything.
        return _mark(ledger, rid, BEFORE_SKIPPED)
    plan = plan_before_call(from_json(row.record), runner.policy)
    try:
        create_early(runner, plan)
    except (AuthError, ZohoUnavailableError, OutcomeUnknownError, Interrupted):
        # Left pending: the next stream tries again (an intended create is reconciled first).
        halt.set()
        return BEFORE_PENDING
    except ZohoError as exc:
        return _mark(ledger, rid, BEFORE_FAILED, str(exc))
    return _mark(ledger, rid, BEFORE_DONE)


def create_early(runner: Runner, plan: CallPlan) -> str | None:
    """The contact of ``plan`` found or made and, if the plan gives this caller one, its
    ticket created; returns the ticket's id. Uses the runner's own once-only steps (the
    number lock, the contact index, intend/done, reconciliation through the marker)."""
    contact_id, new_caller = runner.ensure_contact(plan)
    if plan.ticket is None or (plan.ticket_only_if_new and not new_caller):
        return None
    body = {k: v for k, v in plan.ticket.items() if v != CONTACT}
    body["contactId"] = contact_id
    return runner.ensure(plan, OpKind.TICKET, body, contact_id, owned=False)


def finish(runner: Runner, ledger: Ledger, record: CallRecord) -> bool:
    """After the call is delivered: the ticket its before event made gets the final values
    (subject, description, custom fields: the status, talk time, recording, UTM known only
    now); its owner stays the senior manager, for redistribution. Once per call."""
    rid = record.ringostat_id
    if before_state(ledger, rid) != BEFORE_DONE:
        return False
    ticket = ledger.op(rid, OpKind.TICKET)
    plan = plan_call(record, runner.policy)
    if ticket is not None and ticket.done_id and plan.ticket is not None:
        body = {k: plan.ticket[k] for k in ("subject", "description", "cf") if k in plan.ticket}
        assert runner.desk is not None
        # The Desk client's tolerant write: a custom value Zoho refuses is dropped and kept
        # in the description, as for creates.
        update_ticket(runner.desk, ticket.done_id, body)
    _mark(ledger, rid, BEFORE_FINAL)
    return True
