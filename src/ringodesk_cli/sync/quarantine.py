"""Rows in quarantine: export rows that could not become calls, kept in the ledger until
they are fixed (a corrected export is read) and dropped, so that they stay visible to every
later run, to `ringodesk quarantine list` and to `doctor`, not only to the run that met them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ringodesk_cli.errors import UsageError
from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger, QuarantinedRow

# `doctor` warns while rows this recent are in quarantine: what cron's `--replay 3d` reaches.
RECENT = timedelta(days=3)


def list_quarantined(state_dir: Path) -> list[QuarantinedRow]:
    """Every quarantined row of the profile whose state is in ``state_dir``, oldest first."""
    path = state_dir / LEDGER_FILE
    if not path.exists():
        return []
    ledger = Ledger(path, readonly=True)
    try:
        return ledger.quarantined_rows()
    finally:
        ledger.close()


def drop_quarantined(state_dir: Path, ids: list[int] | None) -> int:
    """Forget the rows ``ids`` (None: every row), under the run lock; the number dropped.
    A row still wrong in an export that is read again comes back, as new."""
    from ringodesk_cli.locks import RUN_LOCK, RunLock

    path = state_dir / LEDGER_FILE
    if not path.exists():
        if ids:
            raise UsageError(f"no quarantined row with id {ids[0]} (nothing is quarantined)")
        return 0
    with RunLock(state_dir, RUN_LOCK):
        ledger = Ledger(path)
        try:
            if ids is not None:
                known = {row.id for row in ledger.quarantined_rows()}
                unknown = [str(i) for i in ids if i not in known]
                if unknown:
                    raise UsageError(
                        f"no quarantined row with id {', '.join(unknown)}",
                        hint="`ringodesk quarantine list` shows the ids",
                    )
            return ledger.drop_quarantined(ids)
        finally:
            ledger.close()


def recent(rows: list[QuarantinedRow], now: datetime) -> list[QuarantinedRow]:
    """The rows first seen less than ``RECENT`` before ``now``."""
    return [row for row in rows if (_when(row.first_seen) or now) > now - RECENT]


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
