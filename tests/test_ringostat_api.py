"""RingostatClient (calls/list) against requests-mock: slices, splits, dedupe, errors, retries,
CSV; and records_from_api against the file reader."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from ringodesk_cli.errors import AuthError, ConfigError, ExitCode
from ringodesk_cli.ringostat.api import (
    REQUIRED_FIELDS,
    RingostatAnswerError,
    RingostatAuthError,
    RingostatClient,
    RingostatFieldError,
    RingostatUnavailableError,
    TooManyCallsError,
    fields_for,
    parse_calls,
)
from ringodesk_cli.ringostat.api_records import records_from_api
from ringodesk_cli.ringostat.exports import read_export
from ringodesk_cli.ringostat.records import BadRow, CallRecord

ROOT = "http://127.0.0.1:8811"
URL = ROOT + "/calls/list"
KEY = "rs-KEY-9f8e7d6c5b4a"
KYIV = ZoneInfo("Europe/Kyiv")
UTC_ZONE = ZoneInfo("UTC")
FMT = "%Y-%m-%d %H:%M:%S"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class FakeCallLog:
    """A calls/list that filters by calldate (from <= calldate <= to, local strings) and
    answers at most ``cap`` calls, the first ones by calldate."""

    def __init__(self, calls: list[dict[str, Any]], cap: int = 6500) -> None:
        self.calls = calls
        self.cap = cap
        self.windows: list[tuple[str, str]] = []

    def __call__(self, request: Any, context: Any) -> str:
        query = parse_qs(urlsplit(request.url).query)
        lo, hi = query["from"][0], query["to"][0]
        self.windows.append((lo, hi))
        fields = query["fields"][0].split(",")
        found = sorted(
            (c for c in self.calls if lo <= c["calldate"] <= hi), key=lambda c: c["calldate"]
        )
        return json.dumps([{f: c.get(f, "") for f in fields} for c in found[: self.cap]])


def call(uniqueid: str, calldate: str, **extra: Any) -> dict[str, Any]:
    row = {
        "uniqueid": uniqueid,
        "calldate": calldate,
        "call_type": "in",
        "disposition": "ANSWERED",
        "caller": "0671234567",
        "dst": "+380443334455",
        "billsec": "42",
        "duration": "50",
    }
    row.update(extra)
    return row


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client(sleeps: Sleeps, **kwargs: Any) -> RingostatClient:
    return RingostatClient(ROOT, KEY, sleep=sleeps, rng=lambda: 1.0, **kwargs)


def window(start: str, end: str, zone: ZoneInfo = KYIV) -> tuple[datetime, datetime]:
    return (
        datetime.strptime(start, FMT).replace(tzinfo=zone),
        datetime.strptime(end, FMT).replace(tzinfo=zone),
    )


# ------------------------------------------------------------------------ requests


def test_request_carries_auth_key_header_json_type_local_times_and_fields(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(URL, text="[]")
    start = datetime(2024, 5, 14, 6, 0, tzinfo=UTC)
    rows = list(client(sleeps).fetch(start, start + timedelta(hours=1), ["calldate"], KYIV))
    assert rows == []
    sent = requests_mock.last_request
    assert sent.headers["Auth-key"] == KEY
    query = parse_qs(urlsplit(sent.url).query)
    assert query["export_type"] == ["json"]
    # 06:00 UTC is 09:00 in Kyiv (summer, +03): calldate's zone is the profile's.
    assert query["from"] == ["2024-05-14 09:00:00"]
    assert query["to"] == ["2024-05-14 10:00:00"]
    assert query["fields"] == ["uniqueid,calldate"]
    assert KEY not in sent.url


def test_window_is_walked_in_six_hour_slices_sharing_their_borders(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    log = FakeCallLog([call(f"ua-{h}", f"2024-05-14 {h:02d}:30:00") for h in range(24)])
    requests_mock.get(URL, text=log)
    start, end = window("2024-05-14 00:00:00", "2024-05-15 00:00:00")
    rs = client(sleeps)
    rows = list(rs.fetch(start, end, REQUIRED_FIELDS, KYIV))
    assert [r["uniqueid"] for r in rows] == [f"ua-{h}" for h in range(24)]
    assert log.windows == [
        ("2024-05-14 00:00:00", "2024-05-14 06:00:00"),
        ("2024-05-14 06:00:00", "2024-05-14 12:00:00"),
        ("2024-05-14 12:00:00", "2024-05-14 18:00:00"),
        ("2024-05-14 18:00:00", "2024-05-15 00:00:00"),
    ]
    assert rs.stats["requests"] == 4
    assert rs.stats["calls"] == 24


def test_a_full_slice_is_split_and_asked_again_so_no_call_is_cut_off(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    calls = [call(f"ua-{i}", f"2024-05-14 10:{i:02d}:00") for i in range(12)]
    log = FakeCallLog(calls, cap=5)
    requests_mock.get(URL, text=log)
    start, end = window("2024-05-14 09:00:00", "2024-05-14 15:00:00")
    rs = client(sleeps, cap=5)
    rows = list(rs.fetch(start, end, ["calldate"], KYIV))
    assert sorted(r["uniqueid"] for r in rows) == sorted(c["uniqueid"] for c in calls)
    assert len(rows) == 12
    assert rs.stats["splits"] >= 2
    assert log.windows[0] == ("2024-05-14 09:00:00", "2024-05-14 15:00:00")
    assert log.windows[1] == ("2024-05-14 09:00:00", "2024-05-14 12:00:00")


def test_a_call_on_a_slice_border_is_yielded_once(sleeps: Sleeps, requests_mock: Any) -> None:
    log = FakeCallLog(
        [call("ua-border", "2024-05-14 06:00:00"), call("ua-x", "2024-05-14 07:00:00")]
    )
    requests_mock.get(URL, text=log)
    start, end = window("2024-05-14 00:00:00", "2024-05-14 12:00:00")
    rs = client(sleeps)
    rows = list(rs.fetch(start, end, ["calldate"], KYIV))
    assert [r["uniqueid"] for r in rows] == ["ua-border", "ua-x"]
    assert rs.stats["duplicates"] == 1


def test_a_slice_still_full_at_one_second_fails_instead_of_cutting_calls(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    log = FakeCallLog([call(f"ua-{i}", "2024-05-14 10:00:00") for i in range(6)], cap=5)
    requests_mock.get(URL, text=log)
    start, end = window("2024-05-14 09:00:00", "2024-05-14 11:00:00")
    with pytest.raises(TooManyCallsError) as caught:
        list(client(sleeps, cap=5).fetch(start, end, ["calldate"], KYIV))
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "cannot be split" in str(caught.value)


def test_fractional_window_ends_are_widened_to_whole_seconds(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(URL, text="[]")
    start = datetime(2024, 5, 14, 6, 0, 0, 500_000, tzinfo=UTC)
    end = datetime(2024, 5, 14, 6, 10, 0, 200_000, tzinfo=UTC)
    list(client(sleeps).fetch(start, end, [], UTC_ZONE))
    query = parse_qs(urlsplit(requests_mock.last_request.url).query)
    assert (query["from"][0], query["to"][0]) == ("2024-05-14 06:00:00", "2024-05-14 06:10:01")


def test_slice_in_the_repeated_dst_hour_sends_from_before_to(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(URL, text="[]")
    # Kyiv, 2024-10-27: 04:00 (+03) falls back to 03:00 (+02). 00:50 UTC = 03:50 local (first),
    # 01:10 UTC = 03:10 local (second occurrence).
    start = datetime(2024, 10, 27, 0, 50, tzinfo=UTC)
    end = datetime(2024, 10, 27, 1, 10, tzinfo=UTC)
    list(client(sleeps).fetch(start, end, [], KYIV))
    query = parse_qs(urlsplit(requests_mock.last_request.url).query)
    assert (query["from"][0], query["to"][0]) == ("2024-10-27 03:10:00", "2024-10-27 03:50:00")


def test_check_key_asks_for_the_last_five_minutes_of_uniqueid_only(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(URL, text="[]")
    now = datetime(2024, 5, 14, 7, 0, 30, tzinfo=UTC)
    client(sleeps, clock=lambda: now).check_key(KYIV)
    assert requests_mock.call_count == 1
    query = parse_qs(urlsplit(requests_mock.last_request.url).query)
    assert query["fields"] == ["uniqueid"]
    assert (query["from"][0], query["to"][0]) == ("2024-05-14 09:55:30", "2024-05-14 10:00:30")


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_auth_error_with_the_cabinet_hint_and_no_retry(
    sleeps: Sleeps, requests_mock: Any, status: int
) -> None:
    requests_mock.get(URL, status_code=status, text='{"error": "Unauthorized"}')
    with pytest.raises(RingostatAuthError) as caught:
        client(sleeps).check_key()
    assert isinstance(caught.value, AuthError)
    assert caught.value.exit_code == ExitCode.AUTH
    assert caught.value.hint is not None
    assert "Integration -> Ringostat API" in caught.value.hint
    assert str(status) in str(caught.value)
    assert requests_mock.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, '{"error": "incorrect field: utm_kampaign"}'),
        (200, "Incorrect field utm_kampaign"),
        (200, "Error: incorrect fields in request (utm_kampaign)"),
    ],
)
def test_incorrect_field_answer_is_a_config_error_naming_the_field(
    sleeps: Sleeps, requests_mock: Any, status: int, body: str
) -> None:
    requests_mock.get(URL, status_code=status, text=body)
    start, end = window("2024-05-14 09:00:00", "2024-05-14 10:00:00")
    with pytest.raises(RingostatFieldError) as caught:
        list(client(sleeps).fetch(start, end, ["calldate", "utm_kampaign"], KYIV))
    assert isinstance(caught.value, ConfigError)
    assert caught.value.exit_code == ExitCode.CONFIG
    assert caught.value.field == "utm_kampaign"
    assert "'utm_kampaign'" in str(caught.value)
    assert requests_mock.call_count == 1


def test_a_call_list_that_mentions_incorrect_field_is_just_data(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    body = [call("ua-1", "2024-05-14 09:10:00", utm_content="incorrect field test")]
    requests_mock.get(URL, json=body)
    start, end = window("2024-05-14 09:00:00", "2024-05-14 10:00:00")
    rows = list(client(sleeps).fetch(start, end, ["calldate", "utm_content"], KYIV))
    assert rows[0]["utm_content"] == "incorrect field test"


def test_server_errors_are_retried_with_jittered_backoff_then_succeed(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(
        URL,
        [
            {"status_code": 503, "text": "busy"},
            {"status_code": 500, "text": "oops"},
            {"status_code": 200, "json": [call("ua-1", "2024-05-14 09:10:00")]},
        ],
    )
    start, end = window("2024-05-14 09:00:00", "2024-05-14 10:00:00")
    rs = client(sleeps)
    rows = list(rs.fetch(start, end, ["calldate"], KYIV))
    assert [r["uniqueid"] for r in rows] == ["ua-1"]
    assert sleeps == [1.0, 2.0]  # rng=1.0: the full-jitter ceiling, doubling
    assert rs.stats["retries"] == 2


def test_retry_after_is_honoured_on_429(sleeps: Sleeps, requests_mock: Any) -> None:
    requests_mock.get(
        URL,
        [
            {"status_code": 429, "text": "slow down", "headers": {"Retry-After": "7"}},
            {"status_code": 200, "text": "[]"},
        ],
    )
    client(sleeps).check_key()
    assert sleeps == [7.0]


def test_retry_after_http_date_is_read_against_the_injected_clock(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    now = datetime(2024, 5, 14, 9, 0, 0, tzinfo=UTC)
    requests_mock.get(
        URL,
        [
            {
                "status_code": 503,
                "text": "later",
                "headers": {"Retry-After": "Tue, 14 May 2024 09:00:12 GMT"},
            },
            {"status_code": 200, "text": "[]"},
        ],
    )
    client(sleeps, clock=lambda: now).check_key()
    assert sleeps == [12.0]  # 12 s after the injected "now", not after the real one


def test_connection_errors_are_retried_and_then_unavailable_with_exit_5(
    sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(URL, exc=requests.ConnectionError("refused"))
    with pytest.raises(RingostatUnavailableError) as caught:
        client(sleeps, max_attempts=3).check_key()
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "could not be reached" in str(caught.value)
    assert requests_mock.call_count == 3
    assert len(sleeps) == 2


def test_other_client_errors_fail_at_once(sleeps: Sleeps, requests_mock: Any) -> None:
    requests_mock.get(URL, status_code=400, text="bad date")
    with pytest.raises(RingostatAnswerError, match="HTTP 400"):
        client(sleeps).check_key()
    assert requests_mock.call_count == 1


def test_404_points_at_the_api_url_setting(sleeps: Sleeps, requests_mock: Any) -> None:
    requests_mock.get(URL, status_code=404, text="not here")
    with pytest.raises(ConfigError, match=r"ringostat\.api_url"):
        client(sleeps).check_key()


def test_a_json_object_answer_is_not_taken_for_calls(sleeps: Sleeps, requests_mock: Any) -> None:
    requests_mock.get(URL, json={"status": "error", "message": "something"})
    with pytest.raises(RingostatAnswerError, match="not a list of calls"):
        client(sleeps).check_key()


def test_key_never_reaches_exception_text_or_logs(
    sleeps: Sleeps, requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ringodesk")
    requests_mock.get(
        URL,
        [
            {"status_code": 500, "text": f"upstream said: key {KEY} broke"},
            {"status_code": 401, "text": f"Auth-key {KEY} is not valid"},
        ],
    )
    with pytest.raises(RingostatAuthError) as caught:
        client(sleeps).check_key()
    assert KEY not in str(caught.value)
    assert "***" in str(caught.value)
    assert caplog.records  # the retry was logged
    assert KEY not in caplog.text


def test_an_empty_key_is_refused_before_any_request(requests_mock: Any) -> None:
    with pytest.raises(RingostatAuthError):
        RingostatClient(ROOT, "  ")
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------------ answers


def test_csv_answers_are_read_as_rows(sleeps: Sleeps, requests_mock: Any) -> None:
    body = (
        'uniqueid;calldate;caller\nua-1;2024-05-14 09:10:00;"067; 123"\n'
        "\nua-2;2024-05-14 09:20:00;\n"
    )
    requests_mock.get(URL, text=body, headers={"Content-Type": "text/csv"})
    start, end = window("2024-05-14 09:00:00", "2024-05-14 10:00:00")
    rows = list(client(sleeps).fetch(start, end, ["calldate", "caller"], KYIV))
    assert rows == [
        {"uniqueid": "ua-1", "calldate": "2024-05-14 09:10:00", "caller": "067; 123"},
        {"uniqueid": "ua-2", "calldate": "2024-05-14 09:20:00", "caller": ""},
    ]


def test_json_values_become_strings_like_the_file_reader_makes_them() -> None:
    rows = parse_calls('[{"uniqueid": "ua-1", "billsec": 42, "has_recording": true, "x": null}]')
    assert rows == [{"uniqueid": "ua-1", "billsec": "42", "has_recording": "1", "x": ""}]


def test_fields_for_adds_mapping_parameters_once_after_the_required_ones() -> None:
    fields = fields_for(["pool_name", "utm_source", " landing "])
    assert fields[-2:] == ["pool_name", "landing"]  # after the required ones, in order
    for name in ("uniqueid", "calldate", "caller", "dst", "utm_source"):
        assert name in fields[:-2]
    assert len(set(fields)) == len(fields)


def test_fields_for_refuses_a_name_that_would_break_the_fields_list() -> None:
    with pytest.raises(ConfigError, match="not a Ringostat parameter"):
        fields_for(["pool_name,landing"])


def test_required_fields_cover_everything_the_record_reader_uses() -> None:
    for name in ("uniqueid", "calldate", "call_type", "disposition", "caller", "dst",
                 "billsec", "duration", "employee_fio", "employee_number", "connected_with",
                 "recording", "call_card", "client_id", "utm_source", "utm_term"):  # fmt: skip
        assert name in REQUIRED_FIELDS


# ------------------------------------------------------------------------ records


def test_api_rows_become_records_with_the_api_source_and_row_positions() -> None:
    rows = [
        call("ua-1", "2024-05-14 09:10:00"),
        call("", "2024-05-14 09:11:00"),
        call("ua-3", "2024-05-14 09:12:00", call_type="sideways"),
    ]
    out = list(records_from_api(rows, timezone=KYIV, default_region="UA"))
    assert isinstance(out[0], CallRecord)
    assert (out[0].source, out[0].line, out[0].ringostat_id) == ("ringostat-api", 1, "ua-1")
    assert out[0].started_at == datetime(2024, 5, 14, 6, 10, tzinfo=UTC)
    assert isinstance(out[1], BadRow) and (out[1].line, out[1].field) == (2, "uniqueid")
    assert isinstance(out[2], BadRow)
    assert (out[2].ringostat_id, out[2].field) == ("ua-3", "call_type")


def test_api_rows_follow_the_same_length_and_date_rules_as_files() -> None:
    now = datetime(2024, 5, 14, 6, 0, tzinfo=UTC)  # 09:00 in Kyiv
    rows = [
        {**call("ua-1", "2024-05-14 09:10:00"), "billsec": "1e3"},
        {**call("ua-2", "2024-05-14 09:11:00"), "duration": "123456789012345678901234567890"},
        call("ua-3", "2024-05-15 09:01:00"),  # a day and a minute ahead of now
        call("ua-4", "2024-05-15 08:59:00"),  # within a day: delivered
    ]
    out = list(records_from_api(rows, timezone=KYIV, default_region="UA", now=now))
    fields = [(r.ringostat_id, r.field) if isinstance(r, BadRow) else r.ringostat_id for r in out]
    assert fields == [("ua-1", "billsec"), ("ua-2", "duration"), ("ua-3", "calldate"), "ua-4"]


def test_a_csv_export_row_and_the_json_api_row_of_one_call_hash_alike(tmp_path: Path) -> None:
    full = call(
        "ua-987h79879",
        "2024-05-14 09:03:40",
        employee_fio="Petrenko Olena Ivanivna",
        employee_number="17",
        connected_with="olena_sip",
        recording="https://app.ringostat.com/recordings/ua-987h79879",
        call_card="https://app.ringostat.com/card/ua-987h79879",
        utm_source="google",
        utm_campaign="brand",
        client_id="123.456",
        pool_name="Google Ads",
    )
    fields = fields_for(["pool_name"])
    csv_file = tmp_path / "calls.csv"
    lines = [";".join(fields), ";".join(str(full.get(f, "")) for f in fields)]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from_file = list(read_export(csv_file, timezone=KYIV, default_region="UA"))
    api_body = json.dumps([{f: full.get(f, "") for f in fields} | {"billsec": 42}])
    from_api = list(records_from_api(parse_calls(api_body), timezone=KYIV, default_region="UA"))
    assert isinstance(from_file[0], CallRecord) and isinstance(from_api[0], CallRecord)
    assert from_file[0].ringostat_id == from_api[0].ringostat_id
    assert from_file[0].source != from_api[0].source
    assert from_file[0].extra["pool_name"] == "Google Ads"
    assert from_file[0].content_hash() == from_api[0].content_hash()
