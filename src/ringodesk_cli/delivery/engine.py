"""The delivery engine: the one place that assembles what sends calls to Zoho Desk.

`ringodesk sync`, `retry`, `demo` (through ``service.run_sync``) and the delivery worker of
`ringodesk serve` all deliver through an ``Engine``, so a rule that holds in cron holds live:

- the ledger and the Desk client (``None`` with the reason when Zoho cannot be reached);
- the contact index, refreshed before callers are looked up in it;
- the policy with the team rules resolved once (``ready``): route names turned into Zoho
  ids, the business-hours calendar loaded for ``integration.deadline_in =
  "business-hours"``; a long-lived engine (the server's) resolves them again every
  ``RESOLVE_EVERY`` seconds, so a department renamed in Zoho is seen;
- a ``Runner`` per batch or stream (``runner``): the planner, owners, intend/done,
  reconciliation and the cap on requests in flight;
- the recordings pass (``attachments``), per call as it is delivered or over what is due.

No entry point builds any of these itself (docs/architecture.md, "One engine").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ringodesk_cli.contacts.index import ContactIndex
from ringodesk_cli.delivery.recordings import AttachmentPass, RecordingOptions, attachment_pass
from ringodesk_cli.delivery.runner import Runner
from ringodesk_cli.delivery.summary import Summary
from ringodesk_cli.errors import AuthError, RingodeskError, ZohoUnavailableError
from ringodesk_cli.rules.planner import Policy, policy_from_settings
from ringodesk_cli.rules.team_rules import prepare_policy

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger
    from ringodesk_cli.session import Session
    from ringodesk_cli.zoho.desk import DeskClient

RESOLVE_EVERY = 600.0  # seconds a resolved policy serves a long-lived engine


class Engine:
    """Built by ``Engine.open``; shared by the threads of one batch or stream."""

    def __init__(
        self,
        session: Session,
        ledger: Ledger,
        *,
        desk: DeskClient | None,
        desk_error: RingodeskError | None = None,
        policy: Policy | None = None,
        stop: threading.Event | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = session.settings
        self.session, self.ledger, self.desk, self.desk_error = session, ledger, desk, desk_error
        self.stop = stop or threading.Event()
        self.region = str(settings.get("ringostat.default_region"))
        self.concurrency = int(settings.get("zoho.concurrency"))
        self.recordings = RecordingOptions.of(settings)
        self.index = ContactIndex(
            ledger, self.region, index_max=int(settings.get("contacts.index_max"))
        )
        if desk is not None:
            # Requests in flight never exceed zoho.concurrency, whatever runs: the runner's
            # threads, a stream's, the recordings pass.
            desk.limit_in_flight(self.concurrency)
        self._configured = policy or policy_from_settings(settings)
        self.policy = self._configured
        self._monotonic = monotonic
        self._resolved_at: float | None = None
        self.not_ready: RingodeskError | None = None  # why ``ready`` said no
        self.runner = self._runner()

    @classmethod
    def open(
        cls,
        session: Session,
        ledger: Ledger,
        *,
        stop: threading.Event | None = None,
        policy: Policy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Engine:
        """The engine of a profile. Tokens that cannot be had are not an error here: the
        engine still stores what is read (``desk`` None, ``desk_error`` says why)."""
        desk: DeskClient | None = None
        error: RingodeskError | None = None
        try:
            desk = session.desk()
        except AuthError as exc:
            error = exc
        if desk is not None and stop is not None:
            desk.stop_when(stop)
        return cls(
            session, ledger, desk=desk, desk_error=error, policy=policy, stop=stop,
            monotonic=monotonic,
        )  # fmt: skip

    # -- the policy ----------------------------------------------------------------------
    def ready(self) -> bool:
        """The team rules resolved to Zoho ids and the business-hours calendar loaded, once
        (again after ``RESOLVE_EVERY``), before any call is planned. Zoho out of reach or
        the token refused: the runner's summary says so, every call stays pending (False).
        A route or business-hours set Zoho does not know is a ConfigError (exit 3)."""
        if self.desk is None:
            if self.desk_error is not None:
                self.runner.summary.stop(self.desk_error)
            self.runner.summary.pending = self.runner.to_attempt
            self.not_ready = self.desk_error
            return False
        now = self._monotonic()
        if self._resolved_at is None or now - self._resolved_at >= RESOLVE_EVERY:
            try:
                self.policy = prepare_policy(self._configured, self.desk, self.ledger.path.parent)
            except (AuthError, ZohoUnavailableError) as exc:
                self.runner.summary.stop(exc)
                self.runner.summary.pending = self.runner.to_attempt
                self.not_ready = exc
                return False
            self._resolved_at = now
        self.runner.policy = self.policy
        return True

    # -- runners -------------------------------------------------------------------------
    def _runner(self) -> Runner:
        return Runner(
            desk=self.desk,
            ledger=self.ledger,
            policy=self.policy,
            default_region=self.region,
            concurrency=self.concurrency,
            contact_index=self.index,
            summary=Summary(),
        )

    def next_runner(self) -> Runner:
        """A fresh runner (its own summary and stop flag) with the resolved policy: each
        stream of the server delivers through one."""
        self.runner = self._runner()
        return self.runner

    def recover(self, replay_from: datetime | None = None) -> bool:
        """A new or emptied ledger first recovers what ringodesk already made in Zoho
        (``recovery.py``): losing the ledger never duplicates. False: Zoho refused or could
        not be reached; nothing may be sent (the summary says why)."""
        from ringodesk_cli.delivery.recovery import recover_before_delivery

        return recover_before_delivery(self.runner, self.ledger, self.policy, replay_from)

    def deliver(self, *, replay_from: datetime | None = None) -> Summary:
        """A batch: every call the runner was handed, once the rules are ready and a lost
        ledger recovered."""
        if not self.runner.to_attempt:
            return self.runner.deliver()
        if not self.ready() or not self.recover(replay_from):
            return self.runner.summary
        return self.runner.deliver()

    def refresh_index(self, progress: Callable[[int], None] | None = None) -> None:
        """The contact index brought up to date (built, or its build resumed, the first
        time) before any caller is looked up in it. Raises what the Desk client raises."""
        assert self.desk is not None
        self.index.sync(self.desk, progress=progress)

    # -- recordings ----------------------------------------------------------------------
    def attachments(self, *, now: datetime | None = None) -> AttachmentPass | None:
        """The recordings pass for this batch or stream (``recordings.attach``), or None."""
        if not self.recordings.attach or self.desk is None:
            return None
        return attachment_pass(
            self.session, self.ledger, self.desk, self.recordings, stop=self.stop,
            now=now or datetime.now(UTC),
        )  # fmt: skip
