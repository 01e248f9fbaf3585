"""The ledger's connection: one SQLite file per profile shared by threads, and its write
rules (each write commits when it ends; ``batch`` commits in chunks; ``atomic`` takes the
write lock before the first read). ``Ledger`` (store.py) adds the tables' operations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ringodesk_cli.ledger.opening import blank, connect

LEDGER_FILE = "ledger.sqlite3"
BATCH_WRITES = 500


def stamp(moment: datetime) -> str:
    """How the ledger writes a time (UTC, microseconds): stamps compare as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_stamp() -> str:
    return stamp(datetime.now(UTC))


class LedgerConnection:
    """One SQLite file per profile; safe to share between the runner's threads."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        self._batching = 0  # nesting depth of ``batch``
        self._batched = 0  # writes not yet committed inside a batch
        # A dry run before any sync reads a ledger that does not exist: nothing to look up.
        self.empty = readonly and blank(path)
        # Damaged, unwritable or on a full disk: a StateError naming the file and the fix.
        self._db = connect(path, readonly=readonly)
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        with self._lock:
            try:  # a full disk refuses the commit: the connection is closed all the same
                if not self.readonly and self._db.in_transaction:
                    self._db.commit()
            finally:
                self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write, committed when it ends -- or, inside ``batch``, with the batch. No
        write transaction is left open across a request to Zoho or while idle, so another
        process's write (a webhook stored by `serve`) never waits behind delivery."""
        if self.readonly:
            raise RuntimeError("the ledger is open read-only (--dry-run)")
        with self._lock:
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            commit = True
            if self._batching:
                self._batched += 1
                commit = self._batched >= BATCH_WRITES
            if commit:
                self._db.commit()
                self._batched = 0

    def writing(self) -> AbstractContextManager[sqlite3.Connection]:
        """The connection for one write of a table kept by a module of its own (the contact
        index's rows), with the same commit rule as the ledger's own writes."""
        return self._write()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """The reads and writes inside are one step, also against other processes (a sync
        beside `serve`): the write lock is taken before the first read (BEGIN IMMEDIATE).
        Writes commit by their own rules; a step that wrote nothing ends its transaction."""
        with self._lock:
            began = not self.readonly and not self._db.in_transaction
            if began:
                self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if began and self._db.in_transaction:
                    self._db.rollback()
                raise
            if began and self._db.in_transaction and not self._batching:
                self._db.commit()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The writes inside are committed together, every ``BATCH_WRITES`` and at the end:
        one fsync instead of one per row. For storing what was read: a crash loses at most
        the rows of the open batch, and those are read again by the next run (a file is
        remembered as read, and an API fetch as done, only after all its rows are in)."""
        with self._lock:
            self._batching += 1
        try:
            yield
        finally:
            with self._lock:
                self._batching -= 1
                if not self._batching and self._db.in_transaction:
                    self._db.commit()
                    self._batched = 0
