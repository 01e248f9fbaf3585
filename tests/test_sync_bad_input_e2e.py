"""End to end: bad input through the installed `ringodesk` against the sandbox. Every file
and row that cannot be delivered is named with its reason, the rest is delivered, and what
is quarantined stays visible (`quarantine list`, each summary, `doctor`) until dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import Call, Desk, by_marker, write_export
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

ZIP = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    d.setup()
    return d


def test_a_zip_named_csv_fails_alone_with_its_reason_the_rest_is_delivered_exit_6(
    desk: Desk, tmp_path: Path
) -> None:
    good = write_export(tmp_path / "good.csv", [Call("z-1", "0671230001")])
    broken = tmp_path / "calls.csv"
    broken.write_bytes(ZIP)
    result = desk.run("sync", str(broken), str(good))
    assert result.code == 6, result
    assert f"file failed: {broken}: looks like an Excel/zip file: export CSV or JSON" in (
        result.stderr
    )
    assert "[source.columns]" not in result.stderr and "Traceback" not in result.stderr
    assert "files failed 1" in result.stdout and "delivered 1" in result.stdout
    assert len(by_marker(desk.sb.records("calls"), "z-1")) == 1


def inbox_source(desk: Desk, tmp_path: Path) -> Path:
    """The profile reads an inbox folder (``source.kind = inbox``); returns the folder."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert desk.run("config", "set", "source.kind", "inbox").code == 0
    assert desk.run("config", "set", "source.inbox", str(inbox)).code == 0
    return inbox


def test_an_inbox_file_that_fails_is_set_aside_and_never_blocks_later_runs(
    desk: Desk, tmp_path: Path
) -> None:
    inbox = inbox_source(desk, tmp_path)
    (inbox / "report.csv").write_bytes(bytes(range(256)) * 8)
    write_export(inbox / "calls.csv", [Call("i-1", "0671230002")])
    first = desk.sync()
    assert first.code == 6, first
    data = first.json()
    (failed,) = data["failed_files"]
    assert "report.csv: not a text file (binary content at byte 0)" in failed
    assert data["delivered"] == 1
    aside = inbox / ".failed"
    assert (aside / "report.csv").exists() and not (inbox / "report.csv").exists()
    assert "binary content" in (aside / "report.csv.reason.txt").read_text()
    write_export(inbox / "later.csv", [Call("i-2", "0671230003")])
    second = desk.sync()
    assert second.code == 0, second
    assert (second.json()["delivered"], second.json()["failed_files"]) == (1, [])
    doctor = desk.run("doctor", "--json")
    inbox_check = next(c for c in doctor.json() if c["name"] == "inbox")
    assert not inbox_check["ok"] and inbox_check["exit_code"] == 6, doctor
    assert "report.csv" in inbox_check["detail"]


def test_a_symlink_loop_in_the_inbox_is_named_and_set_aside_never_skipped_silently(
    desk: Desk, tmp_path: Path
) -> None:
    inbox = inbox_source(desk, tmp_path)
    (inbox / "loop.csv").symlink_to(inbox / "loop.csv")
    write_export(inbox / "calls.csv", [Call("l-1", "0671230005")])
    first = desk.sync()
    assert first.code == 6, first
    data = first.json()
    (failed,) = data["failed_files"]
    assert "loop.csv: a symbolic link that leads back to itself (a symlink loop)" in failed
    assert data["delivered"] == 1
    assert (inbox / ".failed" / "loop.csv").is_symlink()
    assert not (inbox / "loop.csv").is_symlink()
    assert "Traceback" not in first.stderr


def test_bad_utf8_bytes_quarantine_their_row_and_the_rest_is_delivered_as_utf8(
    desk: Desk, tmp_path: Path
) -> None:
    calls = [Call("u-1", "0671230004", utm={"utm_term": "кухні"}),
             Call("u-2", "0671230005", utm={"utm_term": "BROKEN"})]  # fmt: skip
    path = write_export(tmp_path / "calls.csv", calls)
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"BROKEN", b"sof\xe0"))
    offset = path.read_bytes().index(b"\xe0")
    result = desk.sync(str(path))
    assert result.code == 6, result
    data = result.json()
    assert data["bad_rows"] == [f"{path}:3: utm_term: invalid UTF-8 at byte {offset} (0xE0)"]
    assert data["delivered"] == 1
    (call,) = by_marker(desk.sb.records("calls"), "u-1")
    assert "кухні" in str(call.get("description"))
    assert not by_marker(desk.sb.records("calls"), "u-2")


def test_quarantine_stays_visible_until_dropped(desk: Desk, tmp_path: Path) -> None:
    path = write_export(
        tmp_path / "calls.csv",
        [Call("q-1", "0671230006"), Call("q-2", "0671230007", raw_date="2024-13-01 10:00")],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("q-3;2024-05-14 10:00:00;in;ANSWERED\n")  # a short row
    first = desk.sync(str(path))
    assert first.code == 6 and first.json()["open_quarantine"] == 2, first
    again = desk.run("sync", str(path))
    assert again.code == 0, again
    assert "quarantined 0" in again.stdout and "open quarantine 2" in again.stdout
    listed = desk.run("quarantine", "list", "--json")
    assert listed.code == 0, listed
    rows = listed.json()
    assert [(r["file"], r["line"], r["ringostat_id"], r["field"]) for r in rows] == [
        (str(path), 3, "q-2", "calldate"),
        (str(path), 4, "q-3", None),
    ]
    assert rows[1]["reason"] == "4 values for 19 columns (a value or a ';' missing?)"
    assert all(r["first_seen"] for r in rows)
    table = desk.run("quarantine", "list")
    assert "calldate" in table.stdout and "2 quarantined row(s)" in table.stdout
    doctor = desk.run("doctor", "--json")
    check = next(c for c in doctor.json() if c["name"] == "quarantine")
    assert doctor.code == 6 and not check["ok"], doctor
    assert "ringodesk quarantine list" in check["fix"]
    assert desk.run("quarantine", "drop", "999").code == 2
    dropped = desk.run("quarantine", "drop", str(rows[0]["id"]))
    assert dropped.code == 0 and "dropped 1" in dropped.stdout
    assert [r["line"] for r in desk.run("quarantine", "list", "--json").json()] == [4]
    assert desk.run("quarantine", "drop", "--all").code == 0
    assert desk.run("quarantine", "list", "--json").json() == []
    assert desk.run("doctor", "--json").code == 0


def test_duplicate_ids_in_one_run_are_settled_or_quarantined_and_reported(
    desk: Desk, tmp_path: Path
) -> None:
    first = write_export(
        tmp_path / "a.csv",
        [Call("d-1", "0671230008", disposition="IN PROGRESS"), Call("d-2", "0671230009")],
    )
    second = write_export(
        tmp_path / "b.csv",
        [Call("d-1", "0671230008"), Call("d-2", "0671230009", disposition="BUSY")],
    )
    result = desk.run("sync", str(first), str(second))
    assert result.code == 6, result
    assert "d-1: read 2 times with different content" in result.stderr
    assert f"quarantined: {first}:3: the same Ringostat id with different content" in (
        result.stderr
    )
    calls = desk.sb.records("calls")
    assert len(by_marker(calls, "d-1")) == 1 and not by_marker(calls, "d-2")


def test_empty_file_is_reported_and_a_folder_is_named(desk: Desk, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = desk.run("sync", str(empty))
    assert result.code == 0, result
    assert f"{empty}: no calls in this file" in result.stderr
    assert "empty files 1" in result.stdout
    folder = desk.run("sync", str(tmp_path))
    assert folder.code == 2 and "a folder, not an export file" in folder.stderr, folder
