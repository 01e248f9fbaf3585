"""Ringostat's Webhooks 2.0, rehearsed: an export replayed as before and after webhooks.

Each call of a calls/list-named export (CSV with ``;`` or ``,``, or a JSON list) becomes two
POSTs in the order a real day would send them: the "before" event at the call's start (the
parameters known while it rings: no status, no durations, no recording) and the "after"
event at its end (every parameter). ``rate`` caps the requests per second. Like the rest of
the sandbox, this reads the file on its own (no ``ringostat/`` code): a stand-in that
shared the receiver's parsing could not catch its mistakes.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

# What Ringostat can tell while the call still rings.
BEFORE_FIELDS = ("uniqueid", "calldate", "call_type", "caller", "dst", "pool_name", "utm_source",
                 "utm_medium", "utm_campaign", "utm_term", "utm_content", "client_id",
                 "landing", "employee_number", "employee_fio")  # fmt: skip


@dataclass(frozen=True)
class Webhook:
    event: str
    body: dict[str, str]

    @property
    def call_id(self) -> str:
        return self.body.get("uniqueid", "")


@dataclass
class Replay:
    """What a replay sent: answers by status, and the ids of the calls answered 200."""

    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    answered: list[tuple[str, str]] = field(default_factory=list)  # (event, id) answered 200
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "answered_200": len(self.answered),
            "errors": self.errors[:20],
        }


def read_calls(path: Path) -> list[dict[str, str]]:
    """The rows of an export whose headers are calls/list names."""
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        rows = json.loads(text)
        return [{str(k): "" if v is None else str(v) for k, v in r.items()} for r in rows]
    delimiter = ";" if text.split("\n", 1)[0].count(";") >= 1 else ","
    return [dict(r) for r in csv.DictReader(io.StringIO(text), delimiter=delimiter)]


def webhooks(rows: Iterable[Mapping[str, str]]) -> list[Webhook]:
    """Before and after events of every call, in the order of their moments."""
    timed: list[tuple[datetime, int, Webhook]] = []
    for order, row in enumerate(rows):
        start = _moment(row.get("calldate", ""))
        seconds = _seconds(row.get("duration", ""))
        before = {k: row[k] for k in BEFORE_FIELDS if row.get(k)}
        timed.append((start, 2 * order, Webhook("before", before)))
        end = start + timedelta(seconds=seconds)
        timed.append((end, 2 * order + 1, Webhook("after", {k: v for k, v in row.items() if v})))
    timed.sort(key=lambda t: (t[0], t[1]))
    return [w for _, _, w in timed]


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return datetime.min


def _seconds(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0


def with_event(url: str, event: str) -> str:
    """``url`` (which carries ``key=``) with ``event=`` set."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "event"] + [("event", event)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def send(
    hooks: Iterable[Webhook],
    to: str,
    *,
    rate: float = 10.0,
    form: bool = False,
    workers: int = 8,
    on_answer: Callable[[Webhook, int, float], None] | None = None,
) -> Replay:
    """POSTs each webhook to ``to`` (a URL with ``key=``) at most ``rate`` per second, in
    order of sending (answers may overlap). ``form``: form-encoded instead of JSON."""
    result = Replay()
    lock = threading.Lock()
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def post(hook: Webhook) -> None:
        url = with_event(to, hook.event)
        started = time.perf_counter()
        try:
            if form:
                answer = session.post(url, data=hook.body, timeout=30)
            else:
                answer = session.post(url, json=hook.body, timeout=30)
            status = answer.status_code
        except requests.RequestException as exc:
            status = 0
            with lock:
                result.errors.append(f"{hook.event} {hook.call_id}: {type(exc).__name__}")
        ms = (time.perf_counter() - started) * 1000
        with lock:
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.latencies_ms.append(ms)
            if status == 200:
                result.answered.append((hook.event, hook.call_id))
        if on_answer is not None:
            on_answer(hook, status, ms)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for hook in _paced(hooks, rate):
            result.sent += 1
            pool.submit(post, hook)
    return result


def _paced(hooks: Iterable[Webhook], rate: float) -> Iterator[Webhook]:
    interval = 1.0 / rate if rate > 0 else 0.0
    start = time.monotonic()
    for i, hook in enumerate(hooks):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield hook
