"""Limits, faults, the admin API and the state file."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests
from sandbox_fixture import desk_session, sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox


def _agents(sb: Sandbox, session: requests.Session) -> requests.Response:
    return session.get(f"{sb.url}/api/v1/agents", timeout=5)


def test_requests_over_the_concurrency_limit_get_too_many_requests() -> None:
    sb = start_sandbox(SandboxConfig(concurrency=2, latency_ms=300,
                                     token_requests_per_10min=100))  # fmt: skip
    try:
        token = desk_session(sb).headers
        results: list[int] = []
        codes: list[str] = []

        def one() -> None:
            answer = requests.get(f"{sb.url}/api/v1/departments", headers=token, timeout=5)
            results.append(answer.status_code)
            if answer.status_code == 429:
                codes.append(answer.json()["errorCode"])

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(200) == 2
        assert results.count(429) == 4
        assert set(codes) == {"TOO_MANY_REQUESTS"}
    finally:
        sb.stop()


def test_spent_daily_credits_answer_threshold_exceeded_until_the_next_day() -> None:
    sb = start_sandbox(SandboxConfig(daily_credits=3, token_requests_per_10min=100))
    try:
        session = desk_session(sb)
        answers = [_agents(sb, session) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[3].json()["errorCode"] == "THRESHOLD_EXCEEDED"
        assert sb.credits_used() == 3
        sb.advance_time(86_400)
        session = desk_session(sb)  # the old access token expired with the day
        assert _agents(sb, session).status_code == 200
    finally:
        sb.stop()


def test_fail_next_injects_exactly_that_many_faults(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    sandbox.set_faults(fail_next=2, kinds=("500",))
    statuses = [_agents(sandbox, session).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_injected_429_has_zoho_shape(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    sandbox.set_faults(fail_next=1, kinds=("429",))
    answer = _agents(sandbox, session)
    assert answer.status_code == 429 and answer.json()["errorCode"] == "TOO_MANY_REQUESTS"


def test_dropped_connection_raises_a_connection_error(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    sandbox.set_faults(fail_next=1, kinds=("drop",))
    with pytest.raises(requests.ConnectionError):
        _agents(sandbox, session)
    assert _agents(sandbox, session).status_code == 200


def test_drop_after_write_creates_the_record_but_loses_the_answer(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    sandbox.set_faults(fail_next=1, kinds=("drop_after_write",))
    with pytest.raises(requests.ConnectionError):
        session.post(f"{sandbox.url}/api/v1/contacts", json={"lastName": "Lost"}, timeout=5)
    assert [c["lastName"] for c in sandbox.records("contacts")] == ["Lost"]


def test_fail_rate_one_fails_every_request(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    sandbox.set_faults(fail_rate=1.0, kinds=("429", "500"))
    assert {_agents(sandbox, session).status_code for _ in range(10)} <= {429, 500}
    sandbox.set_faults(fail_rate=0.0)
    assert _agents(sandbox, session).status_code == 200


def test_unknown_fault_kind_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.set_faults(kinds=("teapot",))


def test_request_counts_use_path_templates(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    contact = session.post(f"{sandbox.url}/api/v1/contacts", json={"lastName": "A"}, timeout=5)
    session.get(f"{sandbox.url}/api/v1/contacts/{contact.json()['id']}", timeout=5)
    session.get(f"{sandbox.url}/api/v1/contacts/1", timeout=5)
    counts = sandbox.request_counts()
    assert counts["POST /api/v1/contacts"] == 1
    assert counts["GET /api/v1/contacts/{id}"] == 2
    log = sandbox.request_log()
    assert log[-1]["status"] == 404 and log[-1]["orgIdHeader"] == sandbox.org_id


def test_admin_http_api_drives_the_sandbox(sandbox: Sandbox) -> None:
    admin = f"{sandbox.url}/__sandbox__"
    client = requests.get(f"{admin}/client", timeout=5).json()
    assert client["org_id"] == sandbox.org_id and client["client_secret"] == sandbox.client_secret
    code = requests.post(f"{admin}/grant-code", json={"scopes": "Desk.basic.READ"},
                         timeout=5).json()["code"]  # fmt: skip
    token = requests.post(f"{sandbox.url}/oauth/v2/token", data={
        "grant_type": "authorization_code", "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret, "code": code}, timeout=5).json()  # fmt: skip
    headers = {"Authorization": f"Zoho-oauthtoken {token['access_token']}",
               "orgId": sandbox.org_id}  # fmt: skip
    assert requests.get(f"{sandbox.url}/api/v1/agents", headers=headers, timeout=5).ok
    counts = requests.get(f"{admin}/counts", timeout=5).json()
    assert counts["GET /api/v1/agents"] == 1
    assert requests.get(f"{admin}/requests", timeout=5).json()["requests"]
    requests.post(f"{admin}/faults", json={"fail_next": 1, "kinds": ["500"]}, timeout=5)
    assert (
        requests.get(f"{sandbox.url}/api/v1/agents", headers=headers, timeout=5).status_code == 500
    )
    requests.post(f"{admin}/revoke", timeout=5)
    assert (
        requests.get(f"{sandbox.url}/api/v1/agents", headers=headers, timeout=5).status_code == 401
    )
    agents = requests.get(f"{admin}/records/agents", timeout=5).json()["data"]
    assert len(agents) >= 5
    assert "desk" in requests.get(f"{admin}/state", timeout=5).json()
    requests.post(f"{admin}/reset", timeout=5)
    assert sandbox.request_counts() == {}


def test_reset_forgets_records_and_fields(sandbox: Sandbox) -> None:
    session = desk_session(sandbox)
    session.post(f"{sandbox.url}/api/v1/contacts", json={"lastName": "A"}, timeout=5)
    sandbox.reset()
    assert sandbox.records("contacts") == []


def test_state_file_round_trip_keeps_records_and_refresh_tokens(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    first = start_sandbox(SandboxConfig(state_file=state))
    session = desk_session(first)
    session.post(f"{first.url}/api/v1/contacts", json={"lastName": "Kept"}, timeout=5)
    refresh = requests.post(f"{first.url}/oauth/v2/token", data={
        "grant_type": "authorization_code", "client_id": first.client_id,
        "client_secret": first.client_secret, "code": first.mint_grant_code()},
        timeout=5).json()["refresh_token"]  # fmt: skip
    first.stop()
    assert state.stat().st_mode & 0o777 == 0o600
    assert json.loads(state.read_text())["version"] == 1
    second = start_sandbox(SandboxConfig(state_file=state))
    try:
        assert [c["lastName"] for c in second.records("contacts")] == ["Kept"]
        assert second.org_id == first.org_id
        again = requests.post(f"{second.url}/oauth/v2/token", data={
            "grant_type": "refresh_token", "client_id": second.client_id,
            "client_secret": second.client_secret, "refresh_token": refresh},
            timeout=5).json()  # fmt: skip
        assert "access_token" in again
    finally:
        second.stop()


def test_sandbox_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError):
        Sandbox(SandboxConfig(host="0.0.0.0"))
