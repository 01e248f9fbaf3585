"""The set of client numbers a dry run has met (sync/preview.py), kept out of memory."""

from __future__ import annotations

import sqlite3


class SeenNumbers:
    """The client numbers a dry run has met, in a private temporary SQLite file (deleted on
    close) with a small page cache: a set of 200,000 numbers in memory would make the dry
    run's memory grow with the export."""

    def __init__(self) -> None:
        # An empty file name: SQLite's private temporary on-disk database.
        self._db = sqlite3.connect("")
        self._db.execute("PRAGMA cache_size = -1024")  # KiB
        self._db.execute("CREATE TABLE seen (number TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, number: str) -> bool:
        """True when ``number`` was not seen before."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (number,))
        return cursor.rowcount == 1
