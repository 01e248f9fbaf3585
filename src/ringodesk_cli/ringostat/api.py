"""The Ringostat calls/list client: the call log straight from Ringostat.

Library code: never prints. Facts from Ringostat's help article 6312678 ("Ringostat API")
and from public third-party scripts that call the API:

* ``GET {api_url}/calls/list`` with the header ``Auth-key``; ``export_type=json|csv``,
  ``from``/``to`` as ``YYYY-MM-DD HH:MM:SS``, ``fields=`` a comma list.
* At most 6,500 calls per request (help article): the window is walked in slices, and a
  slice that comes back full is split in half and asked again, so no call is ever cut off.
  Whether Ringostat really cuts at the cap, and how, is not documented (one sync was seen to
  get ~48k rows in one answer): splitting a slice that was not cut costs one request and
  nothing else.
* JSON answers are a top-level array of objects keyed by the requested field names; CSV
  answers are ``;``-separated (third-party scripts). We ask for JSON and read either.
* 401 = bad Auth-key, 403 = forbidden (third-party scripts); a body with "incorrect field"
  names an unknown field. Where that body comes with which status is unknown, so it is
  recognised under any status.
* No rate limit is documented: retries follow :mod:`ringodesk_cli.http_retry` (429, 5xx and
  connection errors, exponential backoff with full jitter, ``Retry-After`` honoured; other
  4xx fail at once), with an injectable sleep, random source and clock.

``calldate``, ``from`` and ``to`` carry no offset and Ringostat does not document their time
zone: we read and write them in the profile's ``ringostat.timezone``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from ringodesk_cli.errors import AuthError, ConfigError, ExitCode, RingodeskError
from ringodesk_cli.http_retry import RetryableFailure, RetryPolicy, new_session, retryable_status
from ringodesk_cli.redact import redact, register_secret
from ringodesk_cli.ringostat.exports import json_text

__all__ = [
    "CALLS_PER_REQUEST",
    "REQUIRED_FIELDS",
    "RingostatAnswerError",
    "RingostatAuthError",
    "RingostatClient",
    "RingostatFieldError",
    "RingostatUnavailableError",
    "TooManyCallsError",
    "fields_for",
]

log = logging.getLogger("ringodesk.ringostat")

ENDPOINT = "/calls/list"
# Ringostat's help article 6312678: "no more than 6,500 calls per request".
CALLS_PER_REQUEST = 6500
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
AUTH_HINT = (
    "check the Auth-key in Ringostat: Integration -> Ringostat API, then run "
    "`ringodesk ringostat login` (or set RINGODESK_RINGOSTAT_KEY)"
)

# Exactly what ringostat/records.py reads to build a CallRecord (record_from_fields and
# _employee): the six columns exports.REQUIRED_FIELDS insists on, the durations, the
# employee fields, the links and the default parameters of catalogue.DEFAULT_PARAMETERS
# (recording_wav is the fallback when recording is empty; employee_mark when employee_fio is).
REQUIRED_FIELDS: tuple[str, ...] = (
    "uniqueid", "calldate", "call_type", "disposition", "caller", "dst",
    "billsec", "duration",
    "employee_fio", "employee_mark", "employee_number", "connected_with",
    "recording", "recording_wav", "call_card",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "client_id",
)  # fmt: skip

_FIELD_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_INCORRECT_FIELD = re.compile(r"incorrect\s+fields?\b\W*([A-Za-z0-9_]*)", re.IGNORECASE)


class RingostatAuthError(AuthError):
    """Ringostat refused the Auth-key (401) or the request (403)."""

    default_hint = AUTH_HINT


class RingostatFieldError(ConfigError):
    """calls/list does not know a field we asked for (a mapping parameter, usually)."""

    def __init__(self, message: str, *, field: str | None, hint: str | None = None) -> None:
        self.field = field
        super().__init__(message, hint=hint)


class RingostatUnavailableError(RingodeskError):
    """Ringostat could not be reached, or kept failing after retries: nothing was fetched
    for the failing slice, so nothing is lost; the next run asks again."""

    exit_code = ExitCode.UNAVAILABLE
    default_hint = "nothing was lost: the calls stay in Ringostat and a later run fetches them"


class TooManyCallsError(RingostatUnavailableError):
    """A slice of the minimum length still came back full: fetching on would cut calls off."""

    default_hint = (
        "Ringostat returned the per-request maximum even for the smallest slice; "
        "no calls were delivered from this window rather than some of them"
    )


class RingostatAnswerError(RingodeskError):
    """Ringostat answered something that is not a call list (a proxy page, a changed API)."""


def fields_for(mappings: Iterable[str]) -> list[str]:
    """``REQUIRED_FIELDS`` plus the profile's mapping parameters (the keys of
    ``[mapping.ticket]`` and ``[mapping.contact]``), each once, in a stable order."""
    wanted = list(REQUIRED_FIELDS)
    for raw in mappings:
        name = str(raw).strip()
        if not _FIELD_NAME.match(name):
            # A comma or a space would change the meaning of the `fields=` list itself.
            raise ConfigError(
                f"{name!r} is not a Ringostat parameter name (letters, digits and _ only)",
                hint="fix the [mapping.ticket] / [mapping.contact] key in the profile",
            )
        if name not in wanted:
            wanted.append(name)
    return wanted


class RingostatClient:
    """One project's calls/list, fetched window by window. Not shared between threads."""

    def __init__(
        self,
        api_url: str,
        auth_key: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        max_attempts: int = 5,
        timeout: float = 60.0,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        slice_length: timedelta = timedelta(hours=6),
        min_slice: timedelta = timedelta(seconds=1),
        cap: int = CALLS_PER_REQUEST,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not auth_key or not auth_key.strip():
            raise RingostatAuthError("no Ringostat Auth-key is set for this profile")
        self.auth_key = auth_key.strip()
        register_secret(self.auth_key)
        self.url = api_url.rstrip("/") + ENDPOINT
        self.session = session if session is not None else new_session()
        self.retry = RetryPolicy(
            max_attempts, backoff_base, backoff_cap, sleep, rng, lambda: clock().timestamp()
        )
        self.timeout = timeout
        self.slice_length = max(slice_length, timedelta(seconds=1))
        self.min_slice = max(min_slice, timedelta(seconds=1))
        self.cap = cap
        self.clock = clock
        # requests, rows (as answered), calls (yielded), duplicates, splits, retries
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ public
    def fetch(
        self, start: datetime, end: datetime, fields: Sequence[str], timezone: ZoneInfo
    ) -> Iterator[dict[str, str]]:
        """Every call with ``start <= calldate <= end``, once each (by ``uniqueid``), in
        slice order. ``start``/``end`` are aware datetimes. A generator: errors surface while
        iterating, before any row of the failing slice."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("fetch needs aware datetimes")
        names = list(dict.fromkeys(["uniqueid", *fields]))
        # Whole seconds, widened outwards: the API speaks in seconds and must not miss the
        # call that starts in the fraction we would otherwise cut.
        lo = start.astimezone(UTC).replace(microsecond=0)
        hi = end.astimezone(UTC)
        if hi.microsecond:
            hi = hi.replace(microsecond=0) + timedelta(seconds=1)
        seen: set[str] = set()
        cursor = lo
        while cursor < hi:
            upper = min(cursor + self.slice_length, hi)
            for row in self._slice(cursor, upper, names, timezone):
                rid = row.get("uniqueid", "")
                if rid:
                    # Neighbouring slices share their border second, so a call at the border
                    # comes back twice (whether from/to are inclusive is not documented).
                    if rid in seen:
                        self.stats["duplicates"] += 1
                        continue
                    seen.add(rid)
                self.stats["calls"] += 1
                yield row
            cursor = upper

    def check_key(self, timezone: ZoneInfo | None = None) -> None:
        """One small request (the last 5 minutes, ``fields=uniqueid``): raises
        ``RingostatAuthError`` for a refused key, ``RingostatUnavailableError`` when
        Ringostat cannot be reached."""
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        self._request(now - timedelta(minutes=5), now, ["uniqueid"], timezone or ZoneInfo("UTC"))

    # ----------------------------------------------------------------- slices
    def _slice(
        self, lo: datetime, hi: datetime, fields: list[str], timezone: ZoneInfo
    ) -> Iterator[dict[str, str]]:
        rows = self._request(lo, hi, fields, timezone)
        if len(rows) < self.cap:
            yield from rows
            return
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if hi - lo <= self.min_slice or mid <= lo or mid >= hi:
            raise TooManyCallsError(
                f"Ringostat returned {len(rows)} calls (its per-request maximum) for "
                f"{_local(lo, timezone)} .. {_local(hi, timezone)}, which cannot be split further"
            )
        self.stats["splits"] += 1
        log.debug(
            "calls/list %s .. %s came back full (%d rows); splitting",
            _local(lo, timezone),
            _local(hi, timezone),
            len(rows),
        )
        del rows
        yield from self._slice(lo, mid, fields, timezone)
        yield from self._slice(mid, hi, fields, timezone)

    # --------------------------------------------------------------- requests
    def _request(
        self, lo: datetime, hi: datetime, fields: list[str], timezone: ZoneInfo
    ) -> list[dict[str, str]]:
        first, last = sorted((_local(lo, timezone), _local(hi, timezone)))
        # Sorted: in the hour a DST change repeats, a slice's local "to" can read earlier
        # than its "from". Neighbouring slices share borders, so the union of the sorted
        # string ranges still covers the whole window.
        params = {"export_type": "json", "from": first, "to": last, "fields": ",".join(fields)}
        return self.retry.run(
            lambda: self._attempt(params, fields),
            label="calls/list",
            logger=log,
            on_retry=lambda _failure: self.stats.update(retries=1),
        )

    def _attempt(self, params: dict[str, str], fields: list[str]) -> list[dict[str, str]]:
        self.stats["requests"] += 1
        headers = {"Auth-key": self.auth_key, "Accept": "application/json, text/csv"}
        started = time.monotonic()
        try:
            resp = self.session.get(self.url, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RetryableFailure(
                RingostatUnavailableError(f"Ringostat could not be reached ({type(exc).__name__})")
            ) from None
        status = resp.status_code
        log.debug(
            "GET calls/list %s .. %s -> %d in %.3fs",
            params["from"],
            params["to"],
            status,
            time.monotonic() - started,
        )
        text = resp.text or ""
        if "incorrect field" in text.lower() and (status >= 400 or not _is_call_list(text)):
            # Only outside a call list: a landing page or a UTM may say anything.
            raise _field_error(text, fields)
        if status in (401, 403):
            what = "refused the Auth-key" if status == 401 else "forbade the request"
            raise RingostatAuthError(f"Ringostat {what} (HTTP {status}): {_excerpt(text)}")
        if retryable_status(status):
            # calls/list is a GET: it may always be sent again.
            error = RingostatUnavailableError(
                f"Ringostat answered HTTP {status} to calls/list: {_excerpt(text)}"
            )
            raise RetryableFailure(error, self.retry.retry_after(resp.headers.get("Retry-After")))
        if status == 404:
            raise ConfigError(
                f"{self.url} answered 404: not a Ringostat calls/list endpoint",
                key="ringostat.api_url",
                hint="check ringostat.api_url (default https://api.ringostat.net)",
            )
        if status >= 400:
            raise RingostatAnswerError(
                f"Ringostat answered HTTP {status} to calls/list: {_excerpt(text)}"
            )
        rows = parse_calls(text)
        self.stats["rows"] += len(rows)
        return rows


# ----------------------------------------------------------------------- answers
def parse_calls(text: str) -> list[dict[str, str]]:
    """A calls/list body as rows of strings: a JSON array of objects, or ``;``-CSV."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        return []
    if body[0] in "[{":
        try:
            value = json.loads(body)
        except ValueError:
            raise RingostatAnswerError(
                f"calls/list answered broken JSON: {_excerpt(text)}"
            ) from None
        if not isinstance(value, list):
            raise RingostatAnswerError(
                f"calls/list answered a JSON {type(value).__name__}, not a list of calls: "
                f"{_excerpt(text)}"
            )
        rows = []
        for item in value:
            if not isinstance(item, dict):
                raise RingostatAnswerError("calls/list answered a list item that is not a call")
            rows.append({str(k): json_text(v) for k, v in item.items()})
        return rows
    if body.lstrip().startswith("<"):
        raise RingostatAnswerError(f"calls/list answered a web page: {_excerpt(text)}")
    reader = csv.reader(io.StringIO(body), delimiter=";")
    header = [h.strip() for h in next(reader, [])]
    return [
        dict(zip(header, row, strict=False))
        for row in reader
        if row and any(cell.strip() for cell in row)
    ]


def _is_call_list(text: str) -> bool:
    """A JSON array, or CSV whose first line is a header of field names."""
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("["):
        return True
    header = body.split("\n", 1)[0].strip().split(";")
    return len(header) > 1 and all(_FIELD_NAME.match(h.strip().strip('"')) for h in header)


def _field_error(text: str, fields: list[str]) -> RingostatFieldError:
    found = _INCORRECT_FIELD.search(text)
    token = found.group(1) if found else ""
    name: str | None = token if token in fields else None
    if name is None:
        tail = text[found.end() :] if found else text
        name = next((f for f in fields if re.search(rf"\b{re.escape(f)}\b", tail)), None)
    name = name or token or None
    what = f"the field {name!r}" if name else "one of the requested fields"
    return RingostatFieldError(
        f"Ringostat's calls/list does not know {what}: {_excerpt(text)}",
        field=name,
        hint="remove or rename that parameter in [mapping.ticket] / [mapping.contact] "
        "(`ringodesk mapping`), or tell us if it is one ringodesk always asks for",
    )


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    if not flat:
        return "(empty body)"
    return redact(flat if len(flat) <= limit else flat[:limit] + "...")


def _local(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime(TIME_FORMAT)
