"""The Zoho Desk REST API v1 transport: headers, token, retries, typed errors, paging, a cap on
requests in flight. The endpoint helpers are in :mod:`ringodesk_cli.zoho.desk`.

Library code: never prints. Zoho facts come from Zoho's Desk API documentation and its OpenAPI
files (``v1.0/*.json`` in Zoho's ``zohodesk-oas`` repository, cited as "OAS <file>");
readings that Zoho does not settle are listed in ``docs/zoho-readings.md``.

* Every call carries ``Authorization: Zoho-oauthtoken <token>`` and an ``orgId`` header (the
  OAS's query parameter is the other form); only ``/organizations`` and
  ``/accessibleOrganizations`` work without it.
* One ``requests.Session`` per client, shared by its threads: keep-alive connections in a
  pool sized to those threads (twice the requests in flight, :meth:`limit_in_flight`).
* Retries follow :mod:`ringodesk_cli.http_retry`: 429, 5xx and connection errors, with
  exponential backoff and full jitter, ``Retry-After`` honoured when present (Zoho documents
  none), everything capped; a POST only when Zoho certainly did not act on it. Other 4xx fail
  at once.
* A 401 ``INVALID_OAUTH``/``UNAUTHORIZED`` invalidates the access token and retries once.
* Creates and updates tolerate the readings Zoho leaves open: a record refused for a ``cf``
  value (422 naming ``/cf/<field>``) is sent again without that value, which is kept in the
  description (an optional field never fails a call; counted in ``dropped_cf``); a call or
  task refused for its ``description`` is sent again without it, and the client remembers
  that (``KnownAnswers``, in the profile's state) so no later request sends it.
"""

from __future__ import annotations

import contextlib
import json as _json
import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import urlencode

import requests
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

from ringodesk_cli.errors import (
    Interrupted,
    OutcomeUnknownError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.http_retry import (
    RetryableFailure,
    RetryPolicy,
    may_resend,
    new_adapter,
    new_session,
    retryable_status,
)
from ringodesk_cli.redact import redact, register_secret
from ringodesk_cli.zoho import desk_errors
from ringodesk_cli.zoho.answers import KnownAnswers
from ringodesk_cli.zoho.desk_errors import error_from_answer
from ringodesk_cli.zoho.paging import Pager, endpoint_key, rows_of

__all__ = ["DeskTransport", "TokenSource"]

log = logging.getLogger("ringodesk.desk")

API_PREFIX = "/api/v1"
# Which 429 code means "slow down" and which means "daily credits spent" is not confirmed by
# Zoho (docs/zoho-readings.md). THRESHOLD_EXCEEDED reads like the credits one, so it gets at
# most this many retries (in case it is really a concurrency limit), then CreditsExhaustedError.
THRESHOLD_EXCEEDED_RETRIES = 2
# List sizes from the OAS: calls/tasks at most 99 (Call.json, Task.json `limit` maximum),
# contacts and tickets 100, agents and departments 200 (Agent.json, Department.json).
CALLS_LIMIT = 99
LIST_LIMIT = 100
SETTINGS_LIMIT = 200
SEARCH_LIMIT = 50
# Threads per request slot: the sync and serve run twice as many threads as slots
# (delivery/runner.py, serve/worker.py), so the connection pool holds that many.
THREADS_PER_SLOT = 2
# The pool before limit_in_flight sizes it: room for any thread count the settings allow
# (zoho.concurrency is at most 25). urllib3 opens connections only when needed.
UNLIMITED_POOL = 2 * 25


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class DeskTransport:
    """Thread-safe: one instance is shared by the sync's thread pool."""

    def __init__(
        self,
        desk_url: str,
        tokens: TokenSource,
        org_id: str | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        max_in_flight: int | None = None,
        answers: KnownAnswers | None = None,
    ) -> None:
        root = desk_url.rstrip("/")
        if root.endswith(API_PREFIX):
            root = root[: -len(API_PREFIX)]
        self.api_root = root + API_PREFIX
        self.tokens = tokens
        self.org_id: str | None = org_id
        # The one session of this client; a session handed in is used as it is.
        self._own_session = session is None
        self.pool_size = THREADS_PER_SLOT * max_in_flight if max_in_flight else UNLIMITED_POOL
        self.session = session if session is not None else new_session(self.pool_size)
        self._environment_lock = threading.Lock()
        self.retry = RetryPolicy(max_attempts, backoff_base, backoff_cap, sleep, rng, clock)
        self.timeout = timeout
        self.stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        # What this portal answered once (paging base, refused keys), kept across runs.
        self.answers = answers if answers is not None else KnownAnswers()
        self._pager = Pager(self.answers.first_indexes(), self.answers.learn_first_index)
        # cf values Zoho refused and that were sent again without (field -> count).
        self.dropped_cf: Counter[str] = Counter()
        self._environment: dict[str, Any] | None = None
        self._base_headers: dict[str, str] = {}
        # Zoho limits concurrent calls per portal: at most this many requests are on the
        # wire at once, however many threads prepare work (the sync runs more threads than
        # slots so a slot never idles while a thread commits to the ledger).
        self._slots = _Slots(max_in_flight) if max_in_flight else None
        self._stopping: threading.Event | None = None

    def limit_in_flight(self, slots: int) -> None:
        """At most ``slots`` requests on the wire at once (set before threads start), and a
        connection pool sized to the threads that share them (twice as many)."""
        slots = max(1, slots)
        self._slots = _Slots(slots)
        size = THREADS_PER_SLOT * slots
        if self._own_session and size != self.pool_size:
            # A pool smaller than its threads would open and discard connections; a new
            # adapter (not yet shared) replaces the old one, whose idle connections close.
            old = self.session.adapters["https://"]
            adapter = new_adapter(size)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
            self.pool_size = size
            old.close()

    def stop_when(self, event: threading.Event) -> None:
        """Once ``event`` is set no new request starts: each raises ``Interrupted`` instead
        (checked when a slot is free, right before sending, and before a retry's wait);
        the requests already on the wire finish and return their answers."""
        self._stopping = event

    def _check_stop(self, *_: Any) -> None:
        if self._stopping is not None and self._stopping.is_set():
            raise Interrupted("stopped before sending")

    # ------------------------------------------------------------------ core
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        with_org: bool = True,
    ) -> Any:
        """One API call with retries; the parsed JSON, or ``None`` for 204 / an empty body."""
        method = method.upper()
        auth_retried = False
        threshold_hits = 0

        def attempt() -> Any:
            nonlocal auth_retried
            while True:
                token = self.tokens.access_token()
                register_secret(token)
                try:
                    return self._attempt(method, path, params, json, with_org, token)
                except _StaleToken as stale:
                    if auth_retried:
                        raise error_from_answer(
                            method, path, 401, stale.text, retried_auth=True
                        ) from None
                    auth_retried = True
                    self.tokens.invalidate(token)
                    log.debug(
                        "%s %s: access token refused; retrying once with a fresh one",
                        method,
                        path,
                    )

        def give_up(failure: RetryableFailure) -> bool:
            nonlocal threshold_hits
            if getattr(failure.error, "error_code", None) != desk_errors.THRESHOLD_EXCEEDED:
                return False
            threshold_hits += 1
            return threshold_hits > THRESHOLD_EXCEEDED_RETRIES

        return self.retry.run(
            attempt,
            label=f"{method} {path}",
            logger=log,
            give_up=give_up,
            on_retry=self._check_stop,
        )

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        with_org: bool,
        token: str,
    ) -> Any:
        headers = {"Authorization": f"Zoho-oauthtoken {token}", "Accept": "application/json"}
        if with_org and self.org_id:
            headers["orgId"] = str(self.org_id)
        started = time.monotonic()
        try:
            resp = self._send(method, path, params, body, headers)
        except requests.RequestException as exc:
            elapsed = time.monotonic() - started
            log.debug("%s %s -> %s after %.3fs", method, path, type(exc).__name__, elapsed)
            raise self._transport_failure(method, path, exc) from None
        elapsed = time.monotonic() - started
        status = resp.status_code
        log.debug("%s %s -> %d in %.3fs", method, path, status, elapsed)
        if status < 400:
            return _parse_success(method, path, resp)
        text = resp.text or ""
        code = desk_errors.error_code(desk_errors.parse_body(text))
        if status == 401 and code in desk_errors.TOKEN_REFRESH_CODES:
            raise _StaleToken(text)
        error = error_from_answer(method, path, status, text)
        if retryable_status(status):
            if not may_resend(method, status=status):
                # A resent POST may create a second record: report the open outcome instead.
                raise OutcomeUnknownError(
                    str(error), status=status, error_code=error.error_code, payload=error.payload
                )
            raise RetryableFailure(error, self.retry.retry_after(resp.headers.get("Retry-After")))
        raise error

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str],
    ) -> requests.Response:
        # Prepared outside the slot: only the network round trip holds one of Zoho's
        # concurrent-request slots, not the bookkeeping.
        options = self._environment_settings()
        prepared = self._prepare(method, path, params, body, headers)
        with self._slots if self._slots is not None else contextlib.nullcontext():
            self._check_stop()
            self._count(method, path)
            return self.session.send(prepared, **options)

    def _prepare(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str],
    ) -> requests.PreparedRequest:
        """The request ``Session.prepare_request`` would build, byte for byte, without its
        per-request merging: the session's headers are copied once, the URL is already
        quoted, there is no auth, no cookie and no hook to apply."""
        url = self.api_root + path
        if params:
            query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
            if query:
                url = url + "?" + query
        merged = self._base_headers.copy()
        merged.update(headers)
        data: bytes | None = None
        if body is not None:
            data = _json.dumps(body, allow_nan=False).encode("utf-8")
            merged["Content-Length"] = str(len(data))
            merged.setdefault("Content-Type", "application/json")
        elif method not in ("GET", "HEAD"):
            merged["Content-Length"] = "0"
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(merged)
        prepared.body = data
        prepared.hooks = {"response": []}
        # An empty jar, as prepare_cookies leaves it: Session.send reads it on a redirect.
        prepared._cookies = RequestsCookieJar()  # type: ignore[attr-defined]
        return prepared

    def _environment_settings(self) -> dict[str, Any]:
        # Proxies, CA bundle and netrc from the environment: read once per client, not per
        # request (requests scans the whole environment each time). Redirects are followed
        # and the answer is read whole, as ``Session.request`` does.
        settings = self._environment
        if settings is not None:
            return settings
        with self._environment_lock:
            if self._environment is not None:
                return self._environment
            settings = dict(
                self.session.merge_environment_settings(self.api_root, {}, None, None, None)
            )
            settings["timeout"] = self.timeout
            settings["allow_redirects"] = True
            self.session.trust_env = False  # what it would read per request is read now
            self._base_headers = {str(k): str(v) for k, v in self.session.headers.items()}
            self._environment = settings
        return settings

    def _transport_failure(self, method: str, path: str, exc: Exception) -> Exception:
        message = redact(f"{method} {path}: Zoho Desk could not be reached ({type(exc).__name__})")
        if not may_resend(method, exc=exc):
            return OutcomeUnknownError(message)
        return RetryableFailure(ZohoUnavailableError(message))

    def _count(self, method: str, path: str) -> None:
        with self._stats_lock:
            self.stats[f"{method} {endpoint_key(path)}"] += 1

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every record of a ``from``/``limit`` list, once each (see :mod:`.paging`)."""
        return self._pager.walk(
            lambda page: self.request("GET", path, params=page),
            endpoint_key(path),
            params,
            limit,
        )

    def first_page(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = SEARCH_LIMIT
    ) -> list[dict[str, Any]]:
        """One page, without ``from``: the server starts at its own first record, so whether
        ``from`` counts from 0 or 1 (docs/zoho-readings.md) never matters, and a search costs
        one request. Used for searches, whose hits the caller verifies anyway (each API credit
        counts)."""
        return rows_of(self.request("GET", path, params={**(params or {}), "limit": limit}))


class _Slots:
    """At most ``count`` holders at once (``with slots:``): a queue of tokens, implemented in
    C, so taking and returning a slot is one lock hand-off (a ``threading.Semaphore`` goes
    through a Python-level condition, costly with twenty threads taking turns)."""

    def __init__(self, count: int) -> None:
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(count):
            self._tokens.put(None)

    def __enter__(self) -> None:
        self._tokens.get()

    def __exit__(self, *_: object) -> None:
        self._tokens.put(None)


class _StaleToken(Exception):
    """Internal: a 401 that a fresh access token may cure."""

    def __init__(self, text: str) -> None:
        super().__init__("stale access token")
        self.text = text


def _parse_success(method: str, path: str, resp: requests.Response) -> Any:
    # Lists and searches answer 204 with no body when nothing matches.
    if resp.status_code == 204 or not resp.content or not resp.content.strip():
        return None
    try:
        return resp.json()
    except ValueError:
        raise ZohoError(
            f"{method} {path}: Zoho Desk answered {resp.status_code} with a body that is not JSON",
            status=resp.status_code,
        ) from None
