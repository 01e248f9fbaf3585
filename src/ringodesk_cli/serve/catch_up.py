"""The API catch-up inside `ringodesk serve`: one process in production.

Ringostat's Webhooks 2.0 never resend a webhook that was not answered 200 (the server was
down, the network was, Ringostat dropped one), so a live setup needs a catch-up from
Ringostat's API. With ``source.kind = "api"`` and a stored Ringostat key, the delivery worker
runs it itself every ``serve.catch_up_every`` (default ``10m``; ``off`` disables it): the
same run as `ringodesk sync --replay` (``sync/service.run_sync``: the one engine, the ledger's
triage, so a call the webhooks already delivered is never sent again), over the window since
the last fetch (with its overlap) and, the first time after the server's start (soon after
it: ``FIRST_AFTER``), at least ``START_REPLAY``. It
holds the run lock like any run: never at the same time as a cron `sync`, a stream or
another catch-up; a lock that is busy only delays it.

Its last outcome is kept in the ledger's meta (``CATCH_UP``): the health answer shows it and
turns 503 once the catch-up has been failing for ``FAILING_PERIODS`` periods in a row
(Ringostat unreachable, the key revoked, Zoho refusing).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ringodesk_cli.config.durations import parse_duration
from ringodesk_cli.errors import BusyError, RingodeskError

if TYPE_CHECKING:
    from ringodesk_cli.ledger.store import Ledger
    from ringodesk_cli.session import Session

CATCH_UP = "serve_catch_up"  # ledger meta: the last catch-up (JSON)
START_REPLAY = "3d"  # the window of the first catch-up after a start, as the cron's
FAILING_PERIODS = 3  # failed catch-ups in a row before the health answer is 503
BUSY_RETRY = 5.0  # seconds before another try when a run holds the lock
FIRST_AFTER = 30.0  # seconds after the start (or one period, if shorter)

Log = Callable[[dict[str, Any]], None]


@dataclass
class CatchUpState:
    """The last catch-up, as the health answer shows it."""

    at: str
    outcome: str  # "ok" or "failed"
    error: str | None = None
    read: int = 0
    delivered: int = 0
    updated: int = 0
    failing_since: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, ledger: Ledger) -> CatchUpState | None:
        text = ledger.meta(CATCH_UP)
        if not text:
            return None
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None


def catch_up_period(session: Session) -> float | None:
    """Seconds between two catch-ups, or None when there is none to run: turned off, the
    source is not Ringostat's API, or no Ringostat key is stored."""
    settings = session.settings
    every = str(settings.get("serve.catch_up_every"))
    if every == "off" or settings.get("source.kind") != "api":
        return None
    try:
        if not session.credentials.get("ringostat_key"):
            return None
    except RingodeskError:
        return None
    return parse_duration(every).total_seconds()


class CatchUp:
    """``due`` tells when; ``run`` runs one (in the worker's loop, between streams)."""

    def __init__(
        self,
        session: Session,
        ledger: Ledger,
        period: float,
        *,
        log: Log,
        stop: threading.Event,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session, self.ledger, self.period, self.log = session, ledger, period, log
        self.stop, self.monotonic, self.clock = stop, monotonic, clock
        # The first one soon after the start (the webhooks stored meanwhile go first).
        self.next_at = monotonic() + min(period, FIRST_AFTER)
        self.started = False  # a first catch-up has run (with the start's replay window)

    def due(self) -> bool:
        return self.monotonic() >= self.next_at

    def run(self) -> CatchUpState | None:
        """One catch-up; None when the lock was busy (tried again in ``BUSY_RETRY``)."""
        from ringodesk_cli.sync.service import SyncOptions, run_sync

        options = SyncOptions(replay=None if self.started else START_REPLAY)
        try:
            result = run_sync(
                self.session, [], options, stop=self.stop, clock=self.clock,
                wait_for_server=False,
            )  # fmt: skip
        except BusyError:
            self.next_at = self.monotonic() + BUSY_RETRY
            return None
        except RingodeskError as exc:
            state = self._settle(failed=str(exc))
        except Exception as exc:  # a bug must not stop the server's catch-ups for good
            state = self._settle(failed=f"{type(exc).__name__}: {exc}")
        else:
            summary = result.summary
            state = self._settle(failed=summary.stopped)
            state.read, state.delivered, state.updated = (
                summary.read, summary.delivered, summary.updated
            )  # fmt: skip
            if summary.stopped is None:
                self.started = True
        self.next_at = self.monotonic() + self.period
        self.ledger.set_meta(CATCH_UP, json.dumps(state.as_dict()))
        shown = {k: v for k, v in state.as_dict().items() if v and k not in ("at", "outcome")}
        self.log({"catch_up": state.outcome, **shown})
        return state

    def _settle(self, *, failed: str | None) -> CatchUpState:
        now = self.clock().isoformat()
        if failed is None:
            return CatchUpState(at=now, outcome="ok")
        before = CatchUpState.load(self.ledger)
        since = before.failing_since if before and before.failing_since else now
        return CatchUpState(at=now, outcome="failed", error=failed[:500], failing_since=since)


def failing_too_long(state: CatchUpState | None, period: float | None, now: datetime) -> bool:
    """Whether the catch-up has been failing for ``FAILING_PERIODS`` periods."""
    if state is None or period is None or not state.failing_since:
        return False
    since = datetime.fromisoformat(state.failing_since)
    return (now - since).total_seconds() >= FAILING_PERIODS * period
