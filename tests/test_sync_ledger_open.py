"""Opening the ledger (ledger/opening.py): a damaged file, an unwritable state folder and
a full disk are each their own StateError (exit 3) naming the file, the cause and the fix;
the ledger and its -wal and -shm files are 0600."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from ringodesk_cli.errors import (
    DiskFullError,
    ExitCode,
    LedgerDamagedError,
    StateNotWritableError,
    from_os_error,
)
from ringodesk_cli.ledger import opening as ledger_open
from ringodesk_cli.ledger.opening import state_error
from ringodesk_cli.ledger.store import Ledger


def a_ledger(path: Path) -> Path:
    ledger = Ledger(path)
    for i in range(200):
        ledger.set_meta(f"key-{i}", "x" * 200)
    ledger.close()
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_text("notes\n" * 500), id="text"),
        pytest.param(lambda p: p.write_bytes(os.urandom(4096)), id="garbage"),
        pytest.param(lambda p: p.write_bytes(b"\0" * 100 + p.read_bytes()[100:]), id="header"),
    ],
)
def test_a_damaged_ledger_names_the_file_and_the_way_out(
    tmp_path: Path, damage: object, readonly: bool
) -> None:
    path = a_ledger(tmp_path / "ledger.sqlite3")
    damage(path)  # type: ignore[operator]
    with pytest.raises(LedgerDamagedError) as caught:
        Ledger(path, readonly=readonly)
    error = caught.value
    assert error.exit_code == ExitCode.CONFIG
    assert str(error).startswith(f"{path}: the ledger is damaged (")
    assert f"mv {path} {path}.damaged" in (error.hint or "")
    assert "ringodesk sync --replay 3d" in (error.hint or "")


def test_a_truncated_ledger_is_damaged_when_a_lost_page_is_read(tmp_path: Path) -> None:
    path = a_ledger(tmp_path / "ledger.sqlite3")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LedgerDamagedError):
        ledger = Ledger(path)
        for i in range(200):
            ledger.meta(f"key-{i}")
        ledger.integrity_ok()


def test_an_emptied_ledger_is_a_new_one(tmp_path: Path) -> None:
    path = a_ledger(tmp_path / "ledger.sqlite3")
    path.write_bytes(b"")
    ledger = Ledger(path)
    assert ledger.meta("key-1") is None and not ledger.any_done()
    ledger.close()


def test_the_ledger_and_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    ledger = Ledger(path)
    ledger.set_meta("a", "b")
    files = {p.name: mode(p) for p in path.parent.iterdir()}
    ledger.close()
    assert files == {
        "ledger.sqlite3": 0o600,
        "ledger.sqlite3-wal": 0o600,
        "ledger.sqlite3-shm": 0o600,
    }


def test_files_an_older_version_left_0644_become_0600(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    first.set_meta("a", "b")  # -wal and -shm exist while it is open
    for name in ("ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        (tmp_path / name).chmod(0o644)
    second = Ledger(path)
    modes = {p.name: mode(p) for p in tmp_path.glob("ledger.sqlite3*")}
    second.close()
    first.close()
    assert modes == {
        "ledger.sqlite3": 0o600,
        "ledger.sqlite3-wal": 0o600,
        "ledger.sqlite3-shm": 0o600,
    }


def test_a_state_folder_that_cannot_be_written_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"

    def refused(name: object, *args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(name))

    # What a read-only folder answers to a user who is not root (tests may run as root).
    monkeypatch.setattr(ledger_open.os, "open", refused)
    with pytest.raises(StateNotWritableError) as caught:
        Ledger(path)
    assert str(caught.value) == (f"{path}: the state folder cannot be written (Permission denied)")
    assert caught.value.exit_code == ExitCode.CONFIG
    assert "RINGODESK_HOME" in (caught.value.hint or "")


def test_a_full_disk_while_writing_is_named_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    with ledger.reading() as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # no page more: SQLITE_FULL
    with pytest.raises(DiskFullError) as caught:
        for i in range(100):
            ledger.set_meta(f"key-{i}", "x" * 1000)
    ledger.close()
    assert str(caught.value) == f"{path}: the disk is full (database or disk is full)"
    assert caught.value.exit_code == ExitCode.CONFIG
    assert f"free space on the disk that holds {tmp_path}" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("exc", "kind", "cause"),
    [
        (sqlite3.OperationalError("database or disk is full"), DiskFullError,
         "the disk is full (database or disk is full)"),
        (sqlite3.OperationalError("disk I/O error"), DiskFullError,
         "the disk reported an I/O error (disk I/O error)"),
        (sqlite3.OperationalError("attempt to write a readonly database"), StateNotWritableError,
         "the ledger cannot be written (attempt to write a readonly database)"),
        (sqlite3.OperationalError("unable to open database file"), StateNotWritableError,
         "the ledger cannot be written (unable to open database file)"),
        (sqlite3.DatabaseError("file is not a database"), LedgerDamagedError,
         "the ledger is damaged (file is not a database)"),
        (sqlite3.DatabaseError("database disk image is malformed"), LedgerDamagedError,
         "the ledger is damaged (database disk image is malformed)"),
    ],
)  # fmt: skip
def test_sqlite_errors_about_the_file_or_the_disk_become_state_errors(
    exc: sqlite3.Error, kind: type, cause: str
) -> None:
    error = state_error(Path("/srv/state/ledger.sqlite3"), exc)
    assert type(error) is kind
    assert str(error) == f"/srv/state/ledger.sqlite3: {cause}"


@pytest.mark.parametrize(
    "exc",
    [sqlite3.OperationalError("no such table: open_tickets"),
     sqlite3.OperationalError("database is locked"),
     sqlite3.IntegrityError("UNIQUE constraint failed: ops.key")],
)  # fmt: skip
def test_other_sqlite_errors_are_left_to_their_handlers(exc: sqlite3.Error) -> None:
    assert state_error(Path("/srv/state/ledger.sqlite3"), exc) is None


@pytest.mark.parametrize(
    ("number", "kind"),
    [(errno.EACCES, StateNotWritableError), (errno.EROFS, StateNotWritableError),
     (errno.EPERM, StateNotWritableError), (errno.ENOSPC, DiskFullError),
     (errno.EDQUOT, DiskFullError), (errno.ENOENT, None)],
)  # fmt: skip
def test_os_errors_that_mean_unwritable_or_full_are_named(number: int, kind: type | None) -> None:
    error = from_os_error(OSError(number, os.strerror(number), "/srv/state/sync.lock"))
    if kind is None:
        assert error is None
        return
    assert type(error) is kind and error.exit_code == ExitCode.CONFIG
    assert str(error) == f"/srv/state/sync.lock: {os.strerror(number)}"


def test_an_emptied_ledger_read_by_log_or_doctor_is_an_empty_one(tmp_path: Path) -> None:
    path = a_ledger(tmp_path / "ledger.sqlite3")
    path.write_bytes(b"")
    ledger = Ledger(path, readonly=True)
    assert ledger.empty and ledger.counts() == {} and ledger.quarantined_rows() == []
    ledger.close()
    assert path.read_bytes() == b""  # a read changes nothing
