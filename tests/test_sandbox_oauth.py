"""The Zoho Accounts side of the sandbox: codes, tokens, limits, device flow, consent, revoke."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from sandbox_fixture import desk_session, exchange_code, sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox


def _token(sb: Sandbox, **data: str) -> dict[str, Any]:
    base = {"client_id": sb.client_id, "client_secret": sb.client_secret}
    answer: dict[str, Any] = requests.post(
        f"{sb.url}/oauth/v2/token", data=base | data, timeout=5
    ).json()
    return answer


def _agents(sb: Sandbox, token: str) -> requests.Response:
    headers = {"Authorization": f"Zoho-oauthtoken {token}", "orgId": sb.org_id}
    return requests.get(f"{sb.url}/api/v1/agents", headers=headers, timeout=5)


def test_self_client_code_gives_access_and_refresh_tokens(sandbox: Sandbox) -> None:
    answer = exchange_code(sandbox, sandbox.mint_grant_code())
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    assert answer["access_token"].startswith("1000.")
    assert answer["refresh_token"] != answer["access_token"]
    assert _agents(sandbox, answer["access_token"]).status_code == 200


def test_grant_code_is_single_use(sandbox: Sandbox) -> None:
    code = sandbox.mint_grant_code()
    assert "access_token" in exchange_code(sandbox, code)
    assert exchange_code(sandbox, code) == {"error": "invalid_code"}


def test_grant_code_expires(sandbox: Sandbox) -> None:
    code = sandbox.mint_grant_code()
    sandbox.advance_time(181)
    assert exchange_code(sandbox, code) == {"error": "invalid_code"}


def test_token_endpoint_accepts_query_string_parameters_too(sandbox: Sandbox) -> None:
    params = {
        "grant_type": "authorization_code",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "code": sandbox.mint_grant_code(),
    }
    answer = requests.post(f"{sandbox.url}/oauth/v2/token", params=params, timeout=5)
    assert answer.status_code == 200 and "access_token" in answer.json()


def test_token_errors_are_http_200_with_an_error_key(sandbox: Sandbox) -> None:
    answer = requests.post(
        f"{sandbox.url}/oauth/v2/token",
        data={"grant_type": "authorization_code", "client_id": sandbox.client_id,
              "client_secret": "wrong", "code": sandbox.mint_grant_code()},
        timeout=5,
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.json() == {"error": "invalid_client_secret"}
    assert _token(sandbox, client_id="1000.OTHER", grant_type="refresh_token") == {
        "error": "invalid_client"
    }


def test_refresh_grant_gives_a_new_access_token_and_no_refresh_token(sandbox: Sandbox) -> None:
    first = exchange_code(sandbox, sandbox.mint_grant_code())
    again = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again["access_token"] != first["access_token"]
    assert "refresh_token" not in again


def test_expired_access_token_is_refused_with_invalid_oauth(sandbox: Sandbox) -> None:
    token = exchange_code(sandbox, sandbox.mint_grant_code())["access_token"]
    sandbox.advance_time(3601)
    answer = _agents(sandbox, token)
    assert answer.status_code == 401
    assert answer.json()["errorCode"] == "INVALID_OAUTH"


def test_token_requests_are_throttled_with_access_denied() -> None:
    sb = start_sandbox(SandboxConfig(token_requests_per_10min=3))
    try:
        refresh = exchange_code(sb, sb.mint_grant_code())["refresh_token"]
        answers = [_token(sb, grant_type="refresh_token", refresh_token=refresh) for _ in range(4)]
        assert all("access_token" in a for a in answers[:3])
        assert answers[3]["error"] == "Access Denied"
        assert answers[3]["status"] == "failure"
        sb.advance_time(601)
        assert "access_token" in _token(sb, grant_type="refresh_token", refresh_token=refresh)
    finally:
        sb.stop()


def test_revoke_all_tokens_kills_refresh_and_access_tokens(sandbox: Sandbox) -> None:
    first = exchange_code(sandbox, sandbox.mint_grant_code())
    sandbox.revoke_all_tokens()
    assert _agents(sandbox, first["access_token"]).json()["errorCode"] == "INVALID_OAUTH"
    refreshed = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed == {"error": "invalid_code"}


def test_revoke_endpoint_revokes_a_refresh_token_and_its_access_tokens(sandbox: Sandbox) -> None:
    first = exchange_code(sandbox, sandbox.mint_grant_code())
    url = f"{sandbox.url}/oauth/v2/token/revoke"
    answer = requests.post(url, params={"token": first["refresh_token"]}, timeout=5)
    assert answer.json() == {"status": "success"}
    assert _agents(sandbox, first["access_token"]).status_code == 401
    assert requests.post(url, params={"token": "nope"}, timeout=5).status_code == 400


def test_twenty_first_refresh_token_deletes_the_oldest(sandbox: Sandbox) -> None:
    tokens = [exchange_code(sandbox, sandbox.mint_grant_code())["refresh_token"] for _ in range(21)]
    assert _token(sandbox, grant_type="refresh_token", refresh_token=tokens[0]) == {
        "error": "invalid_code"
    }
    assert "access_token" in _token(sandbox, grant_type="refresh_token", refresh_token=tokens[1])


def test_consent_page_redirects_with_code_state_location_and_accounts_server(
    sandbox: Sandbox,
) -> None:
    redirect_uri = "http://127.0.0.1:8765/callback"
    answer = requests.get(
        f"{sandbox.url}/oauth/v2/auth",
        params={"client_id": sandbox.client_id, "response_type": "code", "scope": "Desk.basic.READ",
                "redirect_uri": redirect_uri, "access_type": "offline", "prompt": "consent",
                "state": "xyz"},
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == redirect_uri
    assert query["state"] == "xyz" and query["location"] == "us"
    assert query["accounts-server"] == sandbox.url
    wrong = _token(sandbox, grant_type="authorization_code", code=query["code"],
                   redirect_uri="http://127.0.0.1:9999/other")  # fmt: skip
    assert wrong == {"error": "invalid_redirect_uri"}


def test_consent_code_needs_the_matching_redirect_uri(sandbox: Sandbox) -> None:
    redirect_uri = "http://127.0.0.1:8765/callback"
    answer = requests.get(
        f"{sandbox.url}/oauth/v2/auth",
        params={"client_id": sandbox.client_id, "response_type": "code",
                "scope": "Desk.basic.READ", "redirect_uri": redirect_uri,
                "access_type": "offline"},
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    ok = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=redirect_uri)
    assert ok["scope"] == "Desk.basic.READ" and "refresh_token" in ok


def test_consent_page_refuses_a_non_loopback_redirect(sandbox: Sandbox) -> None:
    answer = requests.get(
        f"{sandbox.url}/oauth/v2/auth",
        params={"client_id": sandbox.client_id, "response_type": "code", "scope": "Desk.basic.READ",
                "redirect_uri": "https://evil.example/cb"},
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    assert answer.status_code == 400


def _device_start(sb: Sandbox) -> dict[str, Any]:
    answer: dict[str, Any] = requests.post(
        f"{sb.url}/oauth/v3/device/code",
        params={"grant_type": "device_request", "client_id": sb.client_id,
                "scope": "Desk.basic.READ", "access_type": "offline"},
        timeout=5,
    ).json()  # fmt: skip
    return answer


def _device_poll(sb: Sandbox, device_code: str) -> dict[str, Any]:
    answer: dict[str, Any] = requests.post(
        f"{sb.url}/oauth/v3/device/token",
        params={"client_id": sb.client_id, "client_secret": sb.client_secret,
                "grant_type": "device_token", "code": device_code},
        timeout=5,
    ).json()  # fmt: skip
    return answer


def test_device_flow_pending_then_slow_down_then_tokens(sandbox: Sandbox) -> None:
    start = _device_start(sandbox)
    assert start["interval"] == 30 and start["expires_in"] == 300
    assert _device_poll(sandbox, start["device_code"]) == {"error": "authorization_pending"}
    assert _device_poll(sandbox, start["device_code"]) == {"error": "slow_down"}
    page = requests.get(start["verification_url"], params={"user_code": start["user_code"]},
                        timeout=5)  # fmt: skip
    assert page.status_code == 200
    sandbox.advance_time(30)
    tokens = _device_poll(sandbox, start["device_code"])
    assert "refresh_token" in tokens
    assert _agents(sandbox, tokens["access_token"]).status_code == 200


def test_device_code_expires_and_denial_is_reported(sandbox: Sandbox) -> None:
    late = _device_start(sandbox)
    sandbox.advance_time(301)
    assert _device_poll(sandbox, late["device_code"]) == {"error": "expired"}
    denied = _device_start(sandbox)
    requests.get(
        f"{sandbox.url}/oauth/v3/device/approve",
        params={"user_code": denied["user_code"], "action": "deny"},
        timeout=5,
    )
    assert _device_poll(sandbox, denied["device_code"]) == {"error": "access_denied"}


def test_token_endpoint_requests_are_counted_without_secrets_in_the_log(sandbox: Sandbox) -> None:
    exchange_code(sandbox, sandbox.mint_grant_code())
    assert sandbox.request_counts()["POST /oauth/v2/token"] == 1
    assert sandbox.client_secret not in repr(sandbox.request_log())


def test_desk_session_helper_sets_token_and_org(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    assert session.get(f"{sandbox.url}/api/v1/myinfo", timeout=5).status_code == 200
