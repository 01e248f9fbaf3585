"""The HTTP side of `ringodesk serve` (a Starlette app run by uvicorn).

``POST /ringostat/webhook?event=before|after&key=KEY``: a wrong or missing key is 403, a
body over 64 KiB is 413, a body that is not a call is 422 with the reason; nothing is stored
for any of them. A call is committed to the ledger before its 200 (Ringostat never resends,
so an answered webhook must survive a kill -9 the moment after). One log line per webhook:
event, Ringostat id, outcome, milliseconds; never the key.

``GET /healthz``: 200 with the queue and the delivery's state; 503 only for a real fault,
named in the body: the Zoho token does not work, the ledger is not writable (a ledger busy
for a moment is not a fault), delivery has been failing for over ``FAILING_FOR`` (Zoho
unavailable, calls refused), or the delivery worker keeps dying.
"""

from __future__ import annotations

import hmac
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ringodesk_cli.serve.catch_up import CatchUpState, failing_too_long
from ringodesk_cli.serve.inbox import Inbox
from ringodesk_cli.serve.webhook import MAX_BODY, NotACall, read_params, renamed, to_record

WEBHOOK_PATH = "/ringostat/webhook"
TOKEN_CHECK_EVERY = 30.0  # seconds between two token checks of the health endpoint
FAILING_FOR = 15 * 60.0  # seconds of failing delivery before the health answer is 503
WORKER_DOWN_FOR = 15.0  # seconds without a running worker before the health answer is 503
EVENTS = ("before", "after")
LOGGED_CHARS = 100  # of a value the request chose (the event), in the log

Log = Callable[[dict[str, Any]], None]


@dataclass
class Receiver:
    """What the routes need: the secret, the reading rules, the inbox, the worker's bell."""

    secret: str
    timezone: ZoneInfo
    default_region: str
    inbox: Inbox
    log: Log
    check_token: Callable[[], None]
    renames: Mapping[str, str] = field(default_factory=dict)
    before_call: bool = False
    worker_down_for: Callable[[], float] = lambda: 0.0
    catch_up_every: float | None = None  # seconds; None: no API catch-up (catch_up.py)
    token_ok_at: float = float("-inf")
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def authorised(self, key: str | None) -> bool:
        return bool(key) and hmac.compare_digest(str(key).encode(), self.secret.encode())


def build_app(receiver: Receiver) -> Starlette:
    async def webhook(request: Request) -> JSONResponse:
        started = time.perf_counter()
        event = request.query_params.get("event")
        status, answer, rid, outcome = await _receive(receiver, request, event)
        ms = round((time.perf_counter() - started) * 1000, 1)
        # The event is the request's own text: cut, and escaped by the log (log_lines.py).
        shown = event[:LOGGED_CHARS] if event is not None else None
        line: dict[str, Any] = {"event": shown, "id": rid, "outcome": outcome, "ms": ms}
        if status != 200:
            line["status"] = status
            line["reason"] = answer.get("error")
        receiver.log(line)
        return JSONResponse(answer, status_code=status)

    async def healthz(_request: Request) -> JSONResponse:
        status, answer = await run_in_threadpool(_health, receiver)
        return JSONResponse(answer, status_code=status)

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def _receive(
    receiver: Receiver, request: Request, event: str | None
) -> tuple[int, dict[str, Any], str | None, str]:
    """(status, answer body, Ringostat id, outcome) for one webhook request."""
    if not receiver.authorised(request.query_params.get("key")):
        return 403, {"error": "wrong or missing key"}, None, "refused"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return 413, {"error": f"the body is over {MAX_BODY // 1024} KiB"}, None, "too-large"
    if event not in EVENTS:
        # Each webhook in Ringostat's form names its moment in the URL `serve setup` printed:
        # a request without one is not taken for either (docs/serve.md).
        why = "the query parameter event is missing" if event is None else "unknown event"
        return 422, {"error": f"{why}: it must be event=before or event=after"}, None, "not-a-call"
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            return 413, {"error": f"the body is over {MAX_BODY // 1024} KiB"}, None, "too-large"
    try:
        params = renamed(
            read_params(bytes(body), request.headers.get("content-type", "")), receiver.renames
        )
    except NotACall as exc:
        return 422, {"error": str(exc)}, None, "not-a-call"
    rid = str(params.get("uniqueid") or "") or None
    try:
        record = to_record(
            params,
            event=event,
            timezone=receiver.timezone,
            default_region=receiver.default_region,
            received=receiver.clock(),
        )
    except NotACall as exc:
        return 422, {"error": str(exc)}, rid, "not-a-call"
    early = receiver.before_call and event == "before"
    try:
        stored = await run_in_threadpool(receiver.inbox.store, record, before_step=early)
    except Exception as exc:  # the ledger could not commit: not answered 200
        reason = f"the call could not be stored ({type(exc).__name__}: {exc})"
        return 503, {"error": reason}, record.ringostat_id, "not-stored"
    answer = {"ok": True, "id": record.ringostat_id, "outcome": stored.outcome}
    return 200, answer, record.ringostat_id, stored.outcome


def _health(receiver: Receiver) -> tuple[int, dict[str, Any]]:
    try:
        receiver.inbox.probe_write()
    except sqlite3.OperationalError as exc:
        if not _busy(exc):
            return _fault(f"the ledger is not writable: {exc}")
    except Exception as exc:
        return _fault(f"the ledger is not writable: {exc}")
    down = receiver.worker_down_for()
    if down >= WORKER_DOWN_FOR:
        return _fault(f"the delivery worker has not been running for {down:.0f} s (restarting)")
    now = time.monotonic()
    if now - receiver.token_ok_at >= TOKEN_CHECK_EVERY:
        try:
            receiver.check_token()
        except Exception as exc:
            return _fault(f"the Zoho token does not work: {exc}")
        receiver.token_ok_at = now
    state = receiver.inbox.delivery_state()
    caught = CatchUpState.load(receiver.inbox.ledger) if receiver.catch_up_every else None
    clock = receiver.clock()
    body = {**state.as_dict(clock), **_catch_up(receiver.catch_up_every, caught)}
    if state.failing_since is not None:
        failing = (clock - state.failing_since).total_seconds()
        if failing >= FAILING_FOR:
            minutes = int(failing // 60)
            return _fault(f"delivery has been failing for {minutes} min: {state.last_error}", body)
    if caught is not None and failing_too_long(caught, receiver.catch_up_every, clock):
        return _fault(
            f"the API catch-up has been failing since {caught.failing_since}: {caught.error}", body
        )
    return 200, {"status": "ok", **body}


def _catch_up(every: float | None, caught: CatchUpState | None) -> dict[str, Any]:
    if every is None:
        return {"catch_up": None}
    last = caught.as_dict() if caught else {"at": None, "outcome": "not yet"}
    return {"catch_up": {"every_s": every, **last}}


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _fault(reason: str, extra: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    return 503, {"status": "unavailable", "reason": reason, **(extra or {})}
