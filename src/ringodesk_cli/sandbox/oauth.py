"""The Zoho Accounts stand-in: consent page, token endpoint, device flow, revoke.

Behaviours follow Zoho Accounts' OAuth documentation: token-endpoint failures are HTTP 200
with an ``error`` key; codes are single use and expire; token requests are throttled with
HTTP 200 "Access Denied"; a client keeps at most 20 refresh tokens and a refresh token
at most 10 access tokens, the oldest being dropped."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ringodesk_cli.sandbox.config import DEFAULT_SCOPES, SandboxConfig
from ringodesk_cli.sandbox.replies import ApiError, Reply, html, json_reply, redirect

_THROTTLED = {
    "error_description": (
        "You have made too many requests continuously. Please try again after some time."
    ),
    "error": "Access Denied",
    "status": "failure",
}
_WINDOW = 600.0


def _token(prefix: str = "1000") -> str:
    return f"{prefix}.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def _scopes(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


# Zoho's documented scope list (the iam-oauth2-schema scopes of Common.json in Zoho's
# zohodesk-oas): stems and their operations; each stem's `.ALL` form is accepted too.
DOCUMENTED_SCOPES: dict[str, tuple[str, ...]] = {
    "desk.zia": ("create", "update", "read", "delete"),
    "desk.calls": ("create", "update", "read", "delete"),
    "desk.extensions": ("create", "read", "update", "delete"),
    "desk.search": ("read",),
    "desk.events": ("create", "update", "read", "delete"),
    "desk.articles": ("create", "update", "read", "delete"),
    "desk.basic": ("create", "update", "read", "delete"),
    "desk.tasks": ("create", "read", "update", "delete"),
    "desk.settings": ("create", "update", "read", "delete"),
    "desk.settings.extension": ("create", "update", "read", "delete"),
    "desk.tickets": ("create", "update", "read", "delete"),
    "desk.contacts": ("create", "update", "read", "delete"),
    "desk.activities": ("create", "update", "read", "delete"),
    "desk.community": ("create", "update", "read", "delete"),
    "desk.feeds": ("create", "update", "read", "delete"),
    "desk.products": ("create", "update", "read", "delete"),
    "desk.integrations": ("create", "update", "read", "delete"),
    "desk.phonebridge": ("create", "read"),
    "desk.deskoembed": ("read",),
}
_DOCUMENTED_WHOLE = frozenset({"desk.exports", "desk.imports"})


def undocumented(scopes: list[str]) -> list[str]:
    """The scopes of ``scopes`` outside the documented list and its `.ALL` forms."""
    out = []
    for scope in scopes:
        lowered = scope.lower()
        stem, _, op = lowered.rpartition(".")
        known = DOCUMENTED_SCOPES.get(stem, ())
        if lowered not in _DOCUMENTED_WHOLE and not (known and (op == "all" or op in known)):
            out.append(scope)
    return out


def _invalid_scope(scopes: list[str]) -> dict[str, str]:
    return {"error": "invalid_scope", "error_description": f"Invalid scope: {', '.join(scopes)}"}


@dataclass(frozen=True)
class Grant:
    """Who a Desk request acts as: the scopes its access token carries."""

    scopes: tuple[str, ...]
    refresh_token: str | None


class Accounts:
    def __init__(self, cfg: SandboxConfig, now: Callable[[], float]) -> None:
        self.cfg = cfg
        self.now = now
        self.lock = threading.RLock()
        self.token_limit = cfg.token_requests_per_10min
        # The reading `scopes` in force ("documented": a scope outside Zoho's list is
        # invalid_scope; "any"): set by the server, which holds the readings.
        self.scope_reading: Callable[[], str] = lambda: "documented"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.codes: dict[str, dict[str, Any]] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.access_tokens: dict[str, dict[str, Any]] = {}
            self.devices: dict[str, dict[str, Any]] = {}
            self.token_requests: dict[str, deque[float]] = {}

    # ---- codes --------------------------------------------------------------------------
    def mint_grant_code(
        self, scopes: str | None = None, *, redirect_uri: str | None = None, offline: bool = True
    ) -> str:
        code = _token()
        with self.lock:
            self.codes[code] = {
                "scopes": _scopes(scopes or DEFAULT_SCOPES),
                "expires": self.now() + self.cfg.grant_code_lifetime,
                "redirect_uri": redirect_uri,
                "offline": offline,
            }
        return code

    def _throttled(self, key: str) -> bool:
        now = self.now()
        with self.lock:
            times = self.token_requests.setdefault(key, deque())
            while times and now - times[0] > _WINDOW:
                times.popleft()
            if len(times) >= self.token_limit:
                return True
            times.append(now)
            return False

    def _issue_access(self, refresh: str | None, scopes: list[str]) -> dict[str, Any]:
        access = _token()
        with self.lock:
            self.access_tokens[access] = {
                "scopes": scopes,
                "expires": self.now() + self.cfg.token_lifetime,
                "refresh": refresh,
            }
            if refresh is not None:
                mine = [t for t, v in self.access_tokens.items() if v["refresh"] == refresh]
                for old in mine[: max(0, len(mine) - self.cfg.max_access_tokens_per_refresh)]:
                    del self.access_tokens[old]
        return {
            "access_token": access,
            "scope": ",".join(scopes),
            # Not a Desk host (Zoho: "Don't use api_domain for Desk"): a client that builds Desk
            # URLs from it gets 404 URL_NOT_FOUND here.
            "api_domain": f"{self.base_url}/zohoapis",
            "token_type": "Bearer",
            "expires_in": self.cfg.token_lifetime,
        }

    def _issue_refresh(self, scopes: list[str]) -> str:
        refresh = _token()
        with self.lock:
            self.refresh_tokens[refresh] = {"scopes": scopes, "created": self.now()}
            excess = len(self.refresh_tokens) - self.cfg.max_refresh_tokens_per_client
            for old in list(self.refresh_tokens)[: max(0, excess)]:
                self._drop_refresh(old)
        return refresh

    def _drop_refresh(self, refresh: str) -> None:
        self.refresh_tokens.pop(refresh, None)
        for tok in [t for t, v in self.access_tokens.items() if v["refresh"] == refresh]:
            del self.access_tokens[tok]

    base_url = ""

    # ---- /oauth/v2/token ----------------------------------------------------------------
    def token(self, p: dict[str, str]) -> Reply:
        if p.get("client_id") != self.cfg.client_id:
            return json_reply({"error": "invalid_client"})
        if p.get("client_secret") != self.cfg.client_secret:
            return json_reply({"error": "invalid_client_secret"})
        grant = p.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(p)
        if grant == "refresh_token":
            return self._refresh(p)
        return json_reply({"error": "unsupported_grant_type"})

    def _exchange(self, p: dict[str, str]) -> Reply:
        if self._throttled("code:" + self.cfg.client_id):
            return json_reply(_THROTTLED)
        with self.lock:
            entry = self.codes.pop(p.get("code", ""), None)  # single use, even when refused
        if entry is None or entry["expires"] < self.now():
            return json_reply({"error": "invalid_code"})
        if entry["redirect_uri"] is not None and p.get("redirect_uri") != entry["redirect_uri"]:
            return json_reply({"error": "invalid_redirect_uri"})
        refresh = self._issue_refresh(entry["scopes"]) if entry["offline"] else None
        body = self._issue_access(refresh, entry["scopes"])
        if refresh:
            body["refresh_token"] = refresh
        return json_reply(body)

    def _refresh(self, p: dict[str, str]) -> Reply:
        refresh = p.get("refresh_token", "")
        with self.lock:
            entry = self.refresh_tokens.get(refresh)
        if entry is None:
            # A revoked or deleted refresh token answers invalid_code.
            return json_reply({"error": "invalid_code"})
        if self._throttled("refresh:" + refresh):
            return json_reply(_THROTTLED)
        return json_reply(self._issue_access(refresh, entry["scopes"]))

    # ---- revoke -------------------------------------------------------------------------
    def revoke(self, p: dict[str, str]) -> Reply:
        token = p.get("token", "")
        with self.lock:
            if token in self.refresh_tokens:
                self._drop_refresh(token)
            elif token in self.access_tokens:
                del self.access_tokens[token]
            else:
                return Reply(400, {"error": "invalid_token", "status": "failure"})
        return json_reply({"status": "success"})

    def revoke_all(self) -> None:
        """Rule R8's break: a password change with "terminate tokens" kills every token."""
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    # ---- consent page -------------------------------------------------------------------
    def _redirect_ok(self, uri: str) -> bool:
        if self.cfg.redirect_uris:
            return uri in self.cfg.redirect_uris
        return uri.startswith(("http://127.0.0.1:", "http://localhost:"))

    def authorize(self, p: dict[str, str], *, approved: bool = False) -> Reply:
        if p.get("client_id") != self.cfg.client_id:
            return html("<h1>Invalid Client</h1>", 400)
        uri = p.get("redirect_uri", "")
        if not self._redirect_ok(uri):
            return html("<h1>invalid_redirect_uri</h1>", 400)
        if p.get("response_type") != "code" or not _scopes(p.get("scope")):
            return html("<h1>Invalid request: response_type=code and scope are needed</h1>", 400)
        refused = self._refused_scopes(p.get("scope"))
        if refused:
            # RFC 6749 4.1.2.1: the error goes back to the redirect URI, with the state.
            error = {**_invalid_scope(refused), **({"state": p["state"]} if "state" in p else {})}
            return redirect(uri + ("&" if "?" in uri else "?") + urlencode(error))
        if not (approved or self.cfg.auto_approve):
            link = "/oauth/v2/auth/approve?" + urlencode(p)
            return html(f'<h1>Sandbox consent</h1><a id="approve" href="{link}">Accept</a>')
        code = self.mint_grant_code(
            p["scope"], redirect_uri=uri, offline=p.get("access_type") == "offline"
        )
        query = {"code": code, "location": "us", "accounts-server": self.base_url}
        if "state" in p:
            query["state"] = p["state"]
        return redirect(uri + ("&" if "?" in uri else "?") + urlencode(query))

    def _refused_scopes(self, text: str | None) -> list[str]:
        asked = _scopes(text)
        refused = {s.lower() for s in self.cfg.refused_scopes}
        out = [s for s in asked if s.lower() in refused]
        if self.scope_reading() == "documented":
            out += [s for s in undocumented(asked) if s not in out]
        return out

    # ---- device flow --------------------------------------------------------------------
    def device_code(self, p: dict[str, str]) -> Reply:
        if p.get("client_id") != self.cfg.client_id:
            return json_reply({"error": "invalid_client"})
        if p.get("grant_type") != "device_request" or not _scopes(p.get("scope")):
            return json_reply({"error": "invalid_request"})
        refused = self._refused_scopes(p.get("scope"))
        if refused:
            return json_reply(_invalid_scope(refused))
        device = _token("1004")
        user_code = secrets.token_hex(3).upper()
        with self.lock:
            self.devices[device] = {
                "user_code": user_code,
                "scopes": _scopes(p.get("scope")),
                "offline": p.get("access_type") == "offline",
                "expires": self.now() + self.cfg.device_code_lifetime,
                "last_poll": None,
                "state": "pending",
            }
        complete = f"{self.base_url}/oauth/v3/device?user_code={user_code}"
        return json_reply(
            {
                "user_code": user_code,
                "device_code": device,
                "verification_url": f"{self.base_url}/oauth/v3/device",
                "verification_uri_complete": complete,
                "expires_in": self.cfg.device_code_lifetime,
                "interval": self.cfg.device_poll_interval,
            }
        )

    def device_token(self, p: dict[str, str]) -> Reply:
        if p.get("client_id") != self.cfg.client_id:
            return json_reply({"error": "invalid_client"})
        if p.get("client_secret") != self.cfg.client_secret:
            return json_reply({"error": "invalid_client_secret"})
        now = self.now()
        with self.lock:
            entry = self.devices.get(p.get("code", ""))
            if entry is None:
                return json_reply({"error": "invalid_code"})
            if entry["expires"] < now:
                return json_reply({"error": "expired"})
            last, entry["last_poll"] = entry["last_poll"], now
            if entry["state"] == "denied":
                return json_reply({"error": "access_denied"})
            if last is not None and now - last < self.cfg.device_poll_interval:
                return json_reply({"error": "slow_down"})
            if entry["state"] == "pending":
                return json_reply({"error": "authorization_pending"})
            del self.devices[p["code"]]
        refresh = self._issue_refresh(entry["scopes"]) if entry["offline"] else None
        body = self._issue_access(refresh, entry["scopes"])
        if refresh:
            body["refresh_token"] = refresh
        return json_reply(body)

    def device_verify(self, p: dict[str, str], *, decision: str | None = None) -> Reply:
        code = p.get("user_code", "").upper()
        with self.lock:
            entry = next((e for e in self.devices.values() if e["user_code"] == code), None)
            if entry is None:
                return html("<h1>Unknown code</h1>", 404)
            if decision is None and not self.cfg.auto_approve:
                q = urlencode({"user_code": code})
                return html(
                    f'<a id="approve" href="/oauth/v3/device/approve?{q}">Accept</a> '
                    f'<a id="deny" href="/oauth/v3/device/approve?{q}&action=deny">Deny</a>'
                )
            entry["state"] = "denied" if decision == "deny" else "approved"
        return html(f"<h1>Device {entry['state']}</h1>")

    # ---- Desk side ----------------------------------------------------------------------
    def check(self, authorization: str | None) -> Grant:
        if not authorization:
            raise ApiError(
                401, "UNAUTHORIZED", "You are not authenticated to perform this operation."
            )
        scheme, _, token = authorization.partition(" ")
        with self.lock:
            entry = self.access_tokens.get(token.strip())
        # Desk documents the ``Zoho-oauthtoken`` scheme; anything else is refused.
        if scheme != "Zoho-oauthtoken" or entry is None or entry["expires"] <= self.now():
            raise ApiError(401, "INVALID_OAUTH", "The OAuth Token you provided is invalid.")
        return Grant(tuple(entry["scopes"]), entry["refresh"])

    # ---- persistence --------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {"refreshTokens": dict(self.refresh_tokens)}

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.refresh_tokens = dict(data.get("refreshTokens", {}))


def scope_covers(granted: tuple[str, ...], required: str) -> bool:
    """``Service.scope.OPERATION``: ``.ALL`` covers every operation, and
    ``Desk.activities.ALL`` is taken to cover ``Desk.activities.calls.*`` ([I], unverified)."""
    req = required.lower()
    for scope in granted:
        s = scope.lower()
        if s == req:
            return True
        if s.endswith(".all") and req.startswith(s[: -len("all")]):
            return True
    return False
