"""Zoho Accounts (OAuth 2.0): authorization URL, code exchange, refresh, revoke, device flow.

Library code: no printing, no terminal. HTTP through an injectable ``requests.Session``;
time through injectable ``clock``/``sleep`` so tests never wait.

Facts: Zoho's OAuth documentation (ACC = zoho.com/accounts/protocol/oauth); open readings
are listed in docs/zoho-readings.md.
Secrets (client secret, grant codes, tokens) always travel in the POST form body, never in
the URL: Zoho accepts both, and its own docs recommend the body "for security"
(zoho.com/assist/api/generate-access-token.html), which keeps them out of proxy and server
access logs. Every secret is registered with :func:`redact.register_secret` as soon as known.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from ringodesk_cli.errors import (
    AuthError,
    RateLimitedError,
    ZohoAuthError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.redact import register_secret
from ringodesk_cli.zoho.regions import DESK_SCOPES, data_center_for, is_zoho_accounts_server

# Zoho access tokens live one hour (ACC token-limits.html).
DEFAULT_EXPIRES_IN = 3600.0
# ACC device flow: "poll at most once every 30 seconds"; a user code lives 5 minutes.
DEFAULT_DEVICE_INTERVAL = 30.0
DEFAULT_DEVICE_LIFETIME = 300.0
# RFC 8628 §3.5: on slow_down the interval grows by 5 s; Zoho names the answer but not the step.
SLOW_DOWN_STEP = 5.0

THROTTLE_HINT = (
    "Zoho allows 10 token requests per 10 minutes per refresh token; wait 10 minutes "
    "and try again (nothing was lost)"
)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    expires_at: float
    refresh_token: str | None
    scope: str | None


@dataclass(frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    interval: float
    expires_at: float


@dataclass(frozen=True)
class Authorization:
    """What the browser redirect brought back: the code and where Zoho wants us to go next."""

    code: str
    accounts_server: str | None
    location: str | None


def _seconds(value: Any, default: float) -> float:
    """A duration from Zoho, in seconds.

    Whether the device endpoints give seconds or milliseconds is not documented by Zoho
    (docs/zoho-readings.md). No poll interval or user-code lifetime is anywhere near 10,000 s,
    so anything that large is read as milliseconds.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if number <= 0:
        return default
    return number / 1000.0 if number >= 10_000 else number


def _is_throttle(body: Mapping[str, Any]) -> bool:
    # ACC token-limits.html: throttling is HTTP 200 {"error":"Access Denied","status":"failure",
    # "error_description":"You have made too many requests continuously..."}.
    error = str(body.get("error", ""))
    description = str(body.get("error_description", "")).lower()
    return error.lower() == "access denied" or "too many requests" in description


class AccountsClient:
    """One OAuth client (id + secret) talking to one Zoho Accounts server."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        register_secret(client_secret)
        # Mutable on purpose: Zoho may send us to another data center (accounts-server on
        # the redirect, other_dc in the device flow); later token calls must follow.
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self._timeout = timeout

    # ----------------------------------------------------------------- data-center moves
    def follow(self, accounts_server: str | None, location: str | None = None) -> None:
        """Send later token calls where Zoho said (redirect ``accounts-server``/``location``).

        The client secret goes wherever ``accounts_url`` points, so a server named by a
        redirect is only followed when it is one of Zoho's documented Accounts servers or
        the one we already use (a loopback stand-in naming itself). A redirect can be forged
        by anyone who can open a URL on this machine; ``state`` guards the code, this guards
        the secret.
        """
        if accounts_server:
            target = accounts_server.rstrip("/")
            if target == self.accounts_url:
                return
            if is_zoho_accounts_server(target):
                self.accounts_url = target
                return
            raise AuthError(
                f"Zoho redirected sign-in to an unknown accounts server {target!r}",
                hint="pass --accounts-url explicitly if this server is genuine",
            )
        dc = data_center_for(None, location)
        if dc is not None and is_zoho_accounts_server(self.accounts_url):
            self.accounts_url = dc.accounts_url

    # ----------------------------------------------------------------- browser / Self Client
    def authorization_url(self, redirect_uri: str, state: str, scopes: str = DESK_SCOPES) -> str:
        # ACC web-apps/authorization.html. access_type=offline alone yields a refresh token
        # only on the first consent; prompt=consent yields one every time.
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "scope": scopes,
            "redirect_uri": redirect_uri,
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
        }
        return f"{self.accounts_url}/oauth/v2/auth?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> TokenSet:
        """Trade a grant code for tokens. A Self Client code is exchanged without
        ``redirect_uri`` (ACC self-client/authorization-code-flow.html)."""
        register_secret(code)
        data = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
        }
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        return self._tokens(self._post("/oauth/v2/token", data))

    def refresh(self, refresh_token: str) -> TokenSet:
        """A fresh access token (ACC web-apps/access-token-expiry.html). Zoho sends no new
        refresh token back, so ``TokenSet.refresh_token`` is None."""
        register_secret(refresh_token)
        data = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        tokens = self._tokens(self._post("/oauth/v2/token", data))
        return TokenSet(tokens.access_token, tokens.expires_at, None, tokens.scope)

    def revoke(self, token: str, token_type: str = "refresh_token") -> None:
        """Revoke a token at Zoho. Revoking a refresh token also kills its access tokens.

        Zoho's pages disagree: ACC revoke-refresh-token.html documents
        ``/oauth/v2/token/revoke``; a newer page documents ``/oauth/v2/revoke/token`` with
        Basic client authentication. Try the first, fall back to the second.
        """
        register_secret(token)
        first = self._send("/oauth/v2/token/revoke", {"token": token})
        if self._revoked(first):
            return
        credentials = f"{self.client_id}:{self._client_secret}".encode()
        basic = base64.b64encode(credentials).decode("ascii")
        register_secret(basic)
        second = self._send(
            "/oauth/v2/revoke/token",
            {"token": token, "token_type": token_type},
            {"Authorization": f"Basic {basic}"},
        )
        if self._revoked(second):
            return
        body = self._json(second)
        if _is_throttle(body):
            raise RateLimitedError("Zoho throttled the revoke request", hint=THROTTLE_HINT)
        raise ZohoAuthError(
            "Zoho did not revoke the token (it may be revoked or deleted already)",
            status=second.status_code,
            error_code=str(body.get("error") or "") or None,
        )

    # ----------------------------------------------------------------- device flow
    def start_device_flow(self, scopes: str = DESK_SCOPES) -> DeviceCode:
        """ACC devices/initiation-request.html (needs a "Non-browser" client)."""
        data = {
            "grant_type": "device_request",
            "client_id": self.client_id,
            "scope": scopes,
            "access_type": "offline",
            "prompt": "consent",
        }
        body = self._post("/oauth/v3/device/code", data)
        try:
            device_code = str(body["device_code"])
            user_code = str(body["user_code"])
            verification_url = str(
                body.get("verification_url") or body.get("verification_uri") or ""
            )
        except KeyError as missing:
            raise ZohoError(f"Zoho's device-code answer lacks {missing}", payload={}) from None
        register_secret(device_code)
        if not verification_url:
            verification_url = f"{self.accounts_url}/oauth/v3/device"
        now = self._clock()
        return DeviceCode(
            device_code=device_code,
            user_code=user_code,
            verification_url=verification_url,
            interval=_seconds(body.get("interval"), DEFAULT_DEVICE_INTERVAL),
            expires_at=now + _seconds(body.get("expires_in"), DEFAULT_DEVICE_LIFETIME),
        )

    def poll_device_flow(
        self, device: DeviceCode, on_wait: Callable[[float], None] | None = None
    ) -> TokenSet:
        """Poll until the user approves (ACC devices/polling-request.html).

        Waits ``interval`` before each poll; ``slow_down`` lengthens it; ``other_dc`` moves
        the polls to the user's data center (``user_location``); ``expired`` and
        ``access_denied`` end the flow with an :class:`AuthError`.
        """
        interval = device.interval
        data = {
            "grant_type": "device_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": device.device_code,
        }
        while True:
            if self._clock() + interval > device.expires_at:
                raise _device_expired()
            if on_wait is not None:
                on_wait(interval)
            self._sleep(interval)
            response = self._send("/oauth/v3/device/token", data)
            body = self._json(response)
            error = str(body.get("error", ""))
            if not error and body.get("access_token"):
                return self._tokens(body)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if error == "other_dc":
                self._move_for_other_dc(body)
                continue
            if error == "expired":
                raise _device_expired()
            if error == "access_denied":
                raise AuthError(
                    "the sign-in was declined in the browser (access_denied)",
                    hint="run `ringodesk activate --device` again and accept the request",
                )
            self._check(response)
            raise ZohoError("Zoho's device-token answer has no access token", status=200)

    def _move_for_other_dc(self, body: Mapping[str, Any]) -> None:
        server = body.get("accounts-server") or body.get("accounts_server")
        location = body.get("user_location") or body.get("location")
        before = self.accounts_url
        self.follow(str(server) if server else None, str(location) if location else None)
        if self.accounts_url == before and not server:
            raise AuthError(
                f"Zoho says the account is in another data center ({location or 'unknown'})",
                hint="re-run with --region set to that data center",
            )

    # ----------------------------------------------------------------- HTTP plumbing
    def _post(self, path: str, data: Mapping[str, str]) -> dict[str, Any]:
        return self._check(self._send(path, data))

    def _send(
        self, path: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        try:
            return self._session.post(
                self.accounts_url + path,
                data=dict(data),
                headers=dict(headers or {}),
                timeout=self._timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ZohoUnavailableError(
                f"could not reach Zoho Accounts at {self.accounts_url}: {type(exc).__name__}",
                hint="check the network (or --accounts-url) and try again",
            ) from None

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _check(self, response: requests.Response) -> dict[str, Any]:
        """The JSON body of a token-endpoint answer, or the matching error.

        Zoho's token endpoint often answers failures as HTTP 200 with an ``error`` key, so the key
        is checked before (and regardless of) the status code.
        """
        body = self._json(response)
        status = response.status_code
        error = body.get("error")
        if error:
            raise _token_error(body, status)
        if status >= 500:
            raise ZohoUnavailableError(f"Zoho Accounts answered HTTP {status}", status=status)
        if status >= 400:
            raise ZohoAuthError(f"Zoho Accounts refused the request (HTTP {status})", status=status)
        if not body:
            raise ZohoError(f"Zoho Accounts answered HTTP {status} without JSON", status=status)
        return body

    def _revoked(self, response: requests.Response) -> bool:
        body = self._json(response)
        if response.status_code >= 300 or body.get("error"):
            return False
        # ACC revoke-refresh-token.html: {"status":"success"}; an empty 200 is taken as done.
        return str(body.get("status", "success")).lower() == "success"

    def _tokens(self, body: Mapping[str, Any]) -> TokenSet:
        access = body.get("access_token")
        if not access:
            raise ZohoError("Zoho's token answer has no access_token", status=200)
        access = str(access)
        register_secret(access)
        refresh = body.get("refresh_token")
        if refresh:
            refresh = str(refresh)
            register_secret(refresh)
        scope = body.get("scope")
        return TokenSet(
            access_token=access,
            expires_at=self._clock() + _seconds(body.get("expires_in"), DEFAULT_EXPIRES_IN),
            refresh_token=refresh or None,
            scope=str(scope) if scope else None,
        )


def _device_expired() -> AuthError:
    return AuthError(
        "the device code expired before the sign-in was approved",
        hint="run `ringodesk activate --device` again and approve within 5 minutes",
    )


_ERROR_TEXT = {
    "invalid_code": (
        "Zoho rejected the grant code or refresh token (invalid_code): it was used already, "
        "expired, or the refresh token was revoked"
    ),
    "invalid_client": (
        "Zoho does not know this client id here (invalid_client): wrong id, or wrong data center"
    ),
    "invalid_client_secret": "Zoho rejected the client secret (invalid_client_secret)",
    "invalid_redirect_uri": (
        "the redirect URI does not match the one registered for this client (invalid_redirect_uri)"
    ),
}

_ERROR_HINT = {
    "invalid_code": (
        "grant codes are single-use and live 2-10 minutes: generate a new one and run "
        "`ringodesk activate` again (a 21st refresh token issued for this client elsewhere "
        "also deletes this one)"
    ),
    "invalid_client": (
        "check --client-id and --region; for another data center enable Multi-DC for the "
        "client in api-console.zoho.com"
    ),
    "invalid_client_secret": "check the client secret in api-console.zoho.com",
    "invalid_redirect_uri": (
        "register http://127.0.0.1:<port>/callback (default port 8765) as the client's "
        "redirect URI in api-console.zoho.com, or pass --redirect-port"
    ),
}


def _token_error(body: Mapping[str, Any], status: int) -> ZohoError:
    error = str(body.get("error"))
    payload = {k: v for k, v in body.items() if k in ("error", "error_description", "status")}
    if _is_throttle(body):
        return RateLimitedError(
            "Zoho throttled the token request (Access Denied: too many requests)",
            status=status,
            error_code=error,
            hint=THROTTLE_HINT,
            payload=payload,
        )
    message = _ERROR_TEXT.get(error)
    if message is None:
        description = str(body.get("error_description") or "").strip()
        message = f"Zoho Accounts refused the request ({error})"
        if description:
            message += f": {description}"
    return ZohoAuthError(
        message, status=status, error_code=error, hint=_ERROR_HINT.get(error), payload=payload
    )
