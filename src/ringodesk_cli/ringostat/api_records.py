"""Call records from calls/list rows: the same normalisation as the file readers.

An API row goes through :func:`ringodesk_cli.ringostat.records.record_from_fields`, as a row
of a saved calls/list CSV or JSON file does (``exports.read_export``). So one call fetched
from the API and read from a file is the same record: the same Ringostat id, and the same
``content_hash`` when the same fields were asked for (the hash covers ``extra``: every
non-empty field beyond the typed ones), which is what keeps mixed sources from duplicating.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from ringodesk_cli.ringostat.records import BadRow, CallRecord, RowError, record_from_fields

SOURCE = "ringostat-api"


def records_from_api(
    rows: Iterable[Mapping[str, str]],
    *,
    timezone: ZoneInfo,
    default_region: str,
    now: datetime | None = None,
) -> Iterator[CallRecord | BadRow]:
    """A ``CallRecord`` or a ``BadRow`` per row; ``line`` is the row's 1-based position in
    the fetch, so a bad row can be found again in a ``--json`` report."""
    for index, row in enumerate(rows, start=1):
        try:
            yield record_from_fields(
                row,
                source=SOURCE,
                line=index,
                timezone=timezone,
                default_region=default_region,
                now=now,
            )
        except RowError as exc:
            rid = (row.get("uniqueid") or "").strip() or None
            yield BadRow(SOURCE, index, rid, exc.field, exc.reason)
