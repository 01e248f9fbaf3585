"""The server's delivery worker, run in this process against the sandbox: it delivers what
the receiver stored through the one engine (routes resolved), pauses with a growing back-off
while Zoho refuses (never a tight loop, whatever keeps arriving), notes since when delivery
fails, gives the run lock to a waiting cron `sync`, stops when its server is gone, and never
sends a number's later calls after its first one could not make the contact."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import pytest
from e2e import Call, Desk, ago, by_marker
from file_keyring import FileKeyring
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli import locks as run_lock
from ringodesk_cli.config.settings import Paths
from ringodesk_cli.ledger.store import LEDGER_FILE, CallState, Ledger
from ringodesk_cli.ringostat.records import CallRecord
from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.replies import Reply
from ringodesk_cli.serve import worker as worker_module
from ringodesk_cli.serve.inbox import FAILING_SINCE, LAST_ERROR, Inbox
from ringodesk_cli.serve.webhook import to_record
from ringodesk_cli.session import Session

SALES_NUMBER = "+380445551000"


class Ticks(threading.Event):
    """A stop flag that sets itself after ``n`` waits: the loop runs ``n`` turns."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def wait(self, timeout: float | None = None) -> bool:
        self.left -= 1
        if self.left <= 0:
            self.set()
        return self.is_set()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Live:
    """A profile on the sandbox, the receiver's inbox and a worker over the same ledger."""

    def __init__(self, sb: Sandbox, desk: Desk) -> None:
        self.sb = sb
        self.session = Session.open("default", Paths.discover())
        state = self.session.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self.received = Ledger(state / LEDGER_FILE)  # the receiver's own connection
        self.inbox = Inbox(self.received, receiving=True)
        self.ledger = Ledger(state / LEDGER_FILE)
        self.lines: list[dict[str, Any]] = []
        self.clock = Clock()

    def worker(self, stop: threading.Event | None = None, **kw: Any) -> worker_module.Worker:
        """A worker; ``once`` it (its stream ends when idle), or ``run`` it with ``Ticks``."""
        return worker_module.Worker(
            self.session, self.ledger, log=self.lines.append, before_call=False,
            stop=stop or threading.Event(), **kw,
        )  # fmt: skip

    def store(self, call: Call) -> CallRecord:
        record = to_record(
            call.row(), event="after", timezone=self.session_zone(), default_region="UA",
            received=datetime.now(UTC),
        )  # fmt: skip
        assert self.inbox.store(record).to_deliver
        return record

    def session_zone(self) -> Any:
        from zoneinfo import ZoneInfo

        return ZoneInfo(str(self.session.settings.get("ringostat.timezone")))

    def writes(self) -> int:
        return sum(
            v for k, v in self.sb.request_counts().items() if k.startswith(("POST", "PATCH"))
        )

    def close(self) -> None:
        self.ledger.close()
        self.received.close()


@pytest.fixture(autouse=True)
def quick_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "IDLE_RELEASE", 0.1)


@pytest.fixture
def live(
    sandbox: Sandbox,  # noqa: F811
    subprocess_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Live]:
    desk = Desk(sandbox, subprocess_env, tmp_path)
    path_settings = {"integration.language": "en"}
    desk.setup(settings=path_settings)
    config = Paths.discover().config_file("default")
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[routing]]\ndst = "+38 (044) 555-10-00"\ndepartment = "Sales"\n'
        'senior_manager = "iryna@sandbox.example"\n',
        encoding="utf-8",
    )
    # The profile's secrets are where the subprocess put them (the test keyring file).
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "file_keyring.FileKeyring")
    keyring.set_keyring(FileKeyring())
    one = Live(sandbox, desk)
    yield one
    one.close()


class Routed(Call):
    def row(self) -> dict[str, str]:
        return {**super().row(), "dst": SALES_NUMBER}


def test_a_stream_delivers_stored_calls_with_the_routes_resolved(live: Live) -> None:
    live.store(Routed("w-1", "+380671120001", when=ago(5), disposition="NO ANSWER"))
    live.store(Call("w-2", "+380671120002", when=ago(4), sip="anna_sip"))
    live.worker().once()
    sales = next(str(d["id"]) for d in live.sb.records("departments") if d["name"] == "Sales")
    (ticket,) = by_marker(live.sb.records("tickets"), "w-1")
    (task,) = by_marker(live.sb.records("tasks"), "w-1")
    assert ticket["departmentId"] == sales and task["departmentId"] == sales
    assert len(by_marker(live.sb.records("calls"), "w-2")) == 1
    assert live.ledger.counts() == {CallState.DELIVERED: 2}
    assert live.lines[-1]["worker"] == "stream" and live.lines[-1]["delivered"] == 2


def test_while_zoho_refuses_the_worker_backs_off_whatever_arrives(live: Live) -> None:
    live.store(Call("b-1", "+380671130001", when=ago(9)))
    live.sb.revoke_all_tokens()
    worker = live.worker(stop=Ticks(50), monotonic=live.clock)
    worker.run()  # one stream fails, then 49 turns within the pause
    asked = dict(live.sb.request_counts())
    assert worker.backoff == 1.0
    assert live.ledger.meta(FAILING_SINCE) and "token" in str(live.ledger.meta(LAST_ERROR))
    for n in range(5):  # webhooks keep coming: no stream before the pause ends
        live.store(Call(f"b-{n + 2}", "+380671130002", when=ago(8 - n)))
        worker.stop = Ticks(20)
        worker.run()
    assert dict(live.sb.request_counts()) == asked
    live.clock.now += 1.0  # the pause is over: one more try, and a longer pause
    worker.stop = Ticks(20)
    worker.run()
    assert worker.backoff == 2.0
    assert [line["retry_in_s"] for line in live.lines if line.get("worker") == "error"] == [1, 2]


def test_delivery_resumes_and_the_failure_is_forgotten_when_zoho_answers_again(
    live: Live,
) -> None:
    live.store(Call("r-1", "+380671140001", when=ago(9)))
    live.ledger.set_meta(FAILING_SINCE, "2026-01-01T00:00:00+00:00")
    worker = live.worker()
    worker.backoff = 8.0
    worker.once()
    assert worker.backoff == 0.0
    assert live.ledger.meta(FAILING_SINCE) == ""
    assert len(by_marker(live.sb.records("calls"), "r-1")) == 1


def test_a_number_whose_first_call_made_no_contact_sends_no_later_call(live: Live) -> None:
    refused = "+380671150001"
    original = live.sb.handle_desk
    sent: list[str] = []

    def refuse_contact(method: str, path: str, params: Any, headers: Any, raw: bytes) -> Any:
        if refused.encode() in raw:
            sent.append(f"{method} {path}")
        if method == "POST" and path.endswith("/contacts") and refused.encode() in raw:
            return Reply(422, {"errorCode": "INVALID_DATA", "message": "phone is refused"})
        return original(method, path, params, headers, raw)

    live.sb.handle_desk = refuse_contact  # type: ignore[method-assign]
    live.store(Call("n-1", refused, when=ago(9)))
    live.store(Call("n-2", refused, when=ago(8)))
    live.store(Call("n-3", refused, when=ago(7)))
    live.store(Call("n-4", "+380671150002", when=ago(6)))
    live.worker().once()
    rows = {rid: live.ledger.get_call(rid) for rid in ("n-1", "n-2", "n-3", "n-4")}
    states = {rid: row.state if row else None for rid, row in rows.items()}
    assert states == {
        "n-1": CallState.FAILED,
        "n-2": CallState.PENDING,
        "n-3": CallState.PENDING,
        "n-4": CallState.DELIVERED,
    }
    assert sent == ["POST /api/v1/contacts"]  # n-1's only: n-2 and n-3 wait for the next
    assert len(by_marker(live.sb.records("calls"), "n-4")) == 1


def test_a_waiting_cron_sync_gets_the_lock(live: Live) -> None:
    note = live.session.state_dir / run_lock.WAITING_NOTE
    note.write_text(f"{os.getpid()}\n", encoding="ascii")
    live.store(Call("c-1", "+380671160001", when=ago(9)))
    before = live.writes()  # the set-up's own (fields)
    live.worker(stop=Ticks(10)).run()
    assert live.writes() == before  # no stream while a sync waits
    with run_lock.run_lock(live.session.state_dir, wait_for_server=False):
        pass  # and the lock is free
    note.unlink()
    live.worker().once()
    assert len(by_marker(live.sb.records("calls"), "c-1")) == 1


def test_an_orphaned_worker_stops_and_sends_nothing(live: Live) -> None:
    live.store(Call("o-1", "+380671170001", when=ago(9)))
    before = live.writes()
    worker = live.worker(stop=threading.Event(), alive=lambda: False)
    worker.run()  # returns at once: its server is gone
    assert live.writes() == before
    assert live.ledger.counts() == {CallState.PENDING: 1}


def test_a_stream_under_way_ends_when_a_cron_sync_waits(live: Live) -> None:
    live.sb.set_faults(latency_ms=150)
    for n in range(3):
        live.store(Call(f"s-{n}", f"+38067118000{n}", when=ago(20 - n)))
    done = threading.Event()
    thread = threading.Thread(target=lambda: (live.worker().once(), done.set()))
    thread.start()
    while not by_marker(live.sb.records("calls"), "s-0"):  # the stream is under way
        assert thread.is_alive()
        time.sleep(0.01)
    note = live.session.state_dir / run_lock.WAITING_NOTE
    note.write_text(f"{os.getpid()}\n", encoding="ascii")
    time.sleep(0.2)  # a turn of the stream that began before the note has taken its calls
    for n in range(3, 6):  # stored after the note: for the sync, not for this stream
        live.store(Call(f"s-{n}", f"+38067118000{n}", when=ago(20 - n)))
    assert done.wait(10)
    thread.join()
    later = {f"s-{n}": live.ledger.get_call(f"s-{n}") for n in range(3, 6)}
    assert {rid: row.state if row else None for rid, row in later.items()} == {
        f"s-{n}": CallState.PENDING for n in range(3, 6)
    }
    with run_lock.run_lock(live.session.state_dir, wait_for_server=False):
        pass  # the lock was given back


def test_a_call_left_pending_by_a_lost_answer_pauses_the_worker(live: Live) -> None:
    """A create without an answer leaves its call pending (reconciled next time) without
    stopping the stream: the worker still pauses before the next one."""
    from e2e import drop_after_write

    restore = drop_after_write(live.sb, "/api/v1/calls", times=1)
    live.store(Call("p-1", "+380671190001", when=ago(9)))
    worker = live.worker()
    worker.once()
    restore()
    assert live.ledger.counts() == {CallState.PENDING: 1}
    assert worker.backoff == 1.0
    assert live.lines[-1] == {
        "worker": "error",
        "error": "1 call(s) left pending",
        "retry_in_s": 1.0,
    }
    worker.once()  # the pause is the loop's to keep; the next stream reconciles, once
    assert live.ledger.counts() == {CallState.DELIVERED: 1}
    assert len(by_marker(live.sb.records("calls"), "p-1")) == 1
    assert worker.backoff == 0.0
