"""Walk Zoho Desk's ``from``/``limit`` lists without losing or repeating a record.

Sources disagree on whether ``from`` is 0- or 1-based (the OpenAPI says "starts from 0" for
search and "minimum 0" for agents; Pipedream, amp-labs and Sinfjell's client say 1-based; see
docs/zoho-readings.md). Lists answer ``{"data": [...]}`` or 204 with no body.

What we do, per endpoint (path with ids folded to ``{id}``, since search and list endpoints
may differ):

* start at ``from=1``, as most sources do;
* the first time an endpoint is walked, also ask ``from=0`` once (a *probe*); the answer is
  kept (``Pager(known, on_learn)``: the client stores it in the profile's state) so later
  runs do not ask again. A 1-based
  server refuses it (400/422, as the OpenAPI's own ``UNPROCESSABLE_ENTITY`` example shows)
  or returns the same first record; a 0-based server returns a record ``from=1`` skipped,
  which we yield, and later walks of that endpoint start at 0. Without the probe a 0-based
  server would hide its first record, and a phone search usually has exactly one;
* de-duplicate by ``id`` (pages can overlap when records are added while we walk);
* stop on an empty page (204), a short page, or a page holding only ids already seen (a
  server that ignores ``from`` would otherwise loop forever).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ringodesk_cli.errors import ZohoError

Fetch = Callable[[dict[str, Any]], Any]

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def endpoint_key(path: str) -> str:
    """``/contacts/1892000000088017/tickets`` -> ``/contacts/{id}/tickets`` (Zoho ids are
    numeric strings)."""
    return _ID_SEGMENT.sub("/{id}", path.split("?", 1)[0])


def rows_of(body: Any) -> list[dict[str, Any]]:
    """The records of one page: ``{"data": [...]}``, a bare list, or nothing (204)."""
    if isinstance(body, dict):
        body = body.get("data")
    if not isinstance(body, list):
        return []
    return [row for row in body if isinstance(row, dict)]


def record_key(row: dict[str, Any]) -> str:
    ident = row.get("id")
    if ident is not None and ident != "":
        return f"id:{ident}"
    # A record without id cannot be matched by id; its full content is the next best key.
    return "json:" + json.dumps(row, sort_keys=True, default=str)


class Pager:
    """Remembers, per endpoint, whether the server counted ``from`` from 0 or 1.

    Thread-safe: one ``Pager`` is shared by every thread using a ``DeskClient``.
    """

    def __init__(
        self,
        known: dict[str, int] | None = None,
        on_learn: Callable[[str, int], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._first_index: dict[str, int] = dict(known or {})
        self._on_learn = on_learn

    def first_index(self, key: str) -> int | None:
        with self._lock:
            return self._first_index.get(key)

    def _learn(self, key: str, first: int) -> None:
        with self._lock:
            new = self._first_index.get(key) != first
            self._first_index[key] = first
        if new and self._on_learn is not None:
            self._on_learn(key, first)

    def walk(
        self, fetch: Fetch, key: str, params: dict[str, Any] | None, limit: int
    ) -> Iterator[dict[str, Any]]:
        """Yield every record once. ``fetch(params)`` performs one GET and returns its JSON
        (``None`` for 204)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        base = dict(params or {})
        known = self.first_index(key)
        start = known if known is not None else 1
        seen: set[str] = set()

        rows = rows_of(fetch({**base, "from": start, "limit": limit}))
        first_rows: list[dict[str, Any]] = []
        if known is None:
            first_rows = self._probe(fetch, key, base, limit, rows)
        while True:
            fresh: dict[str, dict[str, Any]] = {}
            for row in first_rows + rows:
                key_ = record_key(row)
                if key_ not in seen:
                    fresh.setdefault(key_, row)
            first_rows = []
            if not fresh:
                return
            seen.update(fresh)
            yield from fresh.values()
            if len(rows) < limit:
                return
            start += len(rows)
            rows = rows_of(fetch({**base, "from": start, "limit": limit}))

    def _probe(
        self,
        fetch: Fetch,
        key: str,
        base: dict[str, Any],
        limit: int,
        page_one: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Ask ``from=0`` once; return the records it revealed that ``from=1`` skipped."""
        try:
            probe = rows_of(fetch({**base, "from": 0, "limit": limit}))
        except ZohoError as exc:
            if exc.status in (400, 422):
                self._learn(key, 1)
                return []
            raise
        if not probe:
            if page_one:
                self._learn(key, 1)
            # Both empty: nothing learnt; probe again on the next walk.
            return []
        page_one_keys = {record_key(row) for row in page_one}
        if record_key(probe[0]) in page_one_keys:
            # ``from=0`` and ``from=1`` start with the same record: 1-based (0 read as 1).
            self._learn(key, 1)
            return []
        self._learn(key, 0)
        return [row for row in probe if record_key(row) not in page_one_keys]
