"""DeskClient against requests-mock: headers, retries, typed errors, redaction, helpers."""

from __future__ import annotations

import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from ringodesk_cli.errors import (
    CreditsExhaustedError,
    ExitCode,
    InvalidDataError,
    LicenseLimitedError,
    NotFoundError,
    OrgMismatchError,
    RateLimitedError,
    ScopeError,
    ZohoAuthError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.http_retry import never_sent
from ringodesk_cli.zoho.desk import DeskClient, OutcomeUnknownError

HOST = "http://127.0.0.1:8800"
API = HOST + "/api/v1"
# Not shaped like a Zoho token, so only registration (not the regex) can hide it.
TOKEN_1 = "tok-SECRET-one-7f3a9c"
TOKEN_2 = "tok-SECRET-two-51be0d"


class FakeTokens:
    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens or (TOKEN_1, TOKEN_2))
        self.invalidated: list[str] = []
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            return self.tokens[0]

    def invalidate(self, token: str) -> None:
        with self._lock:
            self.invalidated.append(token)
            if len(self.tokens) > 1 and self.tokens[0] == token:
                self.tokens.pop(0)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def client(tokens: FakeTokens, sleeps: Sleeps) -> DeskClient:
    return DeskClient(HOST, tokens, "20080", sleep=sleeps, rng=lambda: 1.0, clock=lambda: 1e9)


def _err(code: str, message: str = "nope", **extra: Any) -> dict[str, Any]:
    return {"json": {"errorCode": code, "message": message, **extra}}


# ---------------------------------------------------------------- headers & bodies
def test_requests_carry_oauth_header_and_org_id(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.get(API + "/myinfo", json={"id": "1892000000056096"})
    assert client.myinfo() == {"id": "1892000000056096"}
    sent = requests_mock.last_request.headers
    assert sent["Authorization"] == f"Zoho-oauthtoken {TOKEN_1}"
    assert sent["orgId"] == "20080"


def test_organizations_are_listed_without_org_header(
    client: DeskClient, requests_mock: Any
) -> None:
    requests_mock.get(API + "/organizations", json={"data": [{"id": "3981311"}]})
    requests_mock.get(API + "/accessibleOrganizations", json={"data": [{"id": "42"}]})
    assert client.organizations() == [{"id": "3981311"}]
    assert "orgId" not in requests_mock.last_request.headers
    assert client.accessible_organizations() == [{"id": "42"}]
    assert "orgId" not in requests_mock.last_request.headers


def test_org_id_set_after_construction_is_sent(tokens: FakeTokens, requests_mock: Any) -> None:
    client = DeskClient(HOST + "/api/v1/", tokens)
    requests_mock.get(API + "/myinfo", json={})
    client.myinfo()
    assert "orgId" not in requests_mock.last_request.headers
    client.org_id = "777"
    client.myinfo()
    assert requests_mock.last_request.headers["orgId"] == "777"


def test_ids_stay_strings_and_bodies_are_sent_as_json(
    client: DeskClient, requests_mock: Any
) -> None:
    requests_mock.post(
        API + "/calls", json={"id": "3000000054002", "contactId": "1892000000088017"}
    )
    call = client.create_call({"subject": "[rs:ua-1]", "contactId": "1892000000088017"})
    assert call["id"] == "3000000054002"
    assert requests_mock.last_request.json()["contactId"] == "1892000000088017"


def test_204_without_body_is_none_and_an_empty_list(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.get(API + "/tickets/search", status_code=204, text="")
    assert client.request("GET", "/tickets/search") is None
    assert client.search_tickets(subject="[rs:ua-9]") == []


def test_non_json_success_body_is_a_zoho_error(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.get(API + "/myinfo", text="<html>portal moved</html>")
    with pytest.raises(ZohoError, match="not JSON"):
        client.myinfo()


# ---------------------------------------------------------------- retries
def test_429_then_success_honours_retry_after_seconds(
    client: DeskClient, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(
        API + "/myinfo",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, **_err("TOO_MANY_REQUESTS")},
            {"json": {"id": "1"}},
        ],
    )
    assert client.myinfo() == {"id": "1"}
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured_and_capped(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any
) -> None:
    now = 1_700_000_000.0
    client = DeskClient(HOST, tokens, "1", sleep=sleeps, clock=lambda: now, backoff_cap=60.0)
    soon = format_datetime(datetime.fromtimestamp(now + 12, UTC), usegmt=True)
    later = format_datetime(datetime.fromtimestamp(now + 3600, UTC), usegmt=True)
    requests_mock.get(
        API + "/myinfo",
        [
            {"status_code": 429, "headers": {"Retry-After": soon}},
            {"status_code": 503, "headers": {"Retry-After": later}},
            {"json": {}},
        ],
    )
    client.myinfo()
    assert sleeps == [pytest.approx(12.0), 60.0]


def test_5xx_backoff_grows_exponentially_up_to_the_cap_then_gives_up(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any
) -> None:
    client = DeskClient(
        HOST, tokens, "1", sleep=sleeps, rng=lambda: 1.0, backoff_base=0.5, backoff_cap=3.0
    )
    requests_mock.get(API + "/departments", status_code=500, **_err("INTERNAL_SERVER_ERROR"))
    with pytest.raises(ZohoUnavailableError) as info:
        client.request("GET", "/departments")
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert requests_mock.call_count == 6
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert info.value.error_code == "INTERNAL_SERVER_ERROR"


def test_backoff_uses_full_jitter_from_the_injected_rng(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any
) -> None:
    client = DeskClient(HOST, tokens, "1", sleep=sleeps, rng=lambda: 0.25, max_attempts=3)
    requests_mock.get(
        API + "/myinfo", [{"status_code": 502, "text": "Bad Gateway"}] * 2 + [{"json": {}}]
    )
    client.myinfo()
    assert sleeps == [0.125, 0.25]


def test_connection_error_is_retried(
    client: DeskClient, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(
        API + "/myinfo", [{"exc": requests.ConnectionError("refused")}, {"json": {"id": "9"}}]
    )
    assert client.myinfo() == {"id": "9"}
    assert len(sleeps) == 1


def test_timeouts_exhausting_attempts_raise_unavailable(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any
) -> None:
    client = DeskClient(HOST, tokens, "1", sleep=sleeps, max_attempts=3)
    requests_mock.get(API + "/agents", exc=requests.ReadTimeout("slow"))
    with pytest.raises(ZohoUnavailableError, match="could not be reached"):
        client.request("GET", "/agents")
    assert requests_mock.call_count == 3


def test_post_whose_outcome_is_unknown_is_not_resent(
    client: DeskClient, requests_mock: Any
) -> None:
    requests_mock.post(API + "/calls", exc=requests.ReadTimeout("no answer"))
    with pytest.raises(OutcomeUnknownError) as info:
        client.create_call({"subject": "x"})
    assert requests_mock.call_count == 1
    assert info.value.exit_code == ExitCode.UNAVAILABLE

    requests_mock.post(API + "/tickets", status_code=500, **_err("INTERNAL_SERVER_ERROR"))
    with pytest.raises(OutcomeUnknownError):
        client.create_ticket({"subject": "x"})
    assert requests_mock.call_count == 2


def test_post_refused_before_processing_is_resent(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.post(
        API + "/tasks",
        [
            {"exc": requests.ConnectTimeout("connect")},
            {"status_code": 503, "text": ""},
            {"status_code": 429, **_err("TOO_MANY_REQUESTS")},
            {"json": {"id": "5"}},
        ],
    )
    assert client.create_task({"subject": "x"}) == {"id": "5"}
    assert requests_mock.call_count == 4


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "BAD_REQUEST", ZohoError),
        (422, "INVALID_DATA", InvalidDataError),
        (422, "UNPROCESSABLE_ENTITY", InvalidDataError),
        (404, "URL_NOT_FOUND", NotFoundError),
        (403, "SCOPE_MISMATCH", ScopeError),
        (401, "SCOPE_MISMATCH", ScopeError),
        (401, "OAUTH_ORG_MISMATCH", OrgMismatchError),
        (403, "LICENSE_ACCESS_LIMITED", LicenseLimitedError),
    ],
)
def test_other_4xx_fail_at_once_with_the_typed_error(
    client: DeskClient,
    tokens: FakeTokens,
    sleeps: Sleeps,
    requests_mock: Any,
    status: int,
    code: str,
    cls: type[ZohoError],
) -> None:
    requests_mock.post(API + "/contacts", status_code=status, **_err(code))
    with pytest.raises(ZohoError) as info:
        client.create_contact({"lastName": "+380441234567"})
    assert type(info.value) is cls
    assert info.value.error_code == code
    assert info.value.status == status
    assert requests_mock.call_count == 1
    assert sleeps == []
    assert tokens.invalidated == []


def test_invalid_data_carries_zoho_field_errors(client: DeskClient, requests_mock: Any) -> None:
    body = _err(
        "INVALID_DATA",
        "An invalid value was passed",
        errors=[{"fieldName": "/contactId", "errorType": "invalid", "errorMessage": "bad id"}],
    )
    requests_mock.post(API + "/calls", status_code=422, **body)
    with pytest.raises(InvalidDataError) as info:
        client.create_call({"contactId": "1"})
    assert info.value.errors == [
        {"fieldName": "/contactId", "errorType": "invalid", "errorMessage": "bad id"}
    ]
    assert "/contactId invalid (bad id)" in str(info.value)
    assert "POST /calls" in str(info.value)


def test_license_limit_keeps_zoho_details(client: DeskClient, requests_mock: Any) -> None:
    body = _err("LICENSE_ACCESS_LIMITED", maxAllowedEntity=100, editionType="FREE")
    requests_mock.post(API + "/fields", status_code=403, **body)
    with pytest.raises(LicenseLimitedError) as info:
        client.create_field("tickets", {"displayLabel": "UTM", "type": "Text", "maxLength": 255})
    assert info.value.payload["maxAllowedEntity"] == 100
    assert requests_mock.last_request.qs == {"module": ["tickets"]}


@pytest.mark.parametrize(
    "answer",
    [
        {"status_code": 400, "text": ""},
        {"status_code": 400, "text": "<html>Bad Request</html>"},
        {"status_code": 400, "json": {"message": "no code, no errors"}},
        {"status_code": 422, "json": {"errorCode": "INVALID_DATA", "errors": "not-a-list"}},
        {"status_code": 400, "json": ["a", "list"]},
    ],
)
def test_odd_error_bodies_do_not_crash(
    client: DeskClient, requests_mock: Any, answer: dict[str, Any]
) -> None:
    requests_mock.get(API + "/myinfo", **answer)
    with pytest.raises(ZohoError) as info:
        client.myinfo()
    assert info.value.status == answer["status_code"]
    assert "GET /myinfo" in str(info.value)


def test_threshold_exceeded_is_retried_twice_then_credits_exhausted(
    client: DeskClient, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.get(API + "/myinfo", status_code=429, **_err("THRESHOLD_EXCEEDED"))
    with pytest.raises(CreditsExhaustedError):
        client.myinfo()
    assert requests_mock.call_count == 3
    assert len(sleeps) == 2


def test_too_many_requests_is_retried_up_to_max_attempts_then_rate_limited(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any
) -> None:
    client = DeskClient(HOST, tokens, "1", sleep=sleeps, max_attempts=4)
    requests_mock.get(API + "/myinfo", status_code=429, **_err("TOO_MANY_REQUESTS"))
    with pytest.raises(RateLimitedError) as info:
        client.myinfo()
    assert not isinstance(info.value, CreditsExhaustedError)
    assert requests_mock.call_count == 4


# ---------------------------------------------------------------- auth
@pytest.mark.parametrize("code", ["INVALID_OAUTH", "UNAUTHORIZED"])
def test_stale_token_is_invalidated_and_the_call_retried_once_with_a_fresh_one(
    client: DeskClient, tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any, code: str
) -> None:
    requests_mock.get(API + "/myinfo", [{"status_code": 401, **_err(code)}, {"json": {"id": "1"}}])
    assert client.myinfo() == {"id": "1"}
    assert tokens.invalidated == [TOKEN_1]
    assert requests_mock.request_history[1].headers["Authorization"].endswith(TOKEN_2)
    assert sleeps == []


def test_second_401_is_an_auth_error(
    client: DeskClient, tokens: FakeTokens, requests_mock: Any
) -> None:
    requests_mock.get(API + "/myinfo", status_code=401, **_err("INVALID_OAUTH"))
    with pytest.raises(ZohoAuthError) as info:
        client.myinfo()
    assert info.value.exit_code == ExitCode.AUTH
    assert requests_mock.call_count == 2
    assert tokens.invalidated == [TOKEN_1]


# ---------------------------------------------------------------- secrets & logs
def test_token_never_appears_in_exception_text_or_logs(
    tokens: FakeTokens, sleeps: Sleeps, requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = DeskClient(HOST, tokens, "1", sleep=sleeps, max_attempts=2)
    echo = f"Authorization header was {TOKEN_1}"
    requests_mock.get(API + "/myinfo", status_code=400, **_err("BAD_REQUEST", echo))
    requests_mock.get(API + "/agents", status_code=503, text=f"<p>token={TOKEN_1}</p>")
    requests_mock.get(API + "/departments", status_code=401, text=f"who is {TOKEN_1}? {TOKEN_2}")
    raised: list[str] = []
    for call in (client.myinfo, client.agents, client.departments):
        with pytest.raises(ZohoError) as info:
            call()
        raised.append(str(info.value))
    assert raised and caplog.records
    everything = "\n".join(raised) + "\n" + caplog.text
    assert TOKEN_1 not in everything
    assert TOKEN_2 not in everything
    assert "GET /myinfo -> 400" in caplog.text


# ---------------------------------------------------------------- stats & threads
def test_stats_count_every_attempt_with_ids_folded(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.post(API + "/calls", [{"status_code": 429}, {"json": {"id": "1"}}])
    requests_mock.patch(API + "/calls/3000000054002", json={"id": "3000000054002"})
    requests_mock.patch(API + "/calls/3000000054003", json={"id": "3000000054003"})
    client.create_call({})
    client.update_call("3000000054002", {"status": "Completed"})
    client.update_call("3000000054003", {"status": "Completed"})
    assert client.stats == {"POST /calls": 2, "PATCH /calls/{id}": 2}


def test_client_is_safe_to_share_between_threads(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.post(API + "/calls", json={"id": "1"})
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.create_call({}), range(200)))
    assert len(results) == 200
    assert client.stats["POST /calls"] == 200


# ---------------------------------------------------------------- endpoint helpers
def test_agents_lists_active_and_disabled_across_pages(
    client: DeskClient, requests_mock: Any
) -> None:
    def agents(request: Any, context: Any) -> Any:
        status, start = request.qs["status"][0].upper(), int(request.qs["from"][0])
        assert request.qs["limit"] == ["200"]
        if start == 0:
            context.status_code = 422
            return {"errorCode": "UNPROCESSABLE_ENTITY", "message": "from"}
        if status == "ACTIVE" and start == 1:
            return {"data": [{"id": str(i), "status": "ACTIVE"} for i in range(200)]}
        if status == "ACTIVE" and start == 201:
            return {"data": [{"id": "200", "status": "ACTIVE"}]}
        if status == "DISABLED" and start == 1:
            return {"data": [{"id": "900", "status": "DISABLED"}]}
        context.status_code = 204
        return None

    requests_mock.get(API + "/agents", json=agents)
    found = client.agents()
    assert len(found) == 202
    assert {a["status"] for a in found} == {"ACTIVE", "DISABLED"}


def test_search_contacts_sends_only_given_criteria_and_caps_results(
    client: DeskClient, requests_mock: Any
) -> None:
    rows = [{"id": str(i), "phone": "+380441234567"} for i in range(3)]
    requests_mock.get(API + "/contacts/search", json={"data": rows})
    assert client.search_contacts(phone="*380441234567", limit=2) == rows[:2]
    assert requests_mock.request_history[0].qs == {
        "phone": ["*380441234567"],
        "limit": ["2"],
    }
    assert len(requests_mock.request_history) == 1  # a search costs one request
    with pytest.raises(ValueError):
        client.search_contacts()


def test_list_fields_not_found_is_reported_for_fallback(
    client: DeskClient, requests_mock: Any
) -> None:
    requests_mock.get(API + "/fields", status_code=404, **_err("URL_NOT_FOUND"))
    requests_mock.get(API + "/organizationFields", json={"data": [{"apiName": "cf_utm"}]})
    with pytest.raises(NotFoundError) as info:
        client.list_fields("tickets")
    assert info.value.error_code == "URL_NOT_FOUND"
    assert client.list_organization_fields("tickets") == [{"apiName": "cf_utm"}]


def test_record_ids_are_quoted_into_paths(client: DeskClient, requests_mock: Any) -> None:
    requests_mock.get(API + "/tickets/12%2F34", json={"id": "x"})
    assert client.get_ticket("12/34") == {"id": "x"}


def test_zero_based_search_server_still_finds_the_single_match(
    client: DeskClient, requests_mock: Any
) -> None:
    # A search sends no `from`, so the server starts at its own first record either way.
    def search(request: Any, context: Any) -> Any:
        if int(request.qs.get("from", ["0"])[0]) == 0:
            return {"data": [{"id": "1892000000088017", "phone": "+380441234567"}]}
        context.status_code = 204
        return None

    requests_mock.get(API + "/contacts/search", json=search)
    found = client.search_contacts(mobile="380441234567")
    assert [c["id"] for c in found] == ["1892000000088017"]
    assert len(requests_mock.request_history) == 1


def test_refused_connection_counts_as_never_sent() -> None:
    # A real connection to a closed loopback port: checks how requests wraps the failure,
    # which decides whether a POST may be resent.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as info:
        requests.post(f"http://127.0.0.1:{port}/api/v1/calls", timeout=2)
    assert never_sent(info.value)
    assert not never_sent(requests.ReadTimeout("sent, no answer"))


# ---------------------------------------------------------------- stopping
def test_once_told_to_stop_no_request_starts_and_none_is_counted(
    client: DeskClient, requests_mock: Any
) -> None:
    from ringodesk_cli.errors import Interrupted

    stop = threading.Event()
    client.stop_when(stop)
    requests_mock.get(API + "/myinfo", json={"id": "1"})
    assert client.myinfo() == {"id": "1"}
    stop.set()
    with pytest.raises(Interrupted):
        client.myinfo()
    assert requests_mock.call_count == 1
    assert client.stats == {"GET /myinfo": 1}


def test_a_stop_during_a_request_lets_it_finish_but_cuts_its_retries_short(
    client: DeskClient, sleeps: Sleeps, requests_mock: Any
) -> None:
    from ringodesk_cli.errors import Interrupted

    stop = threading.Event()
    client.stop_when(stop)

    def busy(request: Any, context: Any) -> dict[str, Any]:
        stop.set()  # the signal lands while this request is on the wire
        context.status_code = 503
        return {"errorCode": "SERVICE_UNAVAILABLE", "message": "busy"}

    requests_mock.get(API + "/myinfo", json=busy)
    with pytest.raises(Interrupted):
        client.myinfo()
    assert requests_mock.call_count == 1  # answered, then no retry and no wait for one
    assert sleeps == []


def test_waiting_for_a_slot_when_the_stop_comes_sends_nothing(
    tokens: FakeTokens, requests_mock: Any
) -> None:
    from ringodesk_cli.errors import Interrupted

    client = DeskClient(HOST, tokens, "20080", max_in_flight=1)
    stop = threading.Event()
    client.stop_when(stop)
    release = threading.Event()

    def slow(request: Any, context: Any) -> dict[str, Any]:
        release.wait(5)
        return {"id": "1"}

    requests_mock.get(API + "/myinfo", json=slow)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(client.myinfo)
        while requests_mock.call_count == 0:
            threading.Event().wait(0.01)
        second = pool.submit(client.myinfo)  # waits for the one slot
        threading.Event().wait(0.1)
        stop.set()
        release.set()
        assert first.result(timeout=5) == {"id": "1"}  # in flight: finished
        with pytest.raises(Interrupted):
            second.result(timeout=5)
    assert requests_mock.call_count == 1


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/myinfo", None, None),
        ("GET", "/contacts/search", {"_all": "+380 50 123-45-67", "limit": 50, "x": None}, None),
        ("GET", "/tickets/search", {"subject": "Дзвінок [rs:a/b&c=d]"}, None),
        ("POST", "/calls", None, {"subject": "Вхідний ☎", "cf": {"cf_rs_id": "1"}, "n": 1.5}),
        ("POST", "/fields", {"module": "calls"}, {}),
        ("PATCH", "/calls/1892000000088017", None, {"duration": "00:01:05"}),
        ("POST", "/contacts", None, None),
    ],
)
def test_requests_are_prepared_exactly_as_requests_would_prepare_them(
    client: DeskClient, method: str, path: str, params: dict[str, Any] | None, body: Any
) -> None:
    headers = {"Authorization": "Zoho-oauthtoken " + TOKEN_1, "Accept": "application/json"}
    headers["orgId"] = "20080"
    client._environment_settings()
    ours = client._prepare(method, path, params, body, dict(headers))
    theirs = requests.Session().prepare_request(
        requests.Request(method, API + path, params=params, json=body, headers=headers)
    )
    assert ours.method == theirs.method
    assert ours.url == theirs.url
    assert list(ours.headers.items()) == list(theirs.headers.items())  # order included
    assert ours.body == theirs.body
