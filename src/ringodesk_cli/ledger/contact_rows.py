"""The ``contact_index`` table: the storage half of the local contact index
(contacts/index.py builds, refreshes and reads it through these).

A read-only ledger from before the table has none: its reads answer nothing (no contact,
zero counts) instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ringodesk_cli.ledger.store import Ledger

# (contact_id, phone, mobile, modified_time, created_time, web_url, name)
ContactRow = tuple[str, str | None, str | None, str, str, str | None, str]


@dataclass(frozen=True)
class IndexedContact:
    contact_id: str
    phone: str | None
    mobile: str | None
    modified_time: str
    created_time: str
    web_url: str | None
    name: str


_PAIRS = """SELECT phone AS n, contact_id AS cid FROM contact_index WHERE phone IS NOT NULL
            UNION SELECT mobile, contact_id FROM contact_index WHERE mobile IS NOT NULL"""


class ContactRows:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def meta(self, key: str) -> str | None:
        try:
            return self.ledger.meta(key)
        except sqlite3.OperationalError:
            return None

    def counts(self) -> tuple[int, int, int]:
        """(contacts, contacts without a number, distinct numbers)."""
        try:
            with self.ledger.reading() as db:
                contacts, without = db.execute(
                    "SELECT COUNT(*), COALESCE(SUM(phone IS NULL AND mobile IS NULL), 0) "
                    "FROM contact_index"
                ).fetchone()
                numbers = db.execute(
                    "SELECT COUNT(*) FROM (SELECT phone AS n FROM contact_index WHERE phone "
                    "IS NOT NULL UNION SELECT mobile FROM contact_index WHERE mobile IS NOT NULL)"
                ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0, 0, 0
        return int(contacts), int(without), int(numbers)

    def candidates(self, number: str) -> list[IndexedContact]:
        """Every contact whose phone or mobile is ``number``, newest first."""
        try:
            with self.ledger.reading() as db:
                rows = db.execute(
                    "SELECT * FROM contact_index WHERE phone = ? OR mobile = ? "
                    "ORDER BY modified_time DESC, contact_id DESC",
                    (number, number),
                ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [_contact(r) for r in rows]

    def shared(self) -> list[tuple[str, IndexedContact]]:
        """(number, contact) for each number held by several contacts: by number, each
        number's contacts oldest first."""
        with self.ledger.reading() as db:
            rows = db.execute(
                f"""SELECT n, c.* FROM ({_PAIRS}) AS pairs
                   JOIN contact_index AS c ON c.contact_id = pairs.cid
                   WHERE n IN (SELECT n FROM ({_PAIRS}) GROUP BY n HAVING COUNT(*) > 1)
                   ORDER BY n, c.created_time, c.contact_id"""
            ).fetchall()
        return [(str(row[0]), _contact(row)) for row in rows]

    def upsert(self, rows: list[ContactRow]) -> None:
        with self.ledger.writing() as db:
            db.executemany(
                """INSERT INTO contact_index (contact_id, phone, mobile, modified_time,
                       created_time, web_url, name) VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (contact_id) DO UPDATE SET phone = excluded.phone,
                       mobile = excluded.mobile, modified_time = excluded.modified_time,
                       created_time = excluded.created_time, web_url = excluded.web_url,
                       name = excluded.name""",
                rows,
            )

    def drop(self, contact_id: str) -> None:
        with self.ledger.writing() as db:
            db.execute("DELETE FROM contact_index WHERE contact_id = ?", (contact_id,))

    def clear(self) -> None:
        """Every row gone (committed at once, like every write)."""
        with self.ledger.writing() as db:
            db.execute("DELETE FROM contact_index")

    def relink(self, old_ids: Iterable[str], contact_id: str) -> None:
        """The ledger's number links to ``old_ids`` follow ``contact_id``."""
        with self.ledger.writing() as db:
            db.executemany(
                "UPDATE contacts SET contact_id = ? WHERE contact_id = ?",
                [(contact_id, old) for old in old_ids],
            )

    def set(self, key: str, value: str | None) -> None:
        """A meta value of the index; None removes it."""
        with self.ledger.writing() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    def newest_modified(self) -> str | None:
        with self.ledger.reading() as db:
            newest = db.execute("SELECT MAX(modified_time) FROM contact_index").fetchone()[0]
        return str(newest) if newest else None

    def size(self) -> int:
        with self.ledger.reading() as db:
            return int(db.execute("SELECT COUNT(*) FROM contact_index").fetchone()[0])


def _contact(row: sqlite3.Row) -> IndexedContact:
    return IndexedContact(
        contact_id=row["contact_id"],
        phone=row["phone"],
        mobile=row["mobile"],
        modified_time=row["modified_time"],
        created_time=row["created_time"],
        web_url=row["web_url"],
        name=row["name"] or "",
    )
