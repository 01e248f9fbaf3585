"""End to end: odd numbers, dates and files through the installed `ringodesk` against the
sandbox. A call length that is no call length and a call dated ahead of now are bad rows
naming their field (the rest of the file is delivered, never "unexpected error"); talk longer
than the call is delivered with a counted warning; Excel's UTF-16 text and its title line are
read; a symlink loop is named as one; a half-written row is resolved by the complete read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from e2e import COLUMNS, Call, Desk, ago, by_marker, local_now, write_export
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    d.setup()
    return d


def with_values(path: Path, replacements: dict[str, str]) -> Path:
    """The export with each placeholder field value (``;4201;``) swapped for a raw one."""
    text = path.read_text(encoding="utf-8")
    for placeholder, raw in replacements.items():
        assert f";{placeholder};" in text
        text = text.replace(f";{placeholder};", f";{raw};", 1)
    path.write_text(text, encoding="utf-8")
    return path


BAD_LENGTHS = ["inf", "nan", "1e3", "1000000000000000019884624838656", "1:-5", "-3"]


def test_lengths_that_are_no_call_length_are_bad_rows_and_the_rest_is_delivered(
    desk: Desk, tmp_path: Path
) -> None:
    # One good call first and last; between them a bad billsec each (line 3 onward).
    calls = [Call("n-0", "0671239000", ago(90))]
    calls += [Call(f"n-{i}", f"067123900{i}", ago(80 - i), billsec=4200 + i)
              for i in range(1, len(BAD_LENGTHS) + 1)]  # fmt: skip
    calls.append(Call("n-9", "0671239009", ago(10)))
    export = write_export(tmp_path / "calls.csv", calls)
    with_values(export, {str(4200 + i): raw for i, raw in enumerate(BAD_LENGTHS, start=1)})
    result = desk.run("sync", str(export))
    assert result.code == 6, result
    for line, raw in enumerate(BAD_LENGTHS, start=3):
        assert f"quarantined: {export}:{line}: billsec: {raw!r} is not a call length" in (
            result.stderr
        ), result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    assert "delivered 2" in result.stdout and "quarantined 6" in result.stdout
    assert len(by_marker(desk.sb.records("calls"), "n-0")) == 1
    assert len(by_marker(desk.sb.records("calls"), "n-9")) == 1
    assert all(int(c["duration"]) < 86_400 for c in desk.sb.records("calls"))


def test_a_bad_duration_names_duration(desk: Desk, tmp_path: Path) -> None:
    export = write_export(tmp_path / "calls.csv", [Call("d-1", "0671239011", billsec=50)])
    with_values(export, {"60": "inf"})  # duration = billsec + 10
    result = desk.sync(str(export))
    assert result.code == 6, result
    (line,) = result.json()["bad_rows"]
    assert line.startswith(f"{export}:2: duration: 'inf' is not a call length")


def test_a_call_dated_more_than_a_day_ahead_is_a_bad_row_naming_calldate(
    desk: Desk, tmp_path: Path
) -> None:
    ahead = local_now() + timedelta(days=2)
    calls = [Call("f-1", "0671239021", ago(30)), Call("f-2", "0671239022", ahead)]
    export = write_export(tmp_path / "calls.csv", calls)
    result = desk.sync(str(export))
    assert result.code == 6, result
    data = result.json()
    assert data["delivered"] == 1
    (line,) = data["bad_rows"]
    stamp = ahead.strftime("%Y-%m-%d %H:%M:%S")
    assert (
        line == f"{export}:3: calldate: {stamp!r} is more than a day ahead of now: not a call yet"
    )
    assert by_marker(desk.sb.records("calls"), "f-2") == []


def test_talk_longer_than_the_call_is_delivered_with_a_counted_warning(
    desk: Desk, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "calls.csv", [Call("w-1", "0671239031", billsec=90)])
    with_values(export, {"100": "30"})  # duration 30 < billsec 90
    result = desk.sync(str(export))
    assert result.code == 0, result
    data = result.json()
    assert (data["delivered"], data["warnings"]) == (1, 1)
    assert (
        f"warning: {export}:2: w-1: billsec 90 is more than duration 30 (talk longer than the "
        "whole call); delivered as read"
    ) in data["notices"]
    again = desk.run("sync", str(export))  # read again: nothing new to warn about
    assert again.code == 0 and "warnings" not in again.stderr, again


def test_a_half_written_row_is_resolved_when_the_complete_export_is_read(
    desk: Desk, tmp_path: Path
) -> None:
    calls = [Call("h-1", "0671239041", ago(40)), Call("h-2", "0671239042", ago(30))]
    full = write_export(tmp_path / "full.csv", calls)
    lines = full.read_text(encoding="utf-8").splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join([*lines[:2], lines[2][:40]]) + "\n", encoding="utf-8")
    first = desk.sync(str(cut))
    assert first.code == 6, first
    assert first.json()["open_quarantine"] == 1
    assert desk.run("doctor", "--json").code == 6
    second = desk.run("sync", str(full))
    assert second.code == 0, second
    assert "1 quarantined row(s) resolved: their calls were read complete" in second.stdout
    assert "open quarantine 0" in second.stdout
    assert desk.run("quarantine", "list", "--json").json() == []
    doctor = desk.run("doctor", "--json")
    check = next(c for c in doctor.json() if c["name"] == "quarantine")
    assert check["ok"] and doctor.code == 0, doctor
    assert len(by_marker(desk.sb.records("calls"), "h-2")) == 1


def test_excel_unicode_text_with_a_title_line_is_delivered(desk: Desk, tmp_path: Path) -> None:
    calls = [Call("x-1", "0671239051", ago(20)), Call("x-2", "0671239052", ago(10))]
    rows = write_export(tmp_path / "plain.csv", calls).read_text(encoding="utf-8")
    text = "Журнал дзвінків\n" + rows.replace(";", "\t")
    export = tmp_path / "calls.txt"
    export.write_bytes(text.encode("utf-16"))  # with a BOM, as Excel saves "Unicode text"
    result = desk.sync(str(export))
    assert result.code == 0, result
    assert result.json()["delivered"] == 2
    assert len(by_marker(desk.sb.records("calls"), "x-2")) == 1
    assert len(COLUMNS) == rows.splitlines()[0].count(";") + 1  # the header went through whole


def test_a_symlink_loop_is_named_and_the_rest_is_delivered(desk: Desk, tmp_path: Path) -> None:
    good = write_export(tmp_path / "good.csv", [Call("s-1", "0671239061")])
    loop, other = tmp_path / "loop.csv", tmp_path / "other.csv"
    loop.symlink_to(other)
    other.symlink_to(loop)
    result = desk.run("sync", str(loop), str(good))
    assert result.code == 6, result
    assert f"file failed: {loop}: a symbolic link that leads back to itself (a symlink loop)" in (
        result.stderr
    )
    assert "no such export file" not in result.stderr and "Traceback" not in result.stderr
    assert "delivered 1" in result.stdout
