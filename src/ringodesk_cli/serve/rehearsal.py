"""A few calls arriving live: `ringodesk demo`'s last act.

Starts `serve` for the demo profile on a free 127.0.0.1 port (in a thread of this process),
sends a few new calls as Ringostat would (before and after events, ``sandbox/webhooks.py``),
waits until each has its call activity, and stops the server the way SIGTERM does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ringodesk_cli.serve.log_lines import LogFormat
from ringodesk_cli.serve.setup import set_up

if TYPE_CHECKING:
    from ringodesk_cli.session import Session

WAIT_SECONDS = 30.0
WORKER_STOP_SECONDS = 10.0


def live_calls(
    session: Session,
    delivered: Callable[[str], bool],
    *,
    count: int = 3,
    ringostat: Callable[[list[dict[str, str]]], None] | None = None,
) -> dict[str, Any]:
    """Sends ``count`` new calls as webhooks; ``delivered(id)`` tells whether a call has its
    activity in Zoho. ``ringostat``: puts calls into Ringostat's calls/list, where one more
    call, whose webhook is never sent, waits for the server's API catch-up. Returns what was
    sent, answered and delivered, and how long it took."""
    from ringodesk_cli.sandbox.webhooks import send, webhooks
    from ringodesk_cli.serve.server import serve

    set_up(session, public_url="http://127.0.0.1")
    stop = threading.Event()
    ready: list[str] = []
    lines: list[dict[str, Any]] = []
    thread = threading.Thread(
        target=serve,
        kwargs={
            "session": session,
            "host": "127.0.0.1",
            "port": 0,
            "stop": stop,
            "log": LogFormat(quiet=True),
            "lines": lines.append,
            # The demo's calls are all in Zoho by then: what a worker still does is not
            # worth waiting for (the ledger has every step).
            "worker_stop_seconds": WORKER_STOP_SECONDS,
            "on_ready": ready.append,
        },
        daemon=True,
    )
    thread.start()
    rows = _calls(session, count + 1)
    api_only = rows.pop()  # its webhook "got lost": only the catch-up brings it
    started = time.monotonic()
    try:
        _wait(lambda: bool(ready) or not thread.is_alive(), 10.0)
        if not ready:
            return {"error": "the server did not start", "webhooks": 0}
        key = str(session.credentials.get("webhook_secret"))
        result = send(webhooks(rows), f"{ready[0]}/ringostat/webhook?key={key}", workers=1)
        ids = [r["uniqueid"] for r in rows]
        _wait(lambda: all(delivered(i) for i in ids), WAIT_SECONDS)
        arrived = [i for i in ids if delivered(i)]
        seconds = round(time.monotonic() - started, 2)
        if ringostat is not None:
            # Ringostat's call log holds every call; the next catch-up sends only the one
            # no webhook brought (the others are delivered already).
            ringostat([*rows, api_only])
            _wait(lambda: delivered(api_only["uniqueid"]), WAIT_SECONDS)
    finally:
        stop.set()
        thread.join(WORKER_STOP_SECONDS + 30)
    return {
        "webhooks": result.sent,
        "answered_200": len(result.answered),
        "calls": len(rows),
        "delivered": len(arrived),
        "seconds": seconds,
        "catch_up": {"call": api_only["uniqueid"], "delivered": delivered(api_only["uniqueid"])}
        if ringostat is not None
        else None,
        "log": [line for line in lines if "event" in line],
    }


def _calls(session: Session, count: int) -> list[dict[str, str]]:
    zone = ZoneInfo(session.settings.get("ringostat.timezone"))
    now = datetime.now(UTC).astimezone(zone).replace(microsecond=0, tzinfo=None)
    rows = []
    for i in range(count):
        answered = i % 3 != 1
        rows.append(
            {
                "uniqueid": f"live-{now:%H%M%S}-{i}",
                "calldate": (now - timedelta(minutes=count - i)).strftime("%Y-%m-%d %H:%M:%S"),
                "call_type": "in",
                "disposition": "ANSWERED" if answered else "NO ANSWER",
                "caller": f"+3806755{now:%M%S}{i}",
                "dst": "+380443334455",
                "billsec": "64" if answered else "0",
                "duration": "75" if answered else "20",
                "connected_with": "anna_sip" if answered else "",
            }
        )
    return rows


def _wait(predicate: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
