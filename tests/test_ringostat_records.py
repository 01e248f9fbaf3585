"""CallRecord from one call-log row: ids, dates and zones, directions, statuses, people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.ringostat.records import (
    BadRow,
    CallRecord,
    Direction,
    Employee,
    Outcome,
    RowError,
    record_from_fields,
)

KYIV = ZoneInfo("Europe/Kyiv")


ROW = {
    "uniqueid": "ua-987h79879",
    "calldate": "2024-05-14 09:03:40",
    "call_type": "in",
    "disposition": "ANSWERED",
    "caller": "0671234567",
    "dst": "+380443334455",
    "billsec": "42",
    "duration": "50",
}


def make(**fields: str) -> CallRecord:
    row = {**ROW, **fields}
    return record_from_fields(row, source="calls.csv", line=7, timezone=KYIV, default_region="UA")


def row_error(**fields: str) -> RowError:
    with pytest.raises(RowError) as caught:
        make(**fields)
    return caught.value


@pytest.mark.parametrize("disposition", ["ANSWERED", "PROPER", "REPEATED"])
def test_answered_dispositions_are_answered(disposition: str) -> None:
    record = make(disposition=disposition)
    assert record.outcome is Outcome.ANSWERED
    assert not record.missed


@pytest.mark.parametrize(
    "disposition",
    [
        "NO ANSWER",
        "BUSY",
        "FAILED",
        "VOICEMAIL",
        "NO-FORWARD",
        "WRONG EXTENSION",
        "NO EXTENSION",
        "CLIENT NO ANSWER",
        "FAILED FORBIDDEN DESTINATION",
        "DECLINE",
    ],
)
def test_missed_dispositions_make_an_inbound_call_missed(disposition: str) -> None:
    record = make(disposition=disposition)
    assert record.outcome is Outcome.MISSED
    assert record.disposition == disposition
    assert record.missed


@pytest.mark.parametrize("disposition", ["IN PROGRESS", "CALLING", "in_progress"])
def test_calls_still_going_are_in_progress_and_not_missed(disposition: str) -> None:
    record = make(disposition=disposition, billsec="0")
    assert record.outcome is Outcome.IN_PROGRESS
    assert not record.missed


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("NO+ANSWER", "NO ANSWER"),
        ("no_answer", "NO ANSWER"),
        ("Client+No+Answer", "CLIENT NO ANSWER"),
        ("No forward", "NO-FORWARD"),
        ("Repeat call", "REPEATED"),
        ("Пропущен", "NO ANSWER"),
    ],
)
def test_disposition_spellings_are_normalised(raw: str, code: str) -> None:
    assert make(disposition=raw).disposition == code


def test_unknown_disposition_is_a_row_error_naming_it() -> None:
    error = row_error(disposition="TELEPORTED")
    assert error.field == "disposition"
    assert "'TELEPORTED'" in error.reason


@pytest.mark.parametrize(
    ("call_type", "direction"),
    [
        ("in", Direction.INBOUND),
        ("callback", Direction.INBOUND),
        ("transitin", Direction.INBOUND),
        ("out", Direction.OUTBOUND),
        ("transitout", Direction.OUTBOUND),
        ("IN", Direction.INBOUND),
        ("Вихідний", Direction.OUTBOUND),
    ],
)
def test_call_types_map_to_directions(call_type: str, direction: Direction) -> None:
    record = make(call_type=call_type, caller="0671234567", dst="0931234500")
    assert record.direction is direction
    assert record.call_type in {"in", "out", "callback", "transitin", "transitout"}


def test_unknown_call_type_is_a_row_error() -> None:
    error = row_error(call_type="sideways")
    assert error.field == "call_type"


def test_unanswered_outbound_call_is_missed_outcome_but_not_a_missed_call() -> None:
    record = make(call_type="out", disposition="NO ANSWER", caller="anna_sip", dst="0671234567")
    assert record.outcome is Outcome.MISSED
    assert not record.missed


def test_inbound_client_is_caller_and_our_number_is_dst() -> None:
    record = make(caller="+38 (067) 123-45-67", dst="0443334455")
    assert record.client_number == "+380671234567"
    assert record.our_number == "+380443334455"


def test_outbound_client_is_dst_and_sip_caller_is_the_employee() -> None:
    record = make(call_type="out", caller='"Ivan Petrenko" <ivan_sip>', dst="0931234500")
    assert record.client_number == "+380931234500"
    assert record.our_number == "ivan_sip"
    assert record.employee == Employee(name="Ivan Petrenko", number=None, sip="ivan_sip")


def test_outbound_employee_name_prefers_employee_fio_and_ignores_connected_with() -> None:
    record = make(
        call_type="out",
        caller='"ivan" <ivan_sip>',
        dst="0931234500",
        employee_fio="Іван Петренко",
        connected_with="0931234500",
    )
    assert record.employee == Employee(name="Іван Петренко", number=None, sip="ivan_sip")


def test_inbound_employee_comes_from_fio_number_and_connected_with() -> None:
    record = make(employee_fio="Анна Коваленко", employee_number="101", connected_with="anna_sip")
    assert record.employee is not None
    assert record.employee.keys() == ("anna_sip", "101", "Анна Коваленко")


def test_employee_answering_on_a_phone_is_known_by_that_number() -> None:
    record = make(connected_with="050 111 22 33")
    assert record.employee == Employee(name=None, number="+380501112233", sip=None)


def test_missed_call_without_employee_has_none() -> None:
    assert make(disposition="NO ANSWER", billsec="0").employee is None


def test_employee_mark_stands_in_for_a_missing_name() -> None:
    record = make(employee_mark="Reception")
    assert record.employee is not None and record.employee.keys() == ("Reception",)


@pytest.mark.parametrize("caller", ["", "+38 (067) 12", "anonymous", '"Ivan" <ivan_sip>'])
def test_junk_client_number_is_a_row_error_on_the_client_field(caller: str) -> None:
    error = row_error(caller=caller)
    assert error.field == "caller"


def test_junk_client_on_outbound_is_reported_on_dst() -> None:
    assert row_error(call_type="out", caller="anna_sip", dst="n/a").field == "dst"


def test_missing_id_is_a_row_error() -> None:
    assert row_error(uniqueid="  ").field == "uniqueid"


def test_calldate_is_read_in_the_profile_zone_and_stored_in_utc() -> None:
    record = make(calldate="2024-05-14 09:03:40")
    assert record.started_at == datetime(2024, 5, 14, 6, 3, 40, tzinfo=UTC)
    assert record.started_at.utcoffset() is not None


def test_day_first_dates_of_web_exports_are_accepted() -> None:
    assert make(calldate="14.05.2024 09:03:40").started_at == datetime(
        2024, 5, 14, 6, 3, 40, tzinfo=UTC
    )
    assert make(calldate="14.05.2024 09:03").started_at.second == 0


def test_winter_time_uses_the_winter_offset() -> None:
    assert make(calldate="2024-01-10 12:00:00").started_at == datetime(
        2024, 1, 10, 10, 0, tzinfo=UTC
    )


def test_hour_repeated_by_dst_change_takes_the_first_occurrence() -> None:
    # Kyiv left summer time on 2024-10-27 at 04:00 EEST -> 03:00 EET: 03:30 happens twice.
    record = make(calldate="2024-10-27 03:30:00")
    assert record.started_at == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_other_zone_setting_changes_the_instant() -> None:
    row = {"uniqueid": "x", "calldate": "2024-05-14 09:00:00", "call_type": "in",
           "disposition": "ANSWERED", "caller": "0671234567", "dst": ""}  # fmt: skip
    warsaw = record_from_fields(
        row, source="api", line=1, timezone=ZoneInfo("Europe/Warsaw"), default_region="UA"
    )
    assert warsaw.started_at == datetime(2024, 5, 14, 7, 0, tzinfo=UTC)
    assert warsaw.our_number is None


@pytest.mark.parametrize("calldate", ["2024-13-01 10:00", "yesterday", "", "2024-02-30 10:00:00"])
def test_unreadable_date_is_a_row_error_with_an_example(calldate: str) -> None:
    error = row_error(calldate=calldate)
    assert error.field == "calldate"
    assert "2024-05-01 10:00:00" in error.reason or "no date" in error.reason


def test_talk_and_total_seconds_come_from_billsec_and_duration() -> None:
    record = make(billsec="42", duration="1:05")
    assert (record.talk_seconds, record.total_seconds) == (42, 65)
    assert make(billsec="", duration="12.0").talk_seconds == 0


def test_bad_seconds_are_a_row_error() -> None:
    assert row_error(billsec="lots").field == "billsec"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("0", 0), ("42", 42), ("42.0", 42), ("42,0", 42), ("1:05", 65), ("0:01:05", 65),
     ("1:00:00", 3600), ("24:00:00", 86_400), ("86400", 86_400), (" 7 ", 7)],
)  # fmt: skip
def test_call_lengths_are_whole_seconds_or_a_clock_up_to_one_day(raw: str, seconds: int) -> None:
    assert make(billsec=raw, duration="86400").talk_seconds == seconds
    assert make(duration=raw, billsec="0").total_seconds == seconds


@pytest.mark.parametrize(
    "raw",
    ["inf", "-inf", "nan", "1e3", "1E3", "123456789012345678901234567890", "-3", "1:-5",
     "-1:05", "1:60", "1:2:3:4", "86401", "24:00:01", "42.5", "0x10", "4 2", "1_000", "١٢"],
)  # fmt: skip
@pytest.mark.parametrize("field", ["billsec", "duration"])
def test_anything_else_is_a_bad_row_naming_the_field(raw: str, field: str) -> None:
    error = row_error(**{field: raw})
    assert error.field == field
    assert repr(raw) in error.reason and "86,400" in error.reason


def test_a_call_dated_more_than_a_day_ahead_of_now_is_a_bad_row() -> None:
    # calldate 2024-05-14 09:03:40 Kyiv = 06:03:40 UTC
    now = datetime(2024, 5, 13, 6, 3, 40, tzinfo=UTC)
    exactly_a_day = record_from_fields(
        {**ROW, "calldate": "2024-05-14 09:03:40"}, source="c.csv", line=2, timezone=KYIV,
        default_region="UA", now=now,
    )  # fmt: skip
    assert exactly_a_day.started_at == datetime(2024, 5, 14, 6, 3, 40, tzinfo=UTC)
    with pytest.raises(RowError) as caught:
        record_from_fields(
            {**ROW, "calldate": "2024-05-14 09:03:41"}, source="c.csv", line=2, timezone=KYIV,
            default_region="UA", now=now,
        )  # fmt: skip
    assert caught.value.field == "calldate"
    assert "'2024-05-14 09:03:41' is more than a day ahead of now" in caught.value.reason


def test_without_a_clock_the_system_clock_refuses_a_call_years_ahead() -> None:
    ahead = (datetime.now(KYIV) + timedelta(days=5 * 365)).strftime("%Y-%m-%d %H:%M:%S")
    assert row_error(calldate=ahead).field == "calldate"


def test_links_utm_and_google_client_id_are_picked_out() -> None:
    record = make(
        recording="",
        recording_wav="https://rec.example.com/1.wav",
        call_card="https://app.example.com/card/1",
        utm_source="google",
        utm_medium="cpc",
        utm_term="",
        client_id="1785543210.1715670000",
        landing="https://kuhni.example.com/",
    )
    assert record.recording_url == "https://rec.example.com/1.wav"
    assert record.call_card_url == "https://app.example.com/card/1"
    assert dict(record.utm) == {"utm_source": "google", "utm_medium": "cpc"}
    assert record.google_client_id == "1785543210.1715670000"
    assert record.extra["landing"] == "https://kuhni.example.com/"
    assert "utm_term" not in record.extra and "caller" not in record.extra


def test_value_answers_for_typed_and_extra_parameters() -> None:
    record = make(utm_campaign="brand", pool_name="Google Ads")
    assert record.value("caller") == "+380671234567"
    assert record.value("dst") == "+380443334455"
    assert record.value("utm_campaign") == "brand"
    assert record.value("pool_name") == "Google Ads"
    assert record.value("calldate") == "2024-05-14T06:03:40Z"
    assert record.value("refferrer") is None


def test_content_hash_ignores_where_the_row_was_read_but_not_what_it_says() -> None:
    first = make()
    again = record_from_fields(
        {"uniqueid": "ua-987h79879", "calldate": "2024-05-14 09:03:40", "call_type": "in",
         "disposition": "ANSWERED", "caller": "+380671234567", "dst": "0443334455",
         "billsec": "42", "duration": "50"},
        source="other.json", line=99, timezone=KYIV, default_region="UA",
    )  # fmt: skip
    assert first.content_hash() == again.content_hash()
    assert make(disposition="IN PROGRESS").content_hash() != first.content_hash()
    assert make(recording="https://rec.example.com/1.mp3").content_hash() != first.content_hash()


def test_records_are_frozen_and_hashable() -> None:
    record = make(utm_source="google")
    with pytest.raises(AttributeError):
        record.ringostat_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.utm["utm_source"] = "bing"  # type: ignore[index]
    assert len({record, record}) == 1


def test_bad_row_reads_as_file_line_field_reason() -> None:
    bad = BadRow("calls.csv", 7, None, "calldate", "'2024-13-01 10:00' is not a date")
    assert str(bad) == "calls.csv:7: calldate: '2024-13-01 10:00' is not a date"
    assert str(BadRow("calls.csv", 3, None, None, "broken")) == "calls.csv:3: broken"
