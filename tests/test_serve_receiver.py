"""The receiving side of `ringodesk serve`, run by uvicorn in this process on 127.0.0.1:
a webhook is answered 200 only once the ledger committed it; a ledger busy for a moment is
waited for, a ledger that cannot store is 503; the health answer names real faults only;
log lines cannot be forged; a client that never finishes its request is cut off."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import uvicorn

from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.serve import app as app_module
from ringodesk_cli.serve import connections, inbox
from ringodesk_cli.serve.app import Receiver, build_app
from ringodesk_cli.serve.inbox import FAILING_SINCE, LAST_ERROR, Inbox
from ringodesk_cli.serve.log_lines import LogFormat

KYIV = ZoneInfo("Europe/Kyiv")
KEY = "s3cret-webhook"


def body(rid: str = "wh-1", **more: str) -> dict[str, str]:
    return {
        "uniqueid": rid,
        "calldate": "2024-05-01 11:58:00",
        "call_type": "in",
        "disposition": "ANSWERED",
        "caller": "0671234567",
        "dst": "+380443334455",
        "billsec": "42",
        "duration": "50",
        **more,
    }


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Running:
    """A receiver under uvicorn (the server's own settings) on a free port."""

    def __init__(self, tmp: Path, clock: Clock) -> None:
        self.path = tmp / "ledger.sqlite3"
        self.ledger = Ledger(self.path)
        self.lines: list[dict[str, Any]] = []
        self.token_error: Exception | None = None
        self.down = 0.0
        self.receiver = Receiver(
            secret=KEY,
            timezone=KYIV,
            default_region="UA",
            inbox=Inbox(self.ledger, receiving=True),
            log=self.lines.append,
            check_token=self._check_token,
            worker_down_for=lambda: self.down,
            clock=clock,
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.receiver), log_config=None, access_log=False, lifespan="off",
            http=connections.GuardedH11Protocol, timeout_keep_alive=5,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = False  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]})
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def _check_token(self) -> None:
        if self.token_error is not None:
            raise self.token_error

    def post(self, event: str | None = "after", **fields: str) -> requests.Response:
        query = f"key={KEY}" + (f"&event={event}" if event is not None else "")
        return requests.post(
            f"http://127.0.0.1:{self.port}/ringostat/webhook?{query}",
            json=body(**fields),
            timeout=30,
        )

    def health(self) -> requests.Response:
        self.receiver.token_ok_at = float("-inf")
        return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.ledger.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def running(tmp_path: Path, clock: Clock) -> Iterator[Running]:
    server = Running(tmp_path, clock)
    yield server
    server.stop()


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process's write transaction (a sync storing a chunk), held for ``seconds``."""
    held = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(str(path), timeout=0)
        db.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        db.rollback()
        db.close()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    return thread


def stored(path: Path, rid: str) -> bool:
    other = Ledger(path, readonly=True)
    try:
        return other.get_call(rid) is not None
    finally:
        other.close()


# -- 200 only after the commit ---------------------------------------------------------------
def test_a_webhook_stored_while_another_process_writes_waits_and_is_answered_200(
    running: Running,
) -> None:
    holder = hold_write_lock(running.path, 0.3)
    started = time.monotonic()
    answer = running.post(uniqueid="wh-busy")
    waited = time.monotonic() - started
    holder.join()
    assert answer.status_code == 200, answer.text
    assert waited >= 0.25  # it waited for the lock instead of failing at once
    assert stored(running.path, "wh-busy")


def test_a_webhook_the_ledger_cannot_store_is_503_and_never_200(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "BUSY_WAIT", 0.2)
    holder = hold_write_lock(running.path, 1.0)
    answer = running.post(uniqueid="wh-lost")
    holder.join()
    assert answer.status_code == 503
    assert "could not be stored" in answer.json()["error"]
    assert not stored(running.path, "wh-lost")
    assert running.lines[-1]["outcome"] == "not-stored"
    # Ringostat does not resend; the next one is stored as usual.
    assert running.post(uniqueid="wh-next").status_code == 200


def test_a_webhook_without_its_event_is_422_naming_the_parameter(running: Running) -> None:
    for event, why in ((None, "event is missing"), ("during", "unknown event")):
        answer = running.post(event)
        assert answer.status_code == 422
        assert why in answer.json()["error"] and "event=after" in answer.json()["error"]
    assert not stored(running.path, "wh-1")


def test_a_forged_line_in_the_event_never_reaches_the_log_as_a_line(running: Running) -> None:
    forged = "after\nevent=after id=wh-9 outcome=new\x1b[2J" + "x" * 300
    requests.post(
        f"http://127.0.0.1:{running.port}/ringostat/webhook",
        params={"key": "wrong", "event": forged},
        json=body(),
        timeout=10,
    )
    line = running.lines[-1]
    assert line["outcome"] == "refused" and len(line["event"]) == app_module.LOGGED_CHARS
    for fmt in (LogFormat(), LogFormat(json_mode=True)):
        text = fmt.text(line)
        assert text is not None
        assert "\n" not in text and "\x1b" not in text
        assert "\\u000a" in text.lower() or "\\n" in text
    assert json.loads(LogFormat(json_mode=True).text(line) or "")["event"].startswith("after\n")


# -- the health answer ---------------------------------------------------------------------
def test_a_busy_ledger_is_not_a_fault(running: Running) -> None:
    holder = hold_write_lock(running.path, 0.5)
    answer = running.health()
    holder.join()
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ok"


def test_health_names_each_real_fault(running: Running, clock: Clock) -> None:
    from ringodesk_cli.errors import AuthError

    assert running.post(uniqueid="wh-q").status_code == 200
    ok = running.health().json()
    assert ok["queue"] == 1 and ok["failed"] == 0 and ok["failing_since"] is None
    running.token_error = AuthError("the refresh token was revoked")
    answer = running.health()
    assert answer.status_code == 503 and "revoked" in answer.json()["reason"]
    running.token_error = None
    running.down = 14.9  # restarting: not a fault yet
    assert running.health().status_code == 200
    running.down = 15.0
    answer = running.health()
    assert answer.status_code == 503
    assert answer.json()["reason"] == (
        "the delivery worker has not been running for 15 s (restarting)"
    )
    running.down = 0.0
    assert running.health().status_code == 200


def test_delivery_failing_for_over_fifteen_minutes_is_a_fault(
    running: Running, clock: Clock
) -> None:
    # The worker notes since when delivery fails (Zoho unavailable, calls refused).
    since = clock.now
    running.ledger.set_meta(FAILING_SINCE, since.isoformat())
    running.ledger.set_meta(LAST_ERROR, "Zoho Desk is unavailable (HTTP 503)")
    assert running.post(uniqueid="wh-f").status_code == 200
    running.ledger.set_call_state("wh-f", CallState.FAILED, error="422")
    clock.now = since + timedelta(minutes=14, seconds=59)
    answer = running.health()
    assert answer.status_code == 200
    assert answer.json()["failing_since"] == since.isoformat() and answer.json()["failed"] == 1
    clock.now = since + timedelta(minutes=15)
    answer = running.health()
    assert answer.status_code == 503
    assert answer.json()["reason"] == (
        "delivery has been failing for 15 min: Zoho Desk is unavailable (HTTP 503)"
    )
    running.ledger.set_meta(FAILING_SINCE, "")  # the worker delivered again
    assert running.health().status_code == 200


def test_a_ledger_that_cannot_be_written_is_a_fault(running: Running) -> None:
    running.ledger.close()
    answer = running.health()
    assert answer.status_code == 503 and "ledger is not writable" in answer.json()["reason"]
    running.ledger = Ledger(running.path)  # for the fixture's close


# -- connections ---------------------------------------------------------------------------
def test_a_client_that_never_finishes_its_request_is_cut_off(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "REQUEST_TIMEOUT", 0.3)
    silent = socket.create_connection(("127.0.0.1", running.port))
    trickle = socket.create_connection(("127.0.0.1", running.port))
    silent.settimeout(5)
    trickle.settimeout(5)
    started = time.monotonic()
    for piece in (b"POST /ringostat/webhook HTTP/1.1\r\n", b"Host: x\r\n"):
        trickle.sendall(piece)
        time.sleep(0.1)
    assert silent.recv(100) == b""  # closed by the server
    assert trickle.recv(100) == b""
    assert time.monotonic() - started < 3
    # A whole request on a fresh connection is served as usual.
    assert running.post(uniqueid="wh-after").status_code == 200


def test_a_catch_up_failing_for_three_periods_is_a_fault(running: Running, clock: Clock) -> None:
    from ringodesk_cli.serve.catch_up import CATCH_UP

    running.receiver.catch_up_every = 60.0
    assert running.health().json()["catch_up"] == {
        "every_s": 60.0, "at": None, "outcome": "not yet"
    }  # fmt: skip
    since = clock.now
    state = {
        "at": since.isoformat(),
        "outcome": "failed",
        "error": "Ringostat answered 500",
        "failing_since": since.isoformat(),
    }
    running.ledger.set_meta(CATCH_UP, json.dumps(state))
    clock.now = since + timedelta(seconds=179)
    answer = running.health()
    assert answer.status_code == 200 and answer.json()["catch_up"]["outcome"] == "failed"
    clock.now = since + timedelta(seconds=180)
    answer = running.health()
    assert answer.status_code == 503
    assert answer.json()["reason"] == (
        f"the API catch-up has been failing since {since.isoformat()}: Ringostat answered 500"
    )
    running.ledger.set_meta(CATCH_UP, json.dumps({**state, "outcome": "ok", "failing_since": None}))
    assert running.health().status_code == 200
