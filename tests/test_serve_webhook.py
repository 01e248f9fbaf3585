"""A webhook body -> a CallRecord (or the 422 reason), the inbox's triage, the before-call
plan, and the run lock shared with a running server."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli import locks as shared
from ringodesk_cli.errors import BusyError
from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.locks import RunLock
from ringodesk_cli.ringostat.api_records import records_from_api
from ringodesk_cli.ringostat.records import CallRecord, Outcome
from ringodesk_cli.rules.planner import CONTACT, Policy, plan_before_call, plan_call
from ringodesk_cli.serve.inbox import Inbox
from ringodesk_cli.serve.webhook import NotACall, read_params, renamed, to_record

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ROW = {
    "uniqueid": "wh-1",
    "calldate": "2024-05-01 11:58:00",
    "call_type": "in",
    "disposition": "ANSWERED",
    "caller": "0671234567",
    "dst": "+380443334455",
    "billsec": "42",
    "duration": "50",
    "utm_source": "google",
}


def record(params: dict[str, str], event: str = "after") -> CallRecord:
    return to_record(params, event=event, timezone=KYIV, default_region="UA", received=NOW)


def test_json_and_form_bodies_make_the_record_the_api_reader_makes() -> None:
    from_api = next(iter(records_from_api([ROW], timezone=KYIV, default_region="UA")))
    assert isinstance(from_api, CallRecord)
    as_json = record(read_params(json.dumps({**ROW, "billsec": 42}).encode(), "application/json"))
    form = "&".join(f"{k}={v}" for k, v in ROW.items()).replace("+", "%2B")
    as_form = record(read_params(form.encode(), "application/x-www-form-urlencoded"))
    for rec in (as_json, as_form):
        assert rec.content_hash() == from_api.content_hash()
        assert rec.client_number == "+380671234567"
        assert rec.source == "ringostat-webhook:after"


def test_renamed_parameters_stand_for_calls_list_names() -> None:
    sent = {k: v for k, v in ROW.items() if k != "uniqueid"} | {"call_id": "wh-9"}
    params = renamed(sent, {"call_id": "uniqueid"})
    assert record(params).ringostat_id == "wh-9"
    # A renamed parameter wins over one sent under the calls/list name itself.
    assert renamed({"call_id": "a", "uniqueid": "b"}, {"call_id": "uniqueid"}) == {"uniqueid": "a"}


def test_a_before_event_is_in_progress_and_dated_when_it_arrived() -> None:
    params = {k: v for k, v in ROW.items() if k not in ("disposition", "calldate", "billsec")}
    rec = record(params, "before")
    assert rec.outcome is Outcome.IN_PROGRESS
    assert rec.started_at == NOW
    # Whatever the form sent as its status, the call still rings.
    assert record(ROW, "before").outcome is Outcome.IN_PROGRESS


@pytest.mark.parametrize(
    ("body", "kind", "reason"),
    [
        (b'{"uniqueid": ""}', "application/json", "uniqueid"),
        (json.dumps({**ROW, "calldate": "soon"}).encode(), "application/json", "calldate"),
        (json.dumps({**ROW, "billsec": {"a": 1}}).encode(), "application/json", "billsec"),
        (json.dumps([ROW]).encode(), "application/json", "not an object"),
        (b"{oops", "", "not valid JSON"),
        (b"\xff\xfe", "", "UTF-8"),
        (b"", "application/x-www-form-urlencoded", "no parameters"),
        (json.dumps({**ROW, "caller": ""}).encode(), "application/json", "caller"),
        # the same call lengths and dates as exports and the API
        (json.dumps({**ROW, "billsec": "inf"}).encode(), "application/json", "billsec: 'inf'"),
        (
            urlencode({**ROW, "billsec": "1e3"}).encode(),
            "application/x-www-form-urlencoded",
            "billsec: '1e3'",
        ),
        (json.dumps({**ROW, "duration": "1:-5"}).encode(), "application/json", "duration"),
        (json.dumps({**ROW, "billsec": 10**30}).encode(), "application/json", "billsec"),
        (json.dumps({**ROW, "billsec": float("inf")}).encode(), "application/json", "billsec"),
    ],
)
def test_a_body_that_is_not_a_call_says_why(body: bytes, kind: str, reason: str) -> None:
    with pytest.raises(NotACall, match=reason):
        record(read_params(body, kind))


def test_a_webhook_dated_more_than_a_day_after_it_arrived_is_not_a_call() -> None:
    # NOW is when the webhook arrived: the clock the check uses.
    ahead = (NOW + timedelta(days=1, minutes=1)).astimezone(KYIV).strftime("%Y-%m-%d %H:%M:%S")
    with pytest.raises(NotACall, match=f"calldate: '{ahead}' is more than a day ahead of now"):
        record({**ROW, "calldate": ahead})
    within = (NOW + timedelta(hours=23)).astimezone(KYIV).strftime("%Y-%m-%d %H:%M:%S")
    assert record({**ROW, "calldate": within}).ringostat_id == ROW["uniqueid"]


def test_an_unknown_event_is_not_a_call() -> None:
    with pytest.raises(NotACall, match="before, after"):
        record(ROW, "during")


# -- the inbox ----------------------------------------------------------------------------
def test_the_inbox_triages_like_sync_and_commits_each_webhook(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    inbox = Inbox(ledger)
    before = record(ROW, "before")
    assert inbox.store(before, before_step=True).outcome == "waiting"
    assert inbox.store(before, before_step=True).outcome == "waiting"
    assert inbox.before_pending() == 1
    after = record(ROW)
    stored = inbox.store(after)
    assert (stored.outcome, stored.to_deliver) == ("new", True)
    assert inbox.store(after).outcome == "queued"
    # Committed: another connection (another process) sees it at once.
    other = Ledger(tmp_path / "ledger.sqlite3", readonly=True)
    row = other.get_call("wh-1")
    assert row is not None and row.state is CallState.PENDING
    assert inbox.queue()[0] == 1
    ledger.set_call_state("wh-1", CallState.DELIVERED, delivered_hash=after.content_hash())
    assert inbox.store(after).outcome == "unchanged"
    assert inbox.store(record({**ROW, "billsec": "43"})).outcome == "changed"
    # A late before event of a delivered call changes nothing.
    assert inbox.store(before).outcome == "unchanged"
    other.close()
    ledger.close()


# -- the before-call plan -----------------------------------------------------------------
POLICY = Policy(senior_manager="900", department_id="100", task_deadline=timedelta(hours=4),
                employees={"anna_sip": "901"})  # fmt: skip


def test_the_before_plan_is_contact_and_ticket_of_the_senior_manager() -> None:
    rec = record(ROW, "before")
    plan = plan_before_call(rec, POLICY)
    assert plan.contact["ownerId"] == "900"
    assert plan.ticket is not None
    assert plan.ticket["assigneeId"] == "900"
    assert plan.ticket["contactId"] == CONTACT
    assert "[rs:wh-1]" in plan.ticket["subject"]
    assert plan.call == {} and plan.tasks == ()
    # The after event's plan has the same contact body apart from its owner.
    after = plan_call(record(ROW), POLICY)
    assert {k: v for k, v in after.contact.items() if k != "ownerId"} == {
        k: v for k, v in plan.contact.items() if k != "ownerId"
    }


def test_an_outbound_call_gets_no_ticket_before_it_either() -> None:
    rec = record({**ROW, "call_type": "out", "caller": "+380443334455", "dst": "0671234567"})
    assert plan_before_call(rec, POLICY).ticket is None


# -- the run lock beside a server ---------------------------------------------------------
def test_without_a_server_a_second_run_is_busy_at_once(tmp_path: Path) -> None:
    with RunLock(tmp_path, "sync"):
        started = time.monotonic()
        with pytest.raises(BusyError), shared.run_lock(tmp_path):
            pass
        assert time.monotonic() - started < 1


def test_beside_a_server_a_run_waits_for_the_batch_and_leaves_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RunLock(tmp_path, shared.SERVER_LOCK).acquire(timeout=0)
    batch = RunLock(tmp_path, shared.RUN_LOCK).acquire(timeout=0)
    seen: list[bool] = []

    def end_batch() -> None:
        # The worker sees the note, ends its batch and takes no new one.
        assert _wait(lambda: shared.someone_waiting(tmp_path))
        seen.append(True)
        batch.release()

    helper = threading.Thread(target=end_batch)
    helper.start()
    with shared.run_lock(tmp_path) as lock:
        assert lock.held
        assert not shared.someone_waiting(tmp_path)  # the note is gone once it runs
    helper.join()
    assert seen == [True]
    # The worker itself never waits: it is told busy and retries later.
    with (
        RunLock(tmp_path, shared.RUN_LOCK),
        pytest.raises(BusyError),
        shared.run_lock(tmp_path, wait_for_server=False),
    ):
        pass
    server.release()


def test_a_note_left_by_a_dead_run_is_ignored(tmp_path: Path) -> None:
    (tmp_path / shared.WAITING_NOTE).write_text("999999999\n")
    assert not shared.someone_waiting(tmp_path)
    (tmp_path / shared.WAITING_NOTE).write_text(f"{os.getpid()}\n")
    assert shared.someone_waiting(tmp_path)


def _wait(predicate: object, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False
