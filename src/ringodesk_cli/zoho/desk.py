"""The Zoho Desk REST API v1 client: headers, retries, typed errors, paging, endpoint helpers.

Library code: never prints. Zoho facts come from Zoho's Desk API documentation and its OpenAPI
files (``v1.0/*.json`` in Zoho's ``zohodesk-oas`` repository, cited as "OAS <file>");
readings that Zoho does not settle are listed in ``docs/zoho-readings.md``.

* Every call carries ``Authorization: Zoho-oauthtoken <token>`` and an ``orgId`` header (the
  OAS's query parameter is the other form); only ``/organizations`` and
  ``/accessibleOrganizations`` work without it.
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

import json as _json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import requests
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
    new_session,
    retryable_status,
)
from ringodesk_cli.redact import redact, register_secret
from ringodesk_cli.zoho import desk_errors
from ringodesk_cli.zoho.answers import KnownAnswers
from ringodesk_cli.zoho.desk_errors import error_from_answer
from ringodesk_cli.zoho.paging import Pager, endpoint_key, rows_of

__all__ = ["DeskClient", "OutcomeUnknownError", "TokenSource"]

log = logging.getLogger("ringodesk.desk")

API_PREFIX = "/api/v1"
# Which 429 code means "slow down" and which means "daily credits spent" is not confirmed by
# Zoho (docs/zoho-readings.md). THRESHOLD_EXCEEDED reads like the credits one, so it gets at
# most this many retries (in case it is really a concurrency limit), then CreditsExhaustedError.
THRESHOLD_EXCEEDED_RETRIES = 2
# List sizes from the OAS: calls/tasks at most 99 (Call.json, Task.json `limit` maximum),
# contacts and tickets 100, agents and departments 200 (Agent.json, Department.json).
_CALLS_LIMIT = 99
_LIST_LIMIT = 100
_SETTINGS_LIMIT = 200
_SEARCH_LIMIT = 50


class TokenSource(Protocol):
    def access_token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class DeskClient:
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
        # A pool large enough for the sync's threads (zoho.concurrency; Zoho allows at most
        # 25 concurrent calls per portal).
        self.session = session if session is not None else new_session(pool_maxsize=64)
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
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        self._stopping: threading.Event | None = None

    def limit_in_flight(self, slots: int) -> None:
        """At most ``slots`` requests on the wire at once (set before threads start)."""
        self._slots = threading.BoundedSemaphore(max(1, slots))

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
        if self._slots is None:
            self._check_stop()
            self._count(method, path)
            return self.session.send(prepared, **options)
        with self._slots:
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
        return prepared

    def _environment_settings(self) -> dict[str, Any]:
        # Proxies, CA bundle and netrc from the environment: read once per client, not per
        # request (requests scans the whole environment each time). Redirects are followed
        # and the answer is read whole, as ``Session.request`` does.
        settings = self._environment
        if settings is None:
            settings = dict(
                self.session.merge_environment_settings(self.api_root, {}, None, None, None)
            )
            settings["timeout"] = self.timeout
            settings["allow_redirects"] = True
            self._environment = settings
            self.session.trust_env = False  # what it would read per request is read now
            self._base_headers = {str(k): str(v) for k, v in self.session.headers.items()}
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
        self, path: str, params: dict[str, Any] | None = None, *, limit: int = _SEARCH_LIMIT
    ) -> list[dict[str, Any]]:
        """One page, without ``from``: the server starts at its own first record, so whether
        ``from`` counts from 0 or 1 (docs/zoho-readings.md) never matters, and a search costs
        one request. Used for searches, whose hits the caller verifies anyway (each API credit
        counts)."""
        return rows_of(self.request("GET", path, params={**(params or {}), "limit": limit}))

    # ------------------------------------------------------- organizations
    def organizations(self) -> list[dict[str, Any]]:
        return rows_of(self.request("GET", "/organizations", with_org=False))

    def accessible_organizations(self) -> list[dict[str, Any]]:
        # The orgs this token was granted (OAS Organization.json); asked before an org is chosen.
        return rows_of(self.request("GET", "/accessibleOrganizations", with_org=False))

    def myinfo(self) -> dict[str, Any]:
        return _one(self.request("GET", "/myinfo"), "/myinfo")

    def departments(self) -> list[dict[str, Any]]:
        return list(self.paginate("/departments", limit=_SETTINGS_LIMIT))

    def agents(self) -> list[dict[str, Any]]:
        # OAS Agent.json: `status` filters ACTIVE or DISABLED; whether no filter returns both
        # is not documented, so ask for each and merge (the manager picker must see disabled
        # agents to refuse them by name).
        found: dict[str, dict[str, Any]] = {}
        for status in ("ACTIVE", "DISABLED"):
            for agent in self.paginate("/agents", {"status": status}, limit=_SETTINGS_LIMIT):
                found.setdefault(str(agent.get("id")), agent)
        return list(found.values())

    # -------------------------------------------------------------- fields
    def list_fields(self, module: str) -> list[dict[str, Any]]:
        # The current Fields API (OAS Field.json); a data center without it answers 404
        # URL_NOT_FOUND (NotFoundError), and the caller falls back to list_organization_fields.
        return rows_of(self.request("GET", "/fields", params={"module": module}))

    def create_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        return _one(
            self.request("POST", "/fields", params={"module": module}, json=body), "/fields"
        )

    def list_organization_fields(self, module: str) -> list[dict[str, Any]]:
        # Its deprecated twin (OAS FieldOld.json, x-deprecated-on 01/07/2026).
        return rows_of(self.request("GET", "/organizationFields", params={"module": module}))

    def create_organization_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.request("POST", "/organizationFields", params={"module": module}, json=body)
        return _one(answer, "/organizationFields")

    # ------------------------------------------------------------ contacts
    def search_contacts(
        self,
        *,
        phone: str | None = None,
        mobile: str | None = None,
        all_: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """At most ``limit`` matches. ``phone``/``mobile`` exist only in newer OAS
        versions and match by wildcard; callers verify each number. Criteria given together
        are combined by Zoho (presumably AND), so search phone and mobile separately."""
        params = {k: v for k, v in (("phone", phone), ("mobile", mobile), ("_all", all_)) if v}
        if not params:
            raise ValueError("search_contacts needs phone, mobile or all_")
        found = self.first_page("/contacts/search", params, limit=min(limit, _SEARCH_LIMIT))
        return found[:limit]

    def create_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._write("POST", "/contacts", "contacts", body)

    def newest_contacts(self, limit: int = 99) -> list[dict[str, Any]]:
        """One page of the most recently created contacts. Contact.json lists ``sortBy``
        names without the ``-`` (descending) form Task.json documents: if Zoho refuses it
        (remembered), the last page of the ascending order is read instead, located with
        ``GET /contacts/count``; a count Zoho will not give means an empty answer."""
        if not self.answers.contact_sort_desc_refused():
            try:
                return self.first_page("/contacts", {"sortBy": "-createdTime"}, limit=limit)
            except ZohoError as exc:
                if not _names_parameter(exc, "sortBy"):
                    raise
                self.answers.refuse_contact_sort_desc()
        try:
            count = int(_one(self.request("GET", "/contacts/count"), "/contacts/count")["count"])
        except (ZohoError, KeyError, TypeError, ValueError):
            return []
        if count <= 0:
            return []
        # Counted from 1 this page ends with the newest contact; counted from 0 it ends one
        # record past it (a short page): either way the newest is in it.
        start = max(1, count - limit + 1)
        params = {"sortBy": "createdTime", "from": start, "limit": limit}
        page = rows_of(self.request("GET", "/contacts", params=params))
        return page[::-1]

    # ------------------------------------------------------------- tickets
    def create_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._write("POST", "/tickets", "tickets", body)

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        path = _path("/tickets/{}", ticket_id)
        return _one(self.request("GET", path), path)

    def search_tickets(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/tickets/search", {"subject": subject})

    def list_contact_tickets(self, contact_id: str, department_id: str) -> list[dict[str, Any]]:
        # OAS Ticket.json; the older version marks departmentId required, so it is sent.
        path = _path("/contacts/{}/tickets", contact_id)
        return list(self.paginate(path, {"departmentId": department_id}, limit=_LIST_LIMIT))

    # --------------------------------------------------------------- calls
    def create_call(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._write("POST", "/calls", "calls", body)

    def update_call(self, call_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._write("PATCH", _path("/calls/{}", call_id), "calls", body)

    def search_calls(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/calls/search", {"subject": subject})

    def list_ticket_calls(self, ticket_id: str) -> list[dict[str, Any]]:
        path = _path("/tickets/{}/calls", ticket_id)  # OAS Call.json
        return list(self.paginate(path, limit=_CALLS_LIMIT))

    def newest(self, module: str, department_id: str) -> list[dict[str, Any]]:
        """One page of the department's most recently created calls or tasks
        (``GET /calls`` or ``/tasks`` with ``sortBy=-createdTime``, ``departmentId`` sent as
        the older OAS requires). Call.json lists ``sortBy`` without the ``-`` form Task.json
        documents: a refusal of it is an empty answer (the caller searches next)."""
        params = {"departmentId": department_id, "sortBy": "-createdTime"}
        try:
            return self.first_page(f"/{module}", params, limit=_CALLS_LIMIT)
        except ZohoError as exc:
            if _names_parameter(exc, "sortBy"):
                return []
            raise

    # --------------------------------------------------------------- tasks
    def create_task(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._write("POST", "/tasks", "tasks", body)

    def search_tasks(self, *, subject: str) -> list[dict[str, Any]]:
        return self.first_page("/tasks/search", {"subject": subject})

    # ------------------------------------------------------ tolerant writes
    def _write(self, method: str, path: str, module: str, body: dict[str, Any]) -> dict[str, Any]:
        """A create or update that an open reading of Zoho does not fail: a refused
        ``description`` (calls, tasks) or ``cf`` value is dropped and the body sent again.
        Each key is dropped at most once, so this ends."""
        body = dict(body)
        if module in _DESCRIPTION_OPTIONAL and self.answers.description_refused(module):
            body.pop("description", None)
        while True:
            if method == "PATCH" and not body:
                return {}  # nothing left that this portal accepts: no request
            try:
                return _one(self.request(method, path, json=body), path)
            except ZohoError as exc:
                fixed = self._without_refused(module, body, exc)
                if fixed is None:
                    raise
                body = fixed

    def _without_refused(
        self, module: str, body: dict[str, Any], exc: ZohoError
    ) -> dict[str, Any] | None:
        """``body`` without the keys ``exc`` refuses, or None when it refuses anything else
        (the error stands)."""
        if exc.status not in (400, 422) or not exc.errors:
            return None
        cf = dict(body.get("cf") or {})
        drop_description = False
        refused_cf: list[str] = []
        for error in exc.errors:
            parts = str(error.get("fieldName") or "").strip("/").split("/")
            if (
                parts == ["description"]
                and module in _DESCRIPTION_OPTIONAL
                and "description" in body
            ):
                drop_description = True
            elif len(parts) == 2 and parts[0] == "cf" and parts[1] in cf:
                refused_cf.append(parts[1])
            elif len(parts) == 1 and parts[0] in cf and parts[0] not in body:
                refused_cf.append(parts[0])  # a field named without its /cf/ prefix
            else:
                return None
        fixed = dict(body)
        if drop_description:
            fixed.pop("description")
            self.answers.refuse_description(module)
            log.info("Zoho refuses description on %s: sent without it from now on", module)
        if refused_cf:
            kept = {name: str(cf.pop(name)) for name in dict.fromkeys(refused_cf)}
            if cf:
                fixed["cf"] = cf
            else:
                fixed.pop("cf", None)
            if "description" in fixed:
                fixed["description"] = _with_values(str(fixed["description"] or ""), kept)
            with self._stats_lock:
                self.dropped_cf.update(kept.keys())
            log.info("Zoho refuses the value of %s on %s: sent without it", ", ".join(kept), module)
        return fixed


# Calls and tasks: description is only in the newer OAS request bodies.
_DESCRIPTION_OPTIONAL = frozenset({"calls", "tasks"})


def _names_parameter(exc: ZohoError, name: str) -> bool:
    """A 400/422 refusal that names the query parameter ``name``."""
    return exc.status in (400, 422) and f"'{name}'" in str(exc)


def _with_values(description: str, values: dict[str, str]) -> str:
    """The description with the cf values Zoho refused, unless it already holds them."""
    missing = {k: v for k, v in values.items() if v and v not in description}
    if not missing:
        return description
    lines = ["Values Zoho did not accept in their custom fields:"]
    lines.extend(f"{name}: {value}" for name, value in missing.items())
    return (description + "\n\n" if description else "") + "\n".join(lines)


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


def _one(answer: Any, path: str) -> dict[str, Any]:
    if isinstance(answer, dict):
        return answer
    raise ZohoError(f"{path}: expected a JSON object from Zoho Desk, got {type(answer).__name__}")


def _path(template: str, *ids: str) -> str:
    # Ids are Zoho's numeric strings; quoting keeps a malformed one from changing the path.
    return template.format(*(quote(str(i), safe="") for i in ids))
