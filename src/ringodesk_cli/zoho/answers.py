"""What a Zoho Desk portal has answered once and need not be asked again: whether ``from``
counts from 0 or 1 on each list endpoint, whether calls and tasks accept ``description``,
whether contacts sort descending. Readings of Zoho that its documentation leaves open are
listed in ``docs/zoho-readings.md``.

Kept as one small JSON file in the profile's state directory, read once when the client is
made and written only when something new is learnt (an atomic replace): no file access per
request. A missing or unreadable file means "nothing known yet".
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("ringodesk.desk")

ANSWERS_FILE_NAME = "zoho-answers.json"

# Keys of the file.
FIRST_INDEX = "from_first_index"  # endpoint key -> 0 or 1
REFUSED_DESCRIPTION = "description_refused"  # ["calls", "tasks"]


class KnownAnswers:
    """Thread-safe; ``path`` None keeps the answers in memory only (tests, one-off clients)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = _load(path) if path is not None else {}

    # -- paging --------------------------------------------------------------------------
    def first_indexes(self) -> dict[str, int]:
        with self._lock:
            known = self._data.get(FIRST_INDEX)
        if not isinstance(known, dict):
            return {}
        return {str(k): int(v) for k, v in known.items() if v in (0, 1)}

    def learn_first_index(self, endpoint: str, first: int) -> None:
        self._update(FIRST_INDEX, lambda d: {**(d if isinstance(d, dict) else {}), endpoint: first})

    # -- refusals ------------------------------------------------------------------------
    def description_refused(self, module: str) -> bool:
        with self._lock:
            refused = self._data.get(REFUSED_DESCRIPTION)
        return isinstance(refused, list) and module in refused

    def refuse_description(self, module: str) -> None:
        self._update(
            REFUSED_DESCRIPTION,
            lambda d: sorted({*(d if isinstance(d, list) else []), module}),
        )

    # -- storage -------------------------------------------------------------------------
    def _update(self, key: str, change: Any) -> None:
        with self._lock:
            before = self._data.get(key)
            after = change(before)
            if after == before:
                return
            self._data[key] = after
            snapshot = json.dumps(self._data, sort_keys=True, indent=1)
            if self.path is not None:
                _save(self.path, snapshot)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.debug("%s: unreadable (%s); starting from nothing known", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, text: str) -> None:
    # Losing this file costs a few requests, never data: a failed write is only logged.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".zoho-answers.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("%s: not written (%s)", path, exc)
