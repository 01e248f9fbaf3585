"""The sandbox itself: one object that owns the state, the limits and the faults, and a
standard-library HTTP server (Accounts under ``/oauth``, Desk under ``/api/v1``, Ringostat's
``/calls/list``, admin under ``/__sandbox__``, all on one root) that serves it from a daemon
thread."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ringodesk_cli.sandbox.call_attachments import AttachmentEndpoints, parse_multipart
from ringodesk_cli.sandbox.config import SandboxConfig, resolve_readings
from ringodesk_cli.sandbox.desk_records import RecordEndpoints
from ringodesk_cli.sandbox.desk_setup import SetupEndpoints
from ringodesk_cli.sandbox.latency import Latency
from ringodesk_cli.sandbox.oauth import Accounts, Grant, scope_covers
from ringodesk_cli.sandbox.recordings import RecordingShelf
from ringodesk_cli.sandbox.replies import ApiError, DeskRequest, Reply, not_found
from ringodesk_cli.sandbox.ringostat_api import RingostatStandIn
from ringodesk_cli.sandbox.routes import build_routes, match
from ringodesk_cli.sandbox.store import RECORD_KINDS, Store
from ringodesk_cli.sandbox.validation import require_json_object

DROP = Reply(0)  # close the connection without answering
FAULT_KINDS = ("429", "500", "drop", "drop_after_write")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LOG_MAX = 20_000


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a killed sync, a dropped-connection fault) is normal here."""

    request_queue_size = 64  # the sync opens up to 2 x zoho.concurrency connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """A running (or runnable) sandbox. Thread-safe; see the package docstring for the API."""

    def __init__(self, cfg: SandboxConfig) -> None:
        if cfg.host not in LOOPBACK:
            raise ValueError("the sandbox serves on the loopback interface only")
        self.cfg = cfg
        self._offset = 0.0
        self.store = Store(
            cfg.seed, seed_people=cfg.seed_people, seed_custom_fields=cfg.seed_custom_fields
        )
        self.accounts = Accounts(cfg, self.now)
        self.setup = SetupEndpoints(self.store, cfg)
        self.records_api = RecordEndpoints(self.store, cfg)
        self.accounts.scope_reading = lambda: self.records_api.readings["scopes"]
        self.attachments = AttachmentEndpoints(self.records_api, cfg.attachment_max_mb)
        self.recordings = RecordingShelf(cfg.ringostat_key)
        self.routes = build_routes(self.setup, self.records_api, self.attachments)
        self.ringostat = RingostatStandIn(cfg, self.now)
        self.ringostat.recordings = self.recordings
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._reset_runtime()
        if cfg.state_file is not None and cfg.state_file.exists():
            self.load_state(json.loads(cfg.state_file.read_text(encoding="utf-8")))

    def _reset_runtime(self) -> None:
        with self._lock:
            self.fail_rate = self.cfg.fail_rate
            self.latency_ms = self.cfg.latency_ms
            self.latency = Latency(
                self.cfg.latency_ms, self.cfg.latency_spread_ms, self.cfg.latency_shape,
                seed=self.cfg.seed,
            )  # fmt: skip
            self.fault_kinds = tuple(self.cfg.fault_kinds)
            self.fail_next = 0
            self.concurrency = self.cfg.concurrency
            self.daily_credits = self.cfg.daily_credits
            self._rng = random.Random(self.cfg.seed)
            self._inflight = 0
            self._credits_used: dict[str, int] = {}
            self._counts: dict[str, int] = {}
            self._log: deque[dict[str, Any]] = deque(maxlen=_LOG_MAX)
        self.search_lag_seconds = self.cfg.search_lag_seconds
        self.records_api.readings = resolve_readings(self.cfg.readings)

    # ---- public API ---------------------------------------------------------------------
    def now(self) -> float:
        return self.cfg.clock() + self._offset

    def advance_time(self, seconds: float) -> None:
        """Move the sandbox clock (token and code expiry, search lag, credit days)."""
        self._offset += seconds

    @property
    def org_id(self) -> str:
        return self.store.org_id

    @property
    def department_id(self) -> str:
        return self.store.department_id

    @property
    def client_id(self) -> str:
        return self.cfg.client_id

    @property
    def client_secret(self) -> str:
        return self.cfg.client_secret

    @property
    def search_lag_seconds(self) -> float:
        return self.records_api.search_lag

    @search_lag_seconds.setter
    def search_lag_seconds(self, value: float) -> None:
        self.records_api.search_lag = value

    def ringostat_add_calls(self, calls: list[dict[str, Any]]) -> None:
        """Add calls to the calls/list stand-in; each shows once the clock reaches calldate."""
        self.ringostat.add_calls(calls)

    def ringostat_update_call(self, uniqueid: str, **fields: Any) -> None:
        """Change a call later, e.g. ``disposition="ANSWERED"`` after ``IN PROGRESS``."""
        self.ringostat.update_call(uniqueid, fields)

    def mint_grant_code(self, scopes: str | None = None) -> str:
        """A Self Client grant code: single use, expires after cfg.grant_code_lifetime."""
        return self.accounts.mint_grant_code(scopes)

    def revoke_all_tokens(self) -> None:
        self.accounts.revoke_all()

    def set_faults(
        self,
        *,
        fail_rate: float | None = None,
        latency_ms: int | None = None,
        latency_spread_ms: int | None = None,
        latency_shape: str | None = None,
        kinds: tuple[str, ...] | list[str] | None = None,
        fail_next: int | None = None,
    ) -> None:
        """Injected faults on Desk requests. ``fail_next`` fails exactly the next N requests
        (deterministic, for retry tests); ``drop_after_write`` performs the request and then
        drops the connection, so the client cannot know the outcome."""
        if kinds is not None and (not kinds or set(kinds) - set(FAULT_KINDS)):
            raise ValueError(f"fault kinds must be among {FAULT_KINDS}")
        with self._lock:
            if fail_rate is not None:
                self.fail_rate = float(fail_rate)
            if latency_ms is not None:
                self.latency_ms = int(latency_ms)
            if {latency_ms, latency_spread_ms, latency_shape} != {None}:
                # Answer times around latency_ms (latency.py); unnamed parts stay as they were.
                old = self.latency
                self.latency = Latency(
                    self.latency_ms,
                    old.spread_ms if latency_spread_ms is None else latency_spread_ms,
                    old.shape if latency_shape is None else latency_shape,
                    seed=self.cfg.seed,
                )
            if kinds is not None:
                self.fault_kinds = tuple(kinds)
            if fail_next is not None:
                self.fail_next = int(fail_next)

    def set_limits(
        self,
        *,
        concurrency: int | None = None,
        daily_credits: int | None = None,
        token_requests_per_10min: int | None = None,
        search_lag_seconds: float | None = None,
    ) -> None:
        with self._lock:
            if concurrency is not None:
                self.concurrency = int(concurrency)
            if daily_credits is not None:
                self.daily_credits = int(daily_credits)
            if token_requests_per_10min is not None:
                self.accounts.token_limit = int(token_requests_per_10min)
            if search_lag_seconds is not None:
                self.search_lag_seconds = float(search_lag_seconds)

    @property
    def readings(self) -> dict[str, str]:
        """The readings in force (docs/zoho-readings.md), name -> value."""
        return dict(self.records_api.readings)

    def set_readings(self, preset: str | None = None, **values: str) -> dict[str, str]:
        """Change readings at run time: ``preset`` ("strict" or "lenient") replaces them all,
        ``values`` are laid over (the current ones when no preset is given). Unknown names
        or values raise ValueError and change nothing."""
        if preset is None:
            merged = {**self.records_api.readings, **values}
            new = resolve_readings(merged)
        else:
            new = resolve_readings(values, preset=preset)
        self.records_api.readings = new
        return dict(new)

    def add_contact(self, **fields: Any) -> dict[str, Any]:
        """A contact as an agent would type it in Zoho Desk (any number format), created now:
        it is subject to the search lag like any other new record."""
        record = self.records_api.add_contact(fields, self.now())
        return copy.deepcopy(record)

    def records(self, kind: str) -> list[dict[str, Any]]:
        """kind: contacts, tickets, calls, tasks, fields:<module>, agents, departments."""
        with self.store.lock:
            if kind in RECORD_KINDS:
                found: Any = list(self.store.records[kind].values())
            elif kind.startswith("fields:") and kind[7:] in self.store.fields:
                found = self.store.fields[kind[7:]]
            elif kind in ("agents", "departments"):
                found = getattr(self.store, kind)
            else:
                raise KeyError(kind)
            copied: list[dict[str, Any]] = copy.deepcopy(found)
        return copied

    def request_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def credits_used(self) -> int:
        with self._lock:
            return self._credits_used.get(self._day(), 0)

    def reset(self) -> None:
        self.store.reset()
        self.accounts.reset()
        self.ringostat.reset()
        self.attachments.reset()
        self.recordings.reset()
        self.accounts.token_limit = self.cfg.token_requests_per_10min
        self._offset = 0.0
        self._reset_runtime()

    def dump_state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "desk": self.store.dump(),
            "accounts": self.accounts.dump(),
            "ringostat": self.ringostat.dump(),
        }

    def load_state(self, data: dict[str, Any]) -> None:
        self.store.load(data["desk"])
        self.accounts.load(data.get("accounts", {}))
        self.ringostat.load(data.get("ringostat", {}))

    def save_state(self) -> None:
        if self.cfg.state_file is None:
            return
        from ringodesk_cli.config.settings import write_atomic

        write_atomic(self.cfg.state_file, json.dumps(self.dump_state(), indent=1))

    def start(self, handler: type[BaseHTTPRequestHandler]) -> Sandbox:
        """Serve with ``handler`` (``wire.make_handler(self)``: ``start_sandbox`` builds it)."""
        server = _QuietServer((self.cfg.host, self.cfg.port), handler)
        server.daemon_threads = True
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{'127.0.0.1' if host == '127.0.0.1' else self.cfg.host}:{port}"
        self.accounts.base_url = self.url
        self.recordings.base_url = self.url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="ringodesk-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.save_state()

    # ---- request pipeline ---------------------------------------------------------------
    def _day(self) -> str:
        return datetime.fromtimestamp(self.now(), tz=UTC).strftime("%Y-%m-%d")

    def _record(self, method: str, template: str, path: str, reply: Reply, extra: Any) -> None:
        key = f"{method} {template}"
        code = reply.body.get("errorCode") if isinstance(reply.body, dict) else None
        entry = {"time": self.now(), "method": method, "path": path, "template": template,
                 "status": reply.status, "errorCode": code, **extra}  # fmt: skip
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._log.append(entry)

    def handle_desk(
        self, method: str, path: str, params: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        route, args, other = match(self.routes, method, path)
        template = route.template if route else path
        extra: dict[str, Any] = {"query": params, "orgIdHeader": headers.get("orgId")}
        if route is None:
            reply = (
                ApiError(405, "METHOD_NOT_ALLOWED", "The method is not allowed.").reply()
                if other
                else not_found().reply()
            )
            self._record(method, template, path, reply, extra)
            return reply
        with self._lock:
            self._inflight += 1
            busy = self._inflight > self.concurrency
        try:
            if busy:
                reply = ApiError(
                    429, "TOO_MANY_REQUESTS", "Too many concurrent requests for this portal."
                ).reply()
            else:
                # The injected latency is the answer time, processing included (a real Desk
                # answers in ~latency, however it spends it): the sandbox's own work must not
                # add to what benchmarks measure on a busy 2-core machine.
                started = time.monotonic()
                reply = self._desk(route, args, params, headers, raw, extra)
                wait = self.latency.seconds()
                if wait:
                    time.sleep(max(0.0, wait - (time.monotonic() - started)))
        finally:
            with self._lock:
                self._inflight -= 1
        self._record(method, template, path, reply, extra)
        return reply

    def _desk(
        self, route: Any, args: tuple[str, ...], params: dict[str, list[str]],
        headers: Any, raw: bytes, extra: dict[str, Any],
    ) -> Reply:  # fmt: skip
        try:
            grant = self.accounts.check(headers.get("Authorization"))
            self._check_org(route.needs_org, headers.get("orgId"), params)
            self._check_scope(route, grant)
            self._spend_credit()
            fault = self._pick_fault()
            if fault in ("429", "500", "drop"):
                return self._fault_reply(fault)
            body = None
            if route.multipart:
                body = parse_multipart(raw, headers.get("Content-Type") or "")
                extra["body"] = body
            elif route.method in ("POST", "PATCH"):
                ctype = headers.get("Content-Type") or ""
                if raw.strip() and "json" not in ctype:
                    raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send application/json.")
                body = require_json_object(raw)
                extra["body"] = body
            req = DeskRequest(route.method, params, body, args, self.now())
            reply = route.handler(req)
            return DROP if fault == "drop_after_write" else reply
        except ApiError as err:
            return err.reply()

    def _check_org(self, needed: bool, header: str | None, params: dict[str, list[str]]) -> None:
        # The header is Zoho's documented form (DeskDoc); the OAS declares a query parameter.
        values = params.get("orgId") or []
        org = header or (values[-1] if values else None)
        if org is None:
            if needed:
                raise ApiError(422, "UNPROCESSABLE_ENTITY", "The orgId header is missing.")
            return
        if not org.isdigit():
            raise ApiError(422, "UNPROCESSABLE_ENTITY", "The orgId value is invalid.")
        if org != self.store.org_id:
            raise ApiError(
                401, "OAUTH_ORG_MISMATCH", "The OAuth token does not belong to this organization."
            )

    @staticmethod
    def _check_scope(route: Any, grant: Grant) -> None:
        ok = any(scope_covers(grant.scopes, s) for s in route.scopes)
        if route.search and not scope_covers(grant.scopes, "Desk.search.READ"):
            ok = False
        if not ok:
            raise ApiError(
                401, "SCOPE_MISMATCH", "The OAuth token does not have the scope for this API."
            )

    def _spend_credit(self) -> None:
        with self._lock:
            if self.daily_credits is None:
                return
            day = self._day()
            used = self._credits_used.get(day, 0)
            if used >= self.daily_credits:
                raise ApiError(
                    429, "THRESHOLD_EXCEEDED", "The daily API credit limit has been reached."
                )
            self._credits_used[day] = used + 1

    def _pick_fault(self) -> str | None:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self._rng.choice(self.fault_kinds)
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return self._rng.choice(self.fault_kinds)
        return None

    @staticmethod
    def _fault_reply(kind: str) -> Reply:
        if kind == "429":
            return ApiError(429, "TOO_MANY_REQUESTS", "Too many requests (injected).").reply()
        if kind == "500":
            return ApiError(
                500,
                "INTERNAL_SERVER_ERROR",
                "An internal server error occurred while performing this operation.",
            ).reply()
        return DROP
