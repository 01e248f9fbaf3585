"""The sandbox's calls/list stand-in: Auth-key, the cap, calls appearing as the clock moves,
JSON and CSV, unknown fields, the admin API, and the real client against it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from ringodesk_cli.errors import ExitCode
from ringodesk_cli.ringostat.api import RingostatAuthError, RingostatClient
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

KEY = "sandbox-ringostat-key"
KYIV = ZoneInfo("Europe/Kyiv")
# 2024-05-14 09:00:00 in Kyiv (+03).
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = start_sandbox(
        SandboxConfig(port=0, clock=lambda: T0, ringostat_timezone="Europe/Kyiv")
    )
    try:
        yield sandbox
    finally:
        sandbox.stop()


def call(uniqueid: str, calldate: str, **extra: Any) -> dict[str, Any]:
    return {
        "uniqueid": uniqueid,
        "calldate": calldate,
        "call_type": "in",
        "disposition": "ANSWERED",
        "caller": "0671234567",
        "dst": "+380443334455",
        "billsec": "42",
        **extra,
    }


def get(sb: Sandbox, key: str | None = KEY, **params: str) -> requests.Response:
    headers = {"Auth-key": key} if key is not None else {}
    query = {"from": "2024-05-14 00:00:00", "to": "2024-05-14 23:59:59", **params}
    return requests.get(f"{sb.url}/calls/list", params=query, headers=headers, timeout=5)


def ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [row["uniqueid"] for row in answer.json()]


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_a_missing_or_wrong_auth_key_is_refused_with_401(sb: Sandbox, key: str | None) -> None:
    sb.ringostat_add_calls([call("ua-1", "2024-05-14 08:00:00")])
    answer = get(sb, key, fields="uniqueid")
    assert answer.status_code == 401
    assert "ua-1" not in answer.text
    assert get(sb, fields="uniqueid").status_code == 200


def test_a_call_appears_only_once_the_clock_reaches_its_calldate(sb: Sandbox) -> None:
    sb.ringostat_add_calls(
        [call("ua-past", "2024-05-14 08:59:00"), call("ua-later", "2024-05-14 09:10:00")]
    )
    assert ids(get(sb, fields="uniqueid,calldate")) == ["ua-past"]
    sb.advance_time(11 * 60)
    assert ids(get(sb, fields="uniqueid,calldate")) == ["ua-past", "ua-later"]


def test_a_call_in_progress_can_be_completed_later(sb: Sandbox) -> None:
    sb.ringostat_add_calls([call("ua-1", "2024-05-14 08:58:00", disposition="IN PROGRESS")])
    before = get(sb, fields="uniqueid,disposition").json()
    sb.ringostat_update_call("ua-1", disposition="ANSWERED", billsec="65")
    after = get(sb, fields="uniqueid,disposition,billsec").json()
    assert before == [{"uniqueid": "ua-1", "disposition": "IN PROGRESS"}]
    assert after == [{"uniqueid": "ua-1", "disposition": "ANSWERED", "billsec": "65"}]


def test_from_and_to_are_inclusive_and_read_in_the_project_zone(sb: Sandbox) -> None:
    sb.ringostat_add_calls(
        [
            call("ua-a", "2024-05-14 08:00:00"),
            call("ua-b", "2024-05-14 08:30:00"),
            call("ua-c", "2024-05-14 08:30:01"),
        ]
    )
    window = {"from": "2024-05-14 08:00:00", "to": "2024-05-14 08:30:00"}
    assert ids(get(sb, fields="uniqueid", **window)) == ["ua-a", "ua-b"]


def test_without_from_the_window_is_the_last_24_hours(sb: Sandbox) -> None:
    sb.ringostat_add_calls(
        [call("ua-old", "2024-05-13 08:59:59"), call("ua-new", "2024-05-13 09:00:01")]
    )
    answer = requests.get(
        f"{sb.url}/calls/list", params={"fields": "uniqueid"}, headers={"Auth-key": KEY}, timeout=5
    )
    assert ids(answer) == ["ua-new"]


def test_at_most_cap_calls_are_answered_the_first_ones_by_calldate() -> None:
    sandbox = start_sandbox(SandboxConfig(port=0, clock=lambda: T0, ringostat_cap=5))
    try:
        # Added out of order: the cap keeps the earliest calls, not the first added.
        sandbox.ringostat_add_calls(
            [call(f"ua-{i}", f"2024-05-14 05:{i:02d}:00") for i in reversed(range(8))]
        )
        assert ids(get(sandbox, fields="uniqueid")) == [f"ua-{i}" for i in range(5)]
    finally:
        sandbox.stop()


def test_csv_answers_are_semicolon_separated_with_a_header_of_field_names(sb: Sandbox) -> None:
    sb.ringostat_add_calls([call("ua-1", "2024-05-14 08:00:00", utm_source="a;b")])
    answer = get(sb, fields="uniqueid,calldate,utm_source", export_type="csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text), delimiter=";"))
    assert rows == [["uniqueid", "calldate", "utm_source"], ["ua-1", "2024-05-14 08:00:00", "a;b"]]


def test_an_unknown_field_is_answered_with_incorrect_field(sb: Sandbox) -> None:
    answer = get(sb, fields="uniqueid,utm_kampaign")
    assert answer.status_code == 400
    assert "incorrect field: utm_kampaign" in answer.text


def test_a_bad_date_or_export_type_is_refused(sb: Sandbox) -> None:
    assert get(sb, fields="uniqueid", **{"from": "14.05.2024"}).status_code == 400
    assert get(sb, fields="uniqueid", export_type="xml").status_code == 400


def test_admin_api_adds_updates_lists_and_injects_failures(sb: Sandbox) -> None:
    admin = f"{sb.url}/__sandbox__/ringostat"
    added = requests.post(
        f"{admin}/calls", json={"calls": [call("ua-1", "2024-05-14 09:05:00")]}, timeout=5
    )
    assert added.status_code == 200
    listed = requests.get(f"{admin}/calls", timeout=5).json()["data"]
    assert [(c["uniqueid"], c["visible"]) for c in listed] == [("ua-1", False)]
    requests.post(f"{sb.url}/__sandbox__/time", json={"advance": 600}, timeout=5)
    update = {"uniqueid": "ua-1", "fields": {"disposition": "NO ANSWER"}}
    assert requests.post(f"{admin}/calls/update", json=update, timeout=5).status_code == 200
    missing = {"uniqueid": "ua-404", "fields": {"disposition": "NO ANSWER"}}
    assert requests.post(f"{admin}/calls/update", json=missing, timeout=5).status_code == 404
    assert get(sb, fields="uniqueid,disposition").json() == [
        {"uniqueid": "ua-1", "disposition": "NO ANSWER"}
    ]
    requests.post(f"{admin}/limits", json={"fail_next": 1}, timeout=5)
    assert get(sb, fields="uniqueid").status_code == 500
    assert get(sb, fields="uniqueid").status_code == 200
    bad = requests.post(f"{admin}/calls", json={"calls": [{"uniqueid": "x"}]}, timeout=5)
    assert bad.status_code == 400


def test_client_knows_the_ringostat_key_and_url(sb: Sandbox) -> None:
    info = requests.get(f"{sb.url}/__sandbox__/client", timeout=5).json()
    assert info["ringostat_key"] == KEY
    assert info["ringostat_api_url"] == sb.url


def test_requests_are_counted_without_the_key(sb: Sandbox) -> None:
    get(sb, fields="uniqueid")
    assert sb.request_counts()["GET /calls/list"] == 1
    assert KEY not in str(sb.request_log())


def test_reset_and_state_file_keep_or_clear_the_call_log(sb: Sandbox) -> None:
    sb.ringostat_add_calls([call("ua-1", "2024-05-14 08:00:00")])
    state = sb.dump_state()
    sb.reset()
    assert sb.ringostat.calls() == []
    sb.load_state(state)
    assert [c["uniqueid"] for c in sb.ringostat.calls()] == ["ua-1"]


def test_the_real_client_fetches_every_call_once_through_a_low_cap(sb: Sandbox) -> None:
    requests.post(f"{sb.url}/__sandbox__/ringostat/limits", json={"cap": 4}, timeout=5)
    calls = [call(f"ua-{i:02d}", f"2024-05-14 0{i // 6}:{(i % 6) * 10:02d}:00") for i in range(30)]
    sb.ringostat_add_calls(calls)
    client = RingostatClient(sb.url, KEY, cap=4, sleep=lambda _s: None)
    start = datetime(2024, 5, 14, 0, 0, tzinfo=KYIV)
    rows = list(client.fetch(start, start + timedelta(hours=9), ["calldate"], KYIV))
    assert sorted(r["uniqueid"] for r in rows) == [c["uniqueid"] for c in calls]
    assert client.stats["splits"] > 0


def test_the_real_client_gets_an_auth_error_for_a_wrong_key(sb: Sandbox) -> None:
    client = RingostatClient(sb.url, "not-the-key", sleep=lambda _s: None)
    with pytest.raises(RingostatAuthError) as caught:
        client.check_key(KYIV)
    assert caught.value.exit_code == ExitCode.AUTH


def test_sandbox_calls_list_over_a_moving_clock_shows_each_call_in_overlapping_windows(
    sb: Sandbox,
) -> None:
    """The sandbox's calls/list stand-in, not the product: over a moving clock, windows that
    overlap by 15 minutes show every call, and an IN PROGRESS call completed later shows
    again. The windows and the "seen" bookkeeping are this test's own; the product's cron
    sequence (its window, its ledger) is tested in test_sync_api_e2e.py
    (test_cron_sequence_over_a_moving_clock_delivers_every_call_once)."""
    from ringodesk_cli.ringostat.api import fields_for
    from ringodesk_cli.ringostat.api_records import records_from_api
    from ringodesk_cli.ringostat.records import CallRecord, Outcome

    calls = [call(f"ua-{i}", f"2024-05-14 09:{i * 3:02d}:00") for i in range(15)]
    calls[4]["disposition"] = "IN PROGRESS"
    sb.ringostat_add_calls(calls)
    client = RingostatClient(sb.url, KEY, sleep=lambda _s: None)
    delivered: list[str] = []
    last_fetch = datetime.fromtimestamp(sb.now(), UTC) - timedelta(hours=1)
    for run in range(10):
        if run == 6:
            sb.ringostat_update_call("ua-4", disposition="ANSWERED")
        now = datetime.fromtimestamp(sb.now(), UTC)
        rows = client.fetch(last_fetch - timedelta(minutes=15), now, fields_for([]), KYIV)
        for record in records_from_api(rows, timezone=KYIV, default_region="UA"):
            assert isinstance(record, CallRecord)
            if record.outcome is Outcome.IN_PROGRESS or record.ringostat_id in delivered:
                continue
            delivered.append(record.ringostat_id)
        last_fetch = now
        sb.advance_time(5 * 60)
    assert sorted(delivered) == sorted(c["uniqueid"] for c in calls)
    # Completed at run 6, still inside the 15-minute overlap: delivered after ua-8 (run 5).
    assert delivered.index("ua-4") > delivered.index("ua-8")
