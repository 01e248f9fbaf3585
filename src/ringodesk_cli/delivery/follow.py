"""A delivered call that comes back changed: the records ringodesk made for it follow its
last state (a status, an employee, a duration, UTM values).

The runner first re-runs the call's creates (each one already done is reused, never sent
again, and the call activity gets a PATCH; a record the new state needs and the call lacks,
e.g. the task of a call that turned out missed, is created once). Then, here:

- the ticket this call made gets the new subject, description and custom fields, and the
  new owner only while its owner is still the one ringodesk set: an agent's reassignment
  stands, and a ticket made at a before event stays with the senior manager (no owner is
  recorded for it);
- the missed-call task of a call that turned out answered is completed (``status``
  Completed); a task is never reopened; a task the new state still wants gets its new
  subject and description (a missed call's call-back task that became a link task).

Each update is an ``updated`` event of the call's history (`ringodesk log show`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringodesk_cli.ledger.store import Ledger, OpKind
from ringodesk_cli.zoho.desk_settings import update_task, update_ticket

if TYPE_CHECKING:
    from ringodesk_cli.rules.planner import CallPlan
    from ringodesk_cli.zoho.desk import DeskClient

TICKET_KEYS = ("subject", "description", "cf")
TASK_KEYS = ("subject", "description")
COMPLETED = "Completed"


def follow_ticket(desk: DeskClient, ledger: Ledger, plan: CallPlan) -> None:
    """The ticket this call made, brought to the plan's values (not a ticket it joined)."""
    rid = plan.record.ringostat_id
    ticket = ledger.op(rid, OpKind.TICKET)
    if ticket is None or not ticket.done_id or plan.ticket is None:
        return
    body: dict[str, Any] = {k: plan.ticket[k] for k in TICKET_KEYS if k in plan.ticket}
    set_by_us = ledger.owner_set(rid, OpKind.TICKET)
    wanted = str(plan.ticket.get("assigneeId") or "")
    new_owner: str | None = None
    if set_by_us is not None and wanted and wanted != set_by_us:
        current = str(desk.get_ticket(ticket.done_id).get("assigneeId") or "")
        if current == set_by_us:  # nobody reassigned it: it follows the call
            body["assigneeId"] = wanted
            new_owner = wanted
    update_ticket(desk, ticket.done_id, body)
    ledger.updated(rid, OpKind.TICKET, ticket.done_id, sorted(body), owner=new_owner)


def follow_tasks(desk: DeskClient, ledger: Ledger, plan: CallPlan) -> None:
    """The call's task: completed when the new state wants none, else its texts updated."""
    rid = plan.record.ringostat_id
    task = ledger.op(rid, OpKind.TASK)
    if task is None or not task.done_id:
        return
    wanted = dict(plan.tasks).get(str(OpKind.TASK))
    if wanted is None:
        update_task(desk, task.done_id, {"status": COMPLETED})
        ledger.updated(rid, OpKind.TASK, task.done_id, ["status: Completed"])
        return
    body = {k: wanted[k] for k in TASK_KEYS if k in wanted}
    update_task(desk, task.done_id, body)
    ledger.updated(rid, OpKind.TASK, task.done_id, sorted(body))
