"""HTTP plumbing: the request handler class (HTTP/1.1 keep-alive, so a benchmark measures
the sandbox rather than TCP set-up), the Accounts routes and the ``/__sandbox__`` admin API
that lets a subprocess drive the sandbox."""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ringodesk_cli.sandbox.config import SandboxConfig
from ringodesk_cli.sandbox.recordings import PREFIX as RECORDINGS
from ringodesk_cli.sandbox.recordings import send_recording
from ringodesk_cli.sandbox.replies import Reply, json_reply, not_found
from ringodesk_cli.sandbox.server import Sandbox

ADMIN = "/__sandbox__"


def _flat(params: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in params.items()}


def _oauth(sb: Sandbox, method: str, path: str, params: dict[str, list[str]]) -> Reply | None:
    p = _flat(params)
    acc = sb.accounts
    table = {
        ("GET", "/oauth/v2/auth"): lambda: acc.authorize(p),
        ("GET", "/oauth/v2/auth/approve"): lambda: acc.authorize(p, approved=True),
        ("POST", "/oauth/v2/token"): lambda: acc.token(p),
        ("POST", "/oauth/v2/token/revoke"): lambda: acc.revoke(p),
        ("POST", "/oauth/v3/device/code"): lambda: acc.device_code(p),
        ("POST", "/oauth/v3/device/token"): lambda: acc.device_token(p),
        ("GET", "/oauth/v3/device"): lambda: acc.device_verify(p),
        ("GET", "/oauth/v3/device/approve"): lambda: acc.device_verify(
            p, decision=p.get("action", "approve")
        ),
    }
    action = table.get((method, path))
    return action() if action else None


def _admin(sb: Sandbox, method: str, path: str, body: dict[str, Any]) -> Reply:
    sub = path[len(ADMIN) :].strip("/")
    if sub.startswith("ringostat/"):
        reply = sb.ringostat.admin(method, sub[len("ringostat/") :], body)
        return reply if reply is not None else not_found().reply()
    if method == "GET" and sub == "requests":
        return json_reply({"requests": sb.request_log(), "counts": sb.request_counts()})
    if method == "GET" and sub == "counts":
        return json_reply(sb.request_counts())
    if method == "GET" and sub == "state":
        return json_reply(sb.dump_state())
    if method == "GET" and sub == "client":
        return json_reply(
            {
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "org_id": sb.org_id,
                "department_id": sb.department_id,
                "accounts_url": sb.url,
                "desk_url": sb.url,
                "ringostat_api_url": sb.url,
                "ringostat_key": sb.cfg.ringostat_key,
            }
        )
    if sub == "recordings":
        # Recordings at Ringostat-like links; POST answers the links for a call's fields.
        if method == "POST":
            return json_reply(sb.recordings.put(body))
        return json_reply({"data": sb.recordings.listing()})
    if method == "GET" and sub == "attachments":
        return json_reply({"data": sb.attachments.all()})
    if method == "GET" and sub == "readings":
        return json_reply(sb.readings)
    if method == "GET" and sub.startswith("records/"):
        try:
            return json_reply({"data": sb.records(sub[len("records/") :])})
        except KeyError:
            return not_found().reply()
    if method == "POST":
        if sub == "reset":
            sb.reset()
        elif sub == "revoke":
            sb.revoke_all_tokens()
        elif sub == "grant-code":
            return json_reply({"code": sb.mint_grant_code(body.get("scopes"))})
        elif sub == "faults":
            sb.set_faults(**body)
        elif sub == "limits":
            sb.set_limits(**body)
        elif sub == "readings":
            # {"preset": "strict"|"lenient", NAME: VALUE, ...}; answers the readings in force.
            return json_reply(sb.set_readings(**body))
        elif sub == "contacts":
            # A contact typed by an agent in Zoho Desk between two runs (any number format).
            return json_reply(sb.add_contact(**body))
        elif sub == "time":
            sb.advance_time(float(body.get("advance", 0)))
        elif sub == "save":
            sb.save_state()
        else:
            return not_found().reply()
        return json_reply({"status": "success"})
    return not_found().reply()


def make_handler(sb: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus delayed
        # ACKs add ~40 ms to every keep-alive request.
        disable_nagle_algorithm = True
        server_version = "ZohoDeskSandbox/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log lives in the sandbox, not on stderr

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            if method == "GET" and parts.path.startswith(RECORDINGS):
                status = send_recording(self, sb.recordings, parts.path)
                sb._record(method, RECORDINGS + "{id}", parts.path, Reply(status), {})
                return
            params = parse_qs(parts.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                reply = self._dispatch(method, parts.path, params, raw)
            except (TypeError, ValueError) as exc:
                reply = Reply(400, {"errorCode": "BAD_REQUEST", "message": str(exc)})
            if reply.status == 0:
                self._drop()
                return
            self._send(reply)

        def _dispatch(
            self, method: str, path: str, params: dict[str, list[str]], raw: bytes
        ) -> Reply:
            if path.startswith("/api/v1/"):
                return sb.handle_desk(method, path, params, self.headers, raw)
            if path == "/calls/list" and method == "GET":
                listed = sb.ringostat.handle(params, self.headers)
                # The Auth-key stays out of the log, like the OAuth secrets below.
                sb._record(method, path, path, listed, {"query": params})
                return listed
            if path.startswith(ADMIN):
                body = json.loads(raw) if raw.strip() else {}
                return _admin(sb, method, path, body)
            if path.startswith("/oauth/"):
                if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    params = {**params, **parse_qs(raw.decode(), keep_blank_values=True)}
                reply = _oauth(sb, method, path, params)
                if reply is None:
                    reply = not_found().reply()
                # Secrets stay out of the log: only the endpoint and the status are kept.
                sb._record(method, path, path, reply, {})
                return reply
            return not_found().reply()

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _send(self, reply: Reply) -> None:
            payload = reply.raw
            if payload is None and reply.body is not None:
                payload = json.dumps(reply.body).encode("utf-8")
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status == 204:
                self.end_headers()
                return
            payload = payload or b""
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def start_sandbox(cfg: SandboxConfig | None = None) -> Sandbox:
    """Start a sandbox on ``cfg.host:cfg.port`` (0: an ephemeral port) in a daemon thread."""
    sb = Sandbox(cfg or SandboxConfig())
    return sb.start(make_handler(sb))
