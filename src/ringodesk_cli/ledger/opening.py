"""Opening the ledger's SQLite file, and what its failures mean to the user.

Every statement the ledger runs goes through a connection that turns SQLite's "this file is
damaged" (``SQLITE_CORRUPT``, ``SQLITE_NOTADB``), "this file may not be written"
(``SQLITE_READONLY``, ``SQLITE_CANTOPEN``, ``SQLITE_PERM``) and "the disk is full"
(``SQLITE_FULL``, ``SQLITE_IOERR``) into the ``StateError`` of each (errors.py): the file, the
cause and the fix, exit 3, never "unexpected error". Other SQLite errors ("no such table",
"database is locked") are left as they are for the code that handles them.

The ledger holds client phone numbers: the file is made 0600 before SQLite opens it, so the
``-wal`` and ``-shm`` files SQLite creates beside it take the same mode (SQLite gives them
the database file's permissions); files left with other modes by older versions are fixed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ringodesk_cli.errors import (
    DiskFullError,
    LedgerDamagedError,
    StateError,
    StateNotWritableError,
    from_os_error,
)
from ringodesk_cli.ledger.schema import migrate

FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")

_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_NOT_WRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")
_FULL = ("SQLITE_FULL", "SQLITE_IOERR")
# The same, by SQLite's message, for an error raised without its code.
_DAMAGED_TEXT = ("file is not a database", "malformed", "database corrupt")
_NOT_WRITABLE_TEXT = ("readonly database", "unable to open database", "access permission")
_FULL_TEXT = ("disk is full", "disk i/o error")


def damaged_hint(path: Path) -> str:
    return (
        f"move it aside with its -wal and -shm files (mv {path} {path}.damaged) and run "
        "`ringodesk sync --replay 3d`: a new ledger first recovers from Zoho Desk what "
        "ringodesk already created in those days, so nothing is created twice (keep the "
        "damaged copy: sqlite3's `.recover` may get older history out of it)"
    )


def state_error(path: Path, exc: sqlite3.Error) -> StateError | None:
    """The StateError that ``exc``, raised by the ledger at ``path``, stands for; None for
    an error that is not about the file or the disk."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc)
    lowered = text.lower()
    folder = path.parent
    if name.startswith(_DAMAGED) or any(t in lowered for t in _DAMAGED_TEXT):
        return LedgerDamagedError(
            str(path), f"the ledger is damaged ({text})", hint=damaged_hint(path)
        )
    if name.startswith(_NOT_WRITABLE) or any(t in lowered for t in _NOT_WRITABLE_TEXT):
        return StateNotWritableError(
            str(path),
            f"the ledger cannot be written ({text})",
            hint=(
                f"make the state folder {folder} and the files in it writable by the user "
                "that runs ringodesk (`ls -la` shows the owner and modes; chown or chmod u+rw "
                "fixes them), or point RINGODESK_HOME at a writable folder"
            ),
        )
    if name.startswith(_FULL) or any(t in lowered for t in _FULL_TEXT):
        cause = "the disk is full" if "full" in lowered else "the disk reported an I/O error"
        return DiskFullError(
            str(path),
            f"{cause} ({text})",
            hint=(
                f"free space on the disk that holds {folder} (and check it for errors), then "
                "run again: what was not recorded stays pending, and the next run looks in "
                "Zoho Desk before it creates anything again"
            ),
        )
    return None


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        error = state_error(path, exc)
        if error is None:
            raise
        raise error from exc


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        with _mapped(self.connection.ledger_path):  # type: ignore[attr-defined]
            super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _Cursor:
        with _mapped(self.connection.ledger_path):  # type: ignore[attr-defined]
            super().executemany(sql, seq_of_parameters)
        return self

    def fetchone(self) -> Any:
        with _mapped(self.connection.ledger_path):  # type: ignore[attr-defined]
            return super().fetchone()

    def fetchall(self) -> list[Any]:
        with _mapped(self.connection.ledger_path):  # type: ignore[attr-defined]
            return super().fetchall()

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        with _mapped(self.connection.ledger_path):  # type: ignore[attr-defined]
            return super().fetchmany(size)


class _Connection(sqlite3.Connection):
    """A connection whose file and disk errors are StateErrors (see the module's docstring)."""

    ledger_path: Path

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script: str, /) -> Any:
        with _mapped(self.ledger_path):
            return super().executescript(script)

    def commit(self) -> None:
        with _mapped(self.ledger_path):
            super().commit()


def _private(path: Path) -> None:
    """The ledger file exists with mode 0600 before SQLite opens it (its -wal and -shm
    files follow it); side files an older version left with other modes are fixed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
        for candidate in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
            with contextlib.suppress(FileNotFoundError):
                if candidate.stat().st_mode & 0o777 != FILE_MODE:
                    candidate.chmod(FILE_MODE)
    except OSError as exc:
        raise _os_error(path, exc) from exc


def _os_error(path: Path, exc: OSError) -> Exception:
    error = from_os_error(exc)
    if isinstance(error, StateNotWritableError):
        return StateNotWritableError(
            error.path, f"the state folder cannot be written ({error.cause})", hint=error.hint
        )
    return error if error is not None else exc


def blank(path: Path) -> bool:
    """No ledger yet: the file is missing or empty (0 bytes: emptied, or never written)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """The ledger's connection: read-only (a dry run, `log`, `doctor`: a missing or empty
    file is an empty ledger in memory) or read-write (created 0600, WAL, migrated to the latest
    schema: ledger/schema.py).
    A file that is not a usable ledger raises its StateError here, before anything is read."""
    if readonly and blank(path):
        db = sqlite3.connect(":memory:", check_same_thread=False, factory=_Connection)
        db.ledger_path = path
        migrate(db)
        return db
    if not readonly:
        _private(path)
    try:
        if readonly:
            uri = f"file:{path}?mode=ro"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=_Connection)
        else:
            db = sqlite3.connect(
                str(path), check_same_thread=False, timeout=30, factory=_Connection
            )
    except sqlite3.Error as exc:
        raise (state_error(path, exc) or exc) from exc
    db.ledger_path = path
    try:
        # A file that is not a database fails here, before anything else reads it.
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        if not readonly:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a row marked done must survive a power cut, or the next run re-creates it.
            db.execute("PRAGMA synchronous=FULL")
            migrate(db)
    except BaseException:
        db.close()
        raise
    if not readonly:
        _private(path)  # the -wal and -shm files SQLite has just made
    return db
