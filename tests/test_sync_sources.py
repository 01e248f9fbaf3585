"""Where a sync's records come from: per-file failures, files set aside in the inbox, empty
files, and a Ringostat id read twice with different content."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.delivery.summary import Summary
from ringodesk_cli.errors import InputError, UsageError
from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.ringostat.records import BadRow, CallRecord
from ringodesk_cli.sync.quarantine import drop_quarantined, list_quarantined, recent
from ringodesk_cli.sync.sources import FAILED_DIR, failed_inbox_files, plan_sources, read_all

KYIV = ZoneInfo("Europe/Kyiv")
HEADER = "uniqueid;calldate;call_type;disposition;caller;dst;billsec;duration"
ZIP = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64


def row(rid: str, disposition: str = "ANSWERED", billsec: int = 5) -> str:
    return f"{rid};2024-05-14 10:00:00;in;{disposition};0671234567;0443334455;{billsec};9"


def export(folder: Path, name: str, *rows: str) -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def read(files: list[Path], summary: Summary, **kwargs: object) -> list[CallRecord | BadRow]:
    return list(
        read_all(files, timezone=KYIV, default_region="UA", columns={}, report=summary, **kwargs)  # type: ignore[arg-type]
    )


def ids(items: list[CallRecord | BadRow]) -> list[str | None]:
    return [i.ringostat_id for i in items if isinstance(i, CallRecord)]


def test_a_file_that_cannot_be_read_fails_alone_and_the_others_are_read(tmp_path: Path) -> None:
    first = export(tmp_path, "a.csv", row("a1"))
    broken = tmp_path / "b.csv"
    broken.write_bytes(ZIP)
    last = export(tmp_path, "c.csv", row("c1"))
    summary = Summary()
    assert ids(read([first, broken, last], summary)) == ["a1", "c1"]
    assert summary.failed_files == [f"{broken}: looks like an Excel/zip file: export CSV or JSON"]
    assert summary.exit_code == 6


def test_a_json_file_broken_half_way_adds_no_rows(tmp_path: Path) -> None:
    call = ('{"uniqueid": "j1", "calldate": "2024-05-14 10:00:00", "call_type": "in", '
            '"disposition": "ANSWERED", "caller": "0671234567", "dst": ""}')  # fmt: skip
    path = tmp_path / "c.json"
    path.write_text(f"[\n{call},\n{call.replace('j1', 'j2')},\n{{broken\n]")
    summary = Summary()
    assert read([path], summary) == []
    assert summary.failed_files and "broken JSON" in summary.failed_files[0]


def test_without_a_report_a_file_error_is_raised_as_before(tmp_path: Path) -> None:
    broken = tmp_path / "b.csv"
    broken.write_bytes(ZIP)
    with pytest.raises(InputError, match="Excel/zip"):
        list(read_all([broken], timezone=KYIV, default_region="UA", columns={}))


def test_an_inbox_file_that_fails_is_moved_aside_with_its_reason(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = export(inbox, "good.csv", row("g1"))
    bad = inbox / "bad.csv"
    bad.write_bytes(ZIP)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    plan = plan_sources([], kind="inbox", inbox=str(inbox), ledger=ledger)
    assert sorted(plan.digests) == [bad, good]
    summary = Summary()
    assert ids(read(plan.files, summary, plan=plan, set_aside=True)) == ["g1"]
    moved = inbox / FAILED_DIR / "bad.csv"
    assert not bad.exists() and moved.read_bytes() == ZIP
    note = (inbox / FAILED_DIR / "bad.csv.reason.txt").read_text()
    assert note.startswith("looks like an Excel/zip file: export CSV or JSON\n")
    assert summary.failed_files == [f"{bad}: looks like an Excel/zip file: export CSV or JSON "
                                    f"(moved to {moved})"]  # fmt: skip
    assert list(plan.digests) == [good]  # a fixed copy put back is read again
    assert failed_inbox_files(inbox) == [moved]
    # The next plan no longer sees it: it never blocks a later run.
    assert plan_sources([], kind="inbox", inbox=str(inbox), ledger=ledger).files == [good]
    ledger.close()


def test_a_dry_run_leaves_a_failing_inbox_file_in_place(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = inbox / "bad.csv"
    bad.write_bytes(ZIP)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    plan = plan_sources([], kind="inbox", inbox=str(inbox), ledger=ledger)
    summary = Summary()
    read(plan.files, summary, plan=plan, set_aside=False)
    assert bad.exists() and not (inbox / FAILED_DIR).exists()
    assert summary.failed_files == [f"{bad}: looks like an Excel/zip file: export CSV or JSON"]
    ledger.close()


def test_empty_and_header_only_files_are_reported_without_changing_the_exit(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = export(tmp_path, "header.csv")
    summary = Summary()
    assert read([empty, header_only], summary) == []
    assert summary.empty_files == [
        f"{empty}: no calls in this file",
        f"{header_only}: no calls in this file",
    ]
    assert summary.exit_code == 0


def test_a_folder_given_as_a_file_is_named_as_a_folder(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    with pytest.raises(UsageError, match="a folder, not an export file") as caught:
        plan_sources([tmp_path], kind="files", inbox=None, ledger=ledger)
    assert "source.kind = inbox" in (caught.value.hint or "")
    ledger.close()


@pytest.mark.parametrize("completed_first", [False, True])
def test_a_completed_call_wins_over_its_in_progress_state_in_either_order(
    tmp_path: Path, completed_first: bool
) -> None:
    progress = export(tmp_path, "a.csv", row("d1", "IN PROGRESS", 0), row("x1"))
    done = export(tmp_path, "b.csv", row("d1", "ANSWERED", 42))
    files = [done, progress] if completed_first else [progress, done]
    summary = Summary()
    items = read(files, summary)
    (kept,) = [i for i in items if isinstance(i, CallRecord) and i.ringostat_id == "d1"]
    assert (kept.disposition, kept.talk_seconds) == ("ANSWERED", 42)
    assert not [i for i in items if isinstance(i, BadRow)]
    (note,) = summary.notices
    assert note.startswith("d1: read 2 times with different content")
    assert note.endswith(f"kept the completed call from {done}:2")


def test_two_different_completed_versions_of_a_call_are_both_quarantined(tmp_path: Path) -> None:
    first = export(tmp_path, "a.csv", row("d2", "ANSWERED", 10), row("x2"))
    second = export(tmp_path, "b.csv", row("d2", "BUSY", 0))
    summary = Summary()
    items = read([first, second], summary)
    assert ids(items) == ["x2"]
    bad = [i for i in items if isinstance(i, BadRow)]
    assert [(b.source, b.line, b.ringostat_id) for b in bad] == [
        (str(first), 2, "d2"),
        (str(second), 2, "d2"),
    ]
    assert bad[0].reason == (
        f"the same Ringostat id with different content at {second}:2: neither is sent"
    )


def test_the_same_call_read_twice_with_the_same_content_is_one_record(tmp_path: Path) -> None:
    first = export(tmp_path, "a.csv", row("d3"))
    second = export(tmp_path, "b.csv", row("d3"), row("d4"))
    summary = Summary()
    assert ids(read([first, second], summary)) == ["d3", "d3", "d4"]
    assert summary.notices == [] and summary.exit_code == 0


# -- the quarantine, until fixed ----------------------------------------------------------------
def test_quarantined_rows_are_listed_with_their_field_and_dropped_by_id(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    assert ledger.quarantine("k1", "a.csv", 3, "ua-1", "not a date", field="calldate")
    assert ledger.quarantine("k2", "b.csv", 7, None, "5 values for 8 columns")
    assert not ledger.quarantine("k1", "a.csv", 3, "ua-1", "not a date", field="calldate")
    ledger.close()
    rows = list_quarantined(tmp_path)
    assert [(r.source, r.line, r.ringostat_id, r.field, r.reason) for r in rows] == [
        ("a.csv", 3, "ua-1", "calldate", "not a date"),
        ("b.csv", 7, None, None, "5 values for 8 columns"),
    ]
    assert set(rows[0].as_dict()) == {
        "id", "file", "line", "ringostat_id", "field", "reason", "first_seen"
    }  # fmt: skip
    assert drop_quarantined(tmp_path, [rows[0].id]) == 1
    assert [r.source for r in list_quarantined(tmp_path)] == ["b.csv"]
    with pytest.raises(UsageError, match="no quarantined row with id 999"):
        drop_quarantined(tmp_path, [999])
    assert drop_quarantined(tmp_path, None) == 1
    assert list_quarantined(tmp_path) == []


def test_a_ledger_from_before_the_field_column_is_read_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE quarantine (key TEXT PRIMARY KEY, source TEXT NOT NULL, line INTEGER "
        "NOT NULL, ringostat_id TEXT, reason TEXT NOT NULL, first_seen TEXT NOT NULL)"
    )
    db.execute("INSERT INTO quarantine VALUES ('k', 'old.csv', 2, NULL, 'x: y', '2024-01-01')")
    db.commit()
    db.close()
    (old,) = list_quarantined(tmp_path)  # read-only: no column yet
    assert (old.source, old.field, old.reason) == ("old.csv", None, "x: y")
    Ledger(path).close()  # a writer adds it
    assert Ledger(path).quarantine("k2", "new.csv", 3, None, "bad", field="caller")
    assert [r.field for r in list_quarantined(tmp_path)] == [None, "caller"]


def test_recent_means_first_seen_less_than_three_days_ago(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.quarantine("k", "a.csv", 2, None, "bad")
    ledger.close()
    rows = list_quarantined(tmp_path)
    now = datetime.now(UTC)
    assert recent(rows, now) == rows
    assert recent(rows, now + timedelta(days=3, minutes=1)) == []
