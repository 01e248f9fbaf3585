"""Zoho Accounts client (requests-mock, fake clock/sleep) and the loopback redirect listener."""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests_mock as rm

from ringodesk_cli.errors import (
    AuthError,
    ConfigError,
    RateLimitedError,
    ZohoAuthError,
    ZohoUnavailableError,
)
from ringodesk_cli.redact import redact
from ringodesk_cli.zoho.accounts import AccountsClient, Authorization, DeviceCode
from ringodesk_cli.zoho.loopback import RedirectListener, wait_for_redirect

ACCOUNTS = "https://accounts.zoho.com"
TOKEN_URL = ACCOUNTS + "/oauth/v2/token"
SECRET = "client-secret-value-42"
ACCESS = "1000.aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbb"
REFRESH = "1000.cccccccccccccccccccc.dddddddddddddddddddd"
THROTTLED = {
    "error_description": "You have made too many requests continuously. "
    "Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}

# What a profile asks Zoho for, written out (not read from the product).
SCOPES = (
    "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
    "Desk.calls.ALL,Desk.tasks.ALL,Desk.search.READ"
)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake_time: FakeTime) -> AccountsClient:
    return AccountsClient(
        ACCOUNTS, "client-id-1", SECRET, clock=fake_time.clock, sleep=fake_time.sleep
    )


def form(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.text or "").items()}


def token_answer(**extra: Any) -> dict[str, Any]:
    body = {
        "access_token": ACCESS,
        "api_domain": "https://www.zohoapis.com",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    body.update(extra)
    return body


# ------------------------------------------------------------------ authorization URL
def test_authorization_url_asks_for_offline_access_consent_and_state(
    client: AccountsClient,
) -> None:
    url = client.authorization_url("http://127.0.0.1:8765/callback", "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ACCOUNTS + "/oauth/v2/auth"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "client-id-1",
        "scope": SCOPES,
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "access_type": "offline",
        "prompt": "consent",
        "state": "st4te",
    }
    assert SECRET not in url


# ------------------------------------------------------------------ code exchange
def test_exchange_code_sends_secrets_in_the_body_with_redirect_uri(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(TOKEN_URL, json=token_answer(refresh_token=REFRESH))
    tokens = client.exchange_code("grant-code-1", "http://127.0.0.1:8765/callback")
    request: Any = requests_mock.last_request
    assert request.qs == {}
    assert form(request) == {
        "grant_type": "authorization_code",
        "client_id": "client-id-1",
        "client_secret": SECRET,
        "code": "grant-code-1",
        "redirect_uri": "http://127.0.0.1:8765/callback",
    }
    assert tokens.access_token == ACCESS
    assert tokens.refresh_token == REFRESH
    assert tokens.expires_at == fake_time.now + 3600


def test_self_client_code_exchange_sends_no_redirect_uri(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, json=token_answer(refresh_token=REFRESH, scope="Desk.x"))
    tokens = client.exchange_code("self-client-code")
    assert "redirect_uri" not in form(requests_mock.last_request)
    assert tokens.scope == "Desk.x"


def test_tokens_and_secret_are_redacted_once_seen(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, json=token_answer(refresh_token="plain-refresh-token"))
    client.exchange_code("grant-code-xyz")
    text = redact(f"{SECRET} plain-refresh-token grant-code-xyz")
    assert "plain-refresh-token" not in text
    assert SECRET not in text
    assert "grant-code-xyz" not in text


def test_invalid_code_under_http_200_is_an_auth_error(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, status_code=200, json={"error": "invalid_code"})
    with pytest.raises(ZohoAuthError) as caught:
        client.exchange_code("used-code")
    assert caught.value.error_code == "invalid_code"
    assert caught.value.exit_code == 4
    assert "used-code" not in str(caught.value)


def test_unknown_error_under_http_200_is_still_an_error(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, json={"error": "invalid_client", "access_token": ACCESS})
    with pytest.raises(ZohoAuthError, match="invalid_client"):
        client.refresh(REFRESH)


def test_throttle_answer_is_rate_limited_with_a_hint(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, status_code=200, json=THROTTLED)
    with pytest.raises(RateLimitedError) as caught:
        client.refresh(REFRESH)
    assert caught.value.exit_code == 5
    assert caught.value.hint is not None and "10 token requests per 10 minutes" in (
        caught.value.hint
    )


def test_server_error_and_unreachable_server_are_unavailable(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, status_code=502, text="<html>bad gateway</html>")
    with pytest.raises(ZohoUnavailableError):
        client.refresh(REFRESH)
    requests_mock.post(TOKEN_URL, exc=requests.ConnectionError("boom " + SECRET))
    with pytest.raises(ZohoUnavailableError) as caught:
        client.refresh(REFRESH)
    assert SECRET not in str(caught.value)


def test_refresh_returns_a_new_access_token_without_refresh_token(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(TOKEN_URL, json=token_answer(expires_in=1800))
    tokens = client.refresh(REFRESH)
    assert form(requests_mock.last_request)["grant_type"] == "refresh_token"
    assert form(requests_mock.last_request)["refresh_token"] == REFRESH
    assert tokens.refresh_token is None
    assert tokens.expires_at == fake_time.now + 1800


def test_follow_moves_to_a_zoho_accounts_server_but_refuses_a_stranger(
    client: AccountsClient,
) -> None:
    client.follow("https://accounts.zoho.eu", "eu")
    assert client.accounts_url == "https://accounts.zoho.eu"
    with pytest.raises(AuthError):
        client.follow("https://evil.example.com", None)
    assert client.accounts_url == "https://accounts.zoho.eu"
    client.follow(None, "in")
    assert client.accounts_url == "https://accounts.zoho.in"


# ------------------------------------------------------------------ revoke
def test_revoke_uses_the_documented_endpoint(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    first = requests_mock.post(ACCOUNTS + "/oauth/v2/token/revoke", json={"status": "success"})
    second = requests_mock.post(ACCOUNTS + "/oauth/v2/revoke/token", json={"status": "success"})
    client.revoke(REFRESH)
    assert first.call_count == 1 and second.call_count == 0
    request: Any = first.last_request
    assert form(request) == {"token": REFRESH}
    assert request.qs == {}


def test_revoke_falls_back_to_the_newer_endpoint_with_basic_auth(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(ACCOUNTS + "/oauth/v2/token/revoke", status_code=404)
    second = requests_mock.post(ACCOUNTS + "/oauth/v2/revoke/token", json={"status": "success"})
    client.revoke(REFRESH)
    assert second.call_count == 1
    request: Any = second.last_request
    expected = base64.b64encode(f"client-id-1:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert form(request) == {"token": REFRESH, "token_type": "refresh_token"}


def test_revoke_fails_when_both_endpoints_refuse(
    client: AccountsClient, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(ACCOUNTS + "/oauth/v2/token/revoke", status_code=400, json={})
    requests_mock.post(
        ACCOUNTS + "/oauth/v2/revoke/token", status_code=200, json={"error": "invalid_token"}
    )
    with pytest.raises(ZohoAuthError) as caught:
        client.revoke(REFRESH)
    assert REFRESH not in str(caught.value)


# ------------------------------------------------------------------ device flow
DEVICE_CODE_URL = ACCOUNTS + "/oauth/v3/device/code"
DEVICE_TOKEN_URL = "/oauth/v3/device/token"


def test_start_device_flow_reads_codes_interval_and_lifetime(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(
        DEVICE_CODE_URL,
        json={
            "user_code": "ABCD-1234",
            "device_code": "dev-code-1",
            "verification_url": "https://accounts.zoho.com/oauth/v3/device",
            "interval": 30,
            "expires_in": 300,
        },
    )
    device = client.start_device_flow()
    sent = form(requests_mock.last_request)
    assert sent["grant_type"] == "device_request"
    assert sent["scope"] == SCOPES
    assert sent["access_type"] == "offline"
    assert "client_secret" not in sent
    assert device == DeviceCode(
        "dev-code-1",
        "ABCD-1234",
        "https://accounts.zoho.com/oauth/v3/device",
        30.0,
        fake_time.now + 300,
    )


def test_device_lifetime_in_milliseconds_is_read_as_seconds(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(
        DEVICE_CODE_URL,
        json={"user_code": "U", "device_code": "dev-code-2", "expires_in": 300000},
    )
    device = client.start_device_flow()
    assert device.expires_at == fake_time.now + 300
    assert device.interval == 30.0


def _device(fake_time: FakeTime, lifetime: float = 300.0) -> DeviceCode:
    return DeviceCode("dev-code-9", "U-1", "https://v", 10.0, fake_time.now + lifetime)


def test_device_poll_handles_pending_slow_down_and_other_dc_then_succeeds(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    us = requests_mock.post(
        ACCOUNTS + DEVICE_TOKEN_URL,
        [
            {"json": {"error": "authorization_pending"}},
            {"json": {"error": "slow_down"}},
            {"status_code": 400, "json": {"error": "other_dc", "user_location": "eu"}},
        ],
    )
    eu = requests_mock.post(
        "https://accounts.zoho.eu" + DEVICE_TOKEN_URL,
        json=token_answer(refresh_token=REFRESH),
    )
    waits: list[float] = []
    tokens = client.poll_device_flow(_device(fake_time), on_wait=waits.append)
    assert tokens.refresh_token == REFRESH
    assert us.call_count == 3 and eu.call_count == 1
    assert client.accounts_url == "https://accounts.zoho.eu"
    # Interval before each poll, lengthened by slow_down; the fake sleep did the waiting.
    assert waits == [10.0, 10.0, 15.0, 15.0]
    assert fake_time.sleeps == waits
    assert form(eu.last_request) == {
        "grant_type": "device_token",
        "client_id": "client-id-1",
        "client_secret": SECRET,
        "code": "dev-code-9",
    }


def test_device_poll_stops_when_zoho_says_expired(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(ACCOUNTS + DEVICE_TOKEN_URL, json={"error": "expired"})
    with pytest.raises(AuthError, match="expired"):
        client.poll_device_flow(_device(fake_time))


def test_device_poll_stops_at_the_codes_lifetime_without_extra_polls(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    pending = requests_mock.post(
        ACCOUNTS + DEVICE_TOKEN_URL, json={"error": "authorization_pending"}
    )
    with pytest.raises(AuthError, match="expired"):
        client.poll_device_flow(_device(fake_time, lifetime=35.0))
    assert pending.call_count == 3


def test_device_poll_reports_a_denied_request(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(ACCOUNTS + DEVICE_TOKEN_URL, json={"error": "access_denied"})
    with pytest.raises(AuthError, match="declined"):
        client.poll_device_flow(_device(fake_time))


def test_device_poll_throttle_is_rate_limited_not_denied(
    client: AccountsClient, requests_mock: rm.Mocker, fake_time: FakeTime
) -> None:
    requests_mock.post(ACCOUNTS + DEVICE_TOKEN_URL, json=THROTTLED)
    with pytest.raises(RateLimitedError):
        client.poll_device_flow(_device(fake_time))


# ------------------------------------------------------------------ loopback listener
def _browser(urls: list[str], results: list[requests.Response]) -> threading.Thread:
    """A browser in a thread: visits ``urls`` in order while the listener waits."""

    def run() -> None:
        for url in urls:
            results.append(requests.get(url, timeout=5))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_listener_returns_code_and_data_center_for_the_right_state() -> None:
    with RedirectListener(0, "good-state") as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/callback"
        results: list[requests.Response] = []
        # A stray favicon request first must not end the wait.
        thread = _browser(
            [
                f"http://127.0.0.1:{listener.port}/favicon.ico",
                listener.redirect_uri + "?code=1000.code&state=good-state&location=eu"
                "&accounts-server=https%3A%2F%2Faccounts.zoho.eu",
            ],
            results,
        )
        authorization = listener.wait(timeout=5)
        thread.join(5)
    assert authorization == Authorization("1000.code", "https://accounts.zoho.eu", "eu")
    assert results[0].status_code == 404
    assert results[1].status_code == 200 and "close this tab" in results[1].text


def test_listener_rejects_a_wrong_state() -> None:
    with RedirectListener(0, "good-state") as listener:
        results: list[requests.Response] = []
        thread = _browser([listener.redirect_uri + "?code=abc&state=forged"], results)
        with pytest.raises(AuthError, match="state"):
            listener.wait(timeout=5)
        thread.join(5)
    assert results[0].status_code == 400


def test_listener_reports_an_error_parameter() -> None:
    with RedirectListener(0, "good-state") as listener:
        results: list[requests.Response] = []
        thread = _browser(
            [listener.redirect_uri + "?error=access_denied&state=good-state"], results
        )
        with pytest.raises(AuthError, match="access_denied"):
            listener.wait(timeout=5)
        thread.join(5)
    assert results[0].status_code == 400


def test_listener_times_out_with_a_hint() -> None:
    with pytest.raises(AuthError, match="no answer") as caught:
        wait_for_redirect(0, "s", timeout=0.2)
    assert caught.value.hint is not None and "--device" in caught.value.hint


def test_listener_on_a_busy_port_is_a_config_error() -> None:
    with RedirectListener(0, "s") as first, pytest.raises(ConfigError, match="cannot listen"):
        RedirectListener(first.port, "s")


def test_listener_answers_before_wait_while_the_browser_still_runs() -> None:
    # `webbrowser` waits for a $BROWSER program, and that program waits for this answer: the
    # listener must serve from the moment it exists, not only once wait() is called.
    with RedirectListener(0, "good-state") as listener:
        answer = requests.get(listener.redirect_uri + "?code=1000.c&state=good-state", timeout=5)
        assert answer.status_code == 200
        assert listener.wait(timeout=1).code == "1000.c"
