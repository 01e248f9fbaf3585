"""The sample export shipped for `ringodesk demo`: a realistic day that exercises every rule."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from ringodesk_cli.ringostat.exports import read_export
from ringodesk_cli.ringostat.records import BadRow, CallRecord, Direction, Outcome

LINKED = {"anna_sip", "petro_sip", "olena_sip"}


def sample_path() -> Path:
    return Path(str(resources.files("ringodesk_cli") / "data" / "sample_calls.csv"))


def sample() -> list[CallRecord | BadRow]:
    return list(read_export(sample_path(), timezone=ZoneInfo("Europe/Kyiv"), default_region="UA"))


def test_sample_is_a_day_of_about_25_calls_with_exactly_one_broken_row() -> None:
    items = sample()
    calls = [i for i in items if isinstance(i, CallRecord)]
    broken = [i for i in items if isinstance(i, BadRow)]
    assert 20 <= len(items) <= 30
    assert len(broken) == 1 and broken[0].field == "caller"
    assert str(broken[0]).startswith(str(broken[0].source) + f":{broken[0].line}: caller: ")
    days = {c.started_at.astimezone(ZoneInfo("Europe/Kyiv")).date() for c in calls}
    assert len(days) == 1


def test_sample_covers_answered_missed_outbound_and_in_progress_calls() -> None:
    calls = [i for i in sample() if isinstance(i, CallRecord)]
    kinds = Counter((c.direction, c.outcome) for c in calls)
    assert kinds[(Direction.INBOUND, Outcome.ANSWERED)] >= 8
    assert kinds[(Direction.INBOUND, Outcome.MISSED)] >= 4
    assert kinds[(Direction.OUTBOUND, Outcome.ANSWERED)] >= 2
    assert kinds[(Direction.OUTBOUND, Outcome.MISSED)] >= 1
    assert kinds[(Direction.INBOUND, Outcome.IN_PROGRESS)] == 1
    assert any(c.call_type == "callback" for c in calls)


def test_sample_has_three_linked_employees_and_one_unlinked_sip() -> None:
    calls = [i for i in sample() if isinstance(i, CallRecord)]
    answered = [c for c in calls if c.outcome is Outcome.ANSWERED and c.employee]
    sips = {c.employee.sip for c in answered if c.employee}
    assert sips >= LINKED
    unlinked = [c for c in answered if c.employee and c.employee.sip not in LINKED]
    assert len(unlinked) == 1 and unlinked[0].direction is Direction.INBOUND
    named = {c.employee.sip: c.employee.name for c in answered if c.employee and c.employee.name}
    assert set(named) == LINKED


def test_sample_has_repeat_callers_written_in_different_formats() -> None:
    calls = [i for i in sample() if isinstance(i, CallRecord)]
    per_client = Counter(c.client_number for c in calls)
    repeat, times = per_client.most_common(1)[0]
    assert times >= 3
    with sample_path().open(encoding="utf-8", newline="") as handle:
        rows = {row["uniqueid"]: row for row in csv.DictReader(handle, delimiter=";")}
    raw = {
        rows[c.ringostat_id]["caller" if c.direction is Direction.INBOUND else "dst"]
        for c in calls
        if c.client_number == repeat
    }
    assert len(raw) >= 3


def test_sample_carries_utm_and_google_client_ids_on_some_calls() -> None:
    calls = [i for i in sample() if isinstance(i, CallRecord)]
    with_utm = [c for c in calls if c.utm]
    assert 3 <= len(with_utm) < len(calls)
    assert any(c.google_client_id for c in calls)
    assert all(c.recording_url for c in calls if c.outcome is Outcome.ANSWERED)
