"""A new or emptied ledger first recovers what ringodesk already made in Zoho Desk.

The ledger is what keeps a rerun from creating a call's records twice. When it is lost (the
state folder deleted or moved, the file emptied to 0 bytes, a damaged ledger moved aside),
the next run would create every call of its window again. So before a run creates
anything with a ledger that knows no done operation at all (``Ledger.any_done``: a new,
emptied or replaced ledger), it reads back from Zoho Desk the tickets, call activities and
tasks created since the window's start (``zoho.desk_lists``: listed by ``createdTime``,
ascending, in every department the token sees, the profile's own first) and keeps each one
whose subject carries ringodesk's ``[rs:<id>]`` marker as that call's done operation
(history event ``recovered``), and the contact of each client number about to be delivered
(through the contact index, rebuilt from Zoho). The delivery that follows finds every
operation done: zero creates; a found call activity is brought to the call's current
content (one PATCH), as after any retry.

The window starts at the earlier of the replay window's start and the oldest call to
deliver, less a day (a record is created after its call; the day covers a clock or a time
zone set wrong). A ledger that has delivered anything is never recovered again; one that
found nothing (a real first run) looks again on its next run until it delivers a call.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import (
    AuthError,
    Interrupted,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.ledger.connection import stamp
from ringodesk_cli.ledger.store import Ledger, OpKind
from ringodesk_cli.zoho.desk_lists import created_since

if TYPE_CHECKING:
    from ringodesk_cli.contacts.finder import ContactFinder
    from ringodesk_cli.delivery.runner import Runner
    from ringodesk_cli.rules.planner import Policy
    from ringodesk_cli.zoho.desk import DeskClient

MARGIN = timedelta(days=1)
RECOVERED_AT = "recovered_at"  # the ledger's meta key: when and from when it recovered
_MARKER = re.compile(r"\[rs:([^\]\s]+)\]")
_STOPS = (AuthError, ZohoUnavailableError)  # the run stops: no department is skipped for these
_KINDS = (("tickets", OpKind.TICKET), ("calls", OpKind.CALL), ("tasks", OpKind.TASK))


@dataclass
class RecoveryReport:
    """What a recovery found: records per kind kept as done operations."""

    since: str
    calls: int = 0
    tickets: int = 0
    tasks: int = 0
    contacts: int = 0
    departments: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.calls + self.tickets + self.tasks + self.contacts

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "calls": self.calls,
            "tickets": self.tickets,
            "tasks": self.tasks,
            "contacts": self.contacts,
        }

    def __str__(self) -> str:
        return (
            "a new or emptied ledger: recovered from Zoho Desk what ringodesk made since "
            f"{self.since}: {self.calls} call activities, {self.tickets} tickets, "
            f"{self.tasks} tasks, {self.contacts} contacts (none is created again)"
        )


def marked_id(subject: Any) -> str | None:
    """The Ringostat call id of a subject's ``[rs:<id>]`` marker, or None."""
    found = _MARKER.search(str(subject or ""))
    return found.group(1) if found else None


def recover(
    ledger: Ledger,
    desk: DeskClient,
    since_utc: datetime,
    *,
    department_ids: Iterable[str],
    optional: Collection[str] = (),
) -> RecoveryReport:
    """Every ticket, call activity and task made by ringodesk (its marker in the subject)
    since ``since_utc`` in these departments, kept in ``ledger`` as done operations. The
    oldest record wins when one call has several of a kind. A department in ``optional``
    whose lists Zoho refuses is left out; any other refusal is raised."""
    departments = list(dict.fromkeys(department_ids))
    report = RecoveryReport(since=stamp(since_utc), departments=departments)
    for module, op in _KINDS:
        for department in departments:
            try:
                rows = created_since(desk, module, since_utc, department_id=department)
            except ZohoError as exc:
                if department not in optional or isinstance(exc, _STOPS):
                    raise
                continue
            for row in rows:
                rid = marked_id(row.get("subject"))
                if rid is not None and ledger.recovered(rid, op, str(row["id"])):
                    setattr(report, module, getattr(report, module) + 1)
    return report


def recover_contacts(ledger: Ledger, finder: ContactFinder, numbers: Iterable[str]) -> int:
    """The contact of each number the ledger does not know, found in Zoho (the contact
    index, else a search): how many were found."""
    found = 0
    for number in sorted(set(numbers)):
        if ledger.contact(number) is not None:
            continue
        contact_id = finder.contact_by_number(number)
        if contact_id is not None:
            ledger.remember_contact(number, contact_id)
            found += 1
    return found


def window_start(oldest_call: datetime | None, replay_from: datetime | None) -> datetime:
    """Where the records of the calls to deliver can start (see the module's docstring)."""
    starts = [t for t in (oldest_call, replay_from) if t is not None]
    return min(starts, default=datetime.now(UTC)) - MARGIN


def departments_of(policy: Policy, desk: DeskClient) -> tuple[list[str], set[str]]:
    """(every department to look in, those of them the profile does not name): the
    profile's department and its routed ones first, then every other department the token
    sees (an agent may have moved a ticket there, or the profile's department changed)."""
    named = [policy.department_id, *(r.department for r in policy.routes)]
    named = [d for d in dict.fromkeys(named) if d.isdigit()]
    try:
        others = [str(d["id"]) for d in desk.departments() if str(d.get("id")) not in named]
    except ZohoError as exc:
        if isinstance(exc, _STOPS):
            raise
        others = []
    return named + others, set(others)


def recover_before_delivery(
    runner: Runner, ledger: Ledger, policy: Policy, replay_from: datetime | None
) -> bool:
    """The engine's step before delivering (``engine.Engine.recover``, in a `sync` batch and
    a `serve` stream alike): a new or emptied ledger recovers first. False:
    the run stops here (Zoho refused or could not be reached; every call stays pending,
    none is created blind)."""
    if runner.desk is None or ledger.any_done():
        return True
    rows = ledger.calls_to_retry(None)  # what is to be delivered (a stream's too)
    if not rows and not runner.to_attempt:
        return True
    oldest = min((t for r in rows if (t := _moment(r.started_at)) is not None), default=None)
    since = window_start(oldest, replay_from)
    try:
        departments, optional = departments_of(policy, runner.desk)
        report = recover(ledger, runner.desk, since, department_ids=departments, optional=optional)
        report.contacts = recover_contacts(ledger, runner.finder, (r.client_number for r in rows))
    except Interrupted:
        runner.summary.pending = runner.to_attempt or len(rows)
        return False
    except ZohoError as exc:
        stop = exc
        if not isinstance(exc, _STOPS):
            stop = ZohoUnavailableError(
                f"could not read back from Zoho Desk what ringodesk made before this ledger: {exc}",
                hint="nothing was created; the calls stay pending for the next run",
            )
        runner.summary.stop(stop)
        runner.summary.pending = runner.to_attempt or len(rows)
        return False
    ledger.set_meta(RECOVERED_AT, f"{stamp(datetime.now(UTC))} since {report.since}")
    runner.summary.recovered = report.as_dict()
    if report.total:
        runner.summary.notice(str(report))
    return True


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
