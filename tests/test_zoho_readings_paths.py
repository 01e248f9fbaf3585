"""The client's paths for readings of Zoho that its documentation leaves open
(docs/zoho-readings.md), against requests-mock: refused cf values and descriptions are
dropped and the record sent again, refusals and paging bases are remembered in the state,
departmentId is sent, lost creates are reconciled
through documented endpoints only and a found call is not PATCHed for fields its list lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ringodesk_cli.delivery.reconcile import Reconciler, stale_fields
from ringodesk_cli.errors import InvalidDataError
from ringodesk_cli.zoho.answers import ANSWERS_FILE_NAME, KnownAnswers
from ringodesk_cli.zoho.desk import DeskClient

HOST = "http://127.0.0.1:8801"
API = HOST + "/api/v1"


class Token:
    def access_token(self) -> str:
        return "tok-readings"

    def invalidate(self, token: str) -> None:
        pass


def _client(answers: KnownAnswers | None = None) -> DeskClient:
    return DeskClient(HOST, Token(), "1", sleep=lambda _s: None, max_attempts=1, answers=answers)


def _refused(*fields: str) -> dict[str, Any]:
    errors = [{"fieldName": f, "errorType": "invalid", "errorMessage": "x"} for f in fields]
    return {
        "status_code": 422,
        "json": {"errorCode": "INVALID_DATA", "message": "invalid", "errors": errors},
    }


def _bodies(requests_mock: Any, method: str = "POST") -> list[dict[str, Any]]:
    return [r.json() for r in requests_mock.request_history if r.method == method]


URL = "https://shop.example/landing?utm_source=google&utm_medium=cpc"


def test_a_refused_cf_value_is_dropped_kept_in_the_description_and_counted(
    requests_mock: Any,
) -> None:
    requests_mock.post(API + "/tickets", [_refused("/cf/cf_landing_page"), {"json": {"id": "t1"}}])
    client = _client()
    body = {
        "subject": "s",
        "description": "From: +380",
        "cf": {"cf_landing_page": URL, "cf_rs_source": "google"},
    }
    assert client.create_ticket(body) == {"id": "t1"}
    first, second = _bodies(requests_mock)
    assert first["cf"]["cf_landing_page"] == URL
    assert second["cf"] == {"cf_rs_source": "google"}
    assert URL in second["description"] and second["description"].startswith("From: +380")
    assert client.dropped_cf == {"cf_landing_page": 1}
    assert body["cf"]["cf_landing_page"] == URL  # the caller's body is left alone


def test_a_value_already_in_the_description_is_not_repeated(requests_mock: Any) -> None:
    requests_mock.post(API + "/contacts", [_refused("cf_landing_page"), {"json": {"id": "c1"}}])
    client = _client()
    body = {"lastName": "x", "description": f"Landing: {URL}", "cf": {"cf_landing_page": URL}}
    client.create_contact(body)
    second = _bodies(requests_mock)[1]
    assert "cf" not in second
    assert second["description"] == f"Landing: {URL}"
    assert client.dropped_cf == {"cf_landing_page": 1}


def test_a_refusal_of_anything_else_stands(requests_mock: Any) -> None:
    requests_mock.post(API + "/tickets", **_refused("/cf/cf_landing_page", "/assigneeId"))
    client = _client()
    with pytest.raises(InvalidDataError):
        client.create_ticket({"assigneeId": "9", "cf": {"cf_landing_page": URL}})
    assert len(requests_mock.request_history) == 1
    assert not client.dropped_cf


def test_a_refused_description_is_dropped_and_remembered_across_runs(
    requests_mock: Any, tmp_path: Path
) -> None:
    requests_mock.post(API + "/calls", [_refused("/description"), {"json": {"id": "k1"}}])
    requests_mock.post(API + "/tasks", json={"id": "t1"})
    requests_mock.patch(API + "/calls/k1", json={"id": "k1"})
    path = tmp_path / ANSWERS_FILE_NAME
    client = _client(KnownAnswers(path))
    assert client.create_call({"subject": "a", "description": "d"}) == {"id": "k1"}
    assert [("description" in b) for b in _bodies(requests_mock)] == [True, False]
    assert json.loads(path.read_text())["description_refused"] == ["calls"]

    # The same run: sent without it at once. Tasks are another module: still sent.
    requests_mock.post(API + "/calls", json={"id": "k2"})
    client.create_call({"subject": "b", "description": "d"})
    client.create_task({"subject": "t", "description": "d"})
    assert _bodies(requests_mock)[2:] == [{"subject": "b"}, {"subject": "t", "description": "d"}]

    # A later run (a new client reading the state): one request, no description; a PATCH
    # left with nothing this portal accepts is not sent.
    later = _client(KnownAnswers(path))
    requests_mock.reset_mock()
    later.create_call({"subject": "c", "description": "d"})
    later.update_call("k1", {"description": "d2"})
    assert _bodies(requests_mock) == [{"subject": "c"}]
    assert _bodies(requests_mock, "PATCH") == []


def test_description_and_cf_refused_together_are_both_dropped(requests_mock: Any) -> None:
    requests_mock.post(
        API + "/tasks",
        [_refused("/description", "/cf/cf_landing_page"), {"json": {"id": "t1"}}],
    )
    client = _client()
    client.create_task({"subject": "s", "description": "d", "cf": {"cf_landing_page": URL}})
    assert _bodies(requests_mock)[1] == {"subject": "s"}
    assert client.dropped_cf == {"cf_landing_page": 1}


def test_description_on_tickets_is_never_dropped(requests_mock: Any) -> None:
    requests_mock.post(API + "/tickets", **_refused("/description"))
    with pytest.raises(InvalidDataError):
        _client().create_ticket({"subject": "s", "description": "d"})
    assert len(requests_mock.request_history) == 1


def test_the_paging_probe_is_asked_once_then_remembered_in_the_state(
    requests_mock: Any, tmp_path: Path
) -> None:
    requests_mock.get(API + "/tickets/5/calls", json={"data": [{"id": "c1"}]})
    requests_mock.get(API + "/tickets/6/calls", json={"data": [{"id": "c2"}]})
    path = tmp_path / ANSWERS_FILE_NAME
    assert _client(KnownAnswers(path)).list_ticket_calls("5") == [{"id": "c1"}]
    froms = [r.qs["from"] for r in requests_mock.request_history]
    assert froms == [["1"], ["0"]]  # the page, then the probe (same first record: 1-based)
    assert json.loads(path.read_text())["from_first_index"] == {"/tickets/{id}/calls": 1}

    requests_mock.reset_mock()
    _client(KnownAnswers(path)).list_ticket_calls("6")
    assert [r.qs["from"] for r in requests_mock.request_history] == [["1"]]


def test_an_unreadable_answers_file_means_nothing_known(tmp_path: Path) -> None:
    path = tmp_path / ANSWERS_FILE_NAME
    path.write_text("{not json")
    answers = KnownAnswers(path)
    assert answers.first_indexes() == {}
    answers.refuse_description("tasks")
    assert KnownAnswers(path).description_refused("tasks")


def test_contact_tickets_are_listed_with_the_department(requests_mock: Any) -> None:
    requests_mock.get(API + "/contacts/77/tickets", json={"data": [{"id": "5"}]})
    assert _client().list_contact_tickets("77", "300") == [{"id": "5"}]
    assert {tuple(r.qs["departmentid"]) for r in requests_mock.request_history} == {("300",)}


# Contacts and calls or tasks without a ticket: tests/test_reconcile_created_lists.py.


# ------------------------------------------------------------------ reconciliation
TAG = "[rs:ua-7]"


def test_a_lost_call_with_a_ticket_is_found_in_the_tickets_calls(requests_mock: Any) -> None:
    requests_mock.get(
        API + "/tickets/5/calls",
        json={"data": [{"id": "k0", "subject": "other"}, {"id": "k1", "subject": f"x {TAG}"}]},
    )
    found = Reconciler(_client(), "UA", "300").lost_create("call", TAG, "77", "5")
    assert found == {"id": "k1", "subject": f"x {TAG}"}
    assert all("/contacts/" not in r.path for r in requests_mock.request_history)


def test_a_lost_ticket_is_found_among_the_contacts_tickets_of_the_department(
    requests_mock: Any,
) -> None:
    requests_mock.get(API + "/contacts/77/tickets", json={"data": [{"id": "t1", "subject": TAG}]})
    found = Reconciler(_client(), "UA", "300").lost_create("ticket", TAG, "77", None)
    assert found == {"id": "t1", "subject": TAG}
    assert requests_mock.request_history[0].qs["departmentid"] == ["300"]


KEYS = ("subject", "status", "duration", "description", "startTime", "ownerId")
SENT = {
    "subject": f"Inbound call {TAG}",
    "status": "Completed",
    "duration": "42",
    "description": "From: ...",
    "startTime": "2026-12-01T10:00:00.000Z",
    "ownerId": "9",
}


def test_a_found_call_is_compared_only_on_what_its_list_returned() -> None:
    # GET /tickets/{id}/calls items: no duration, no description; time in another form.
    listed = {
        "id": "k1",
        "subject": f"Inbound call {TAG}",
        "status": "Completed",
        "startTime": "2026-12-01T10:00:00Z",
        "ownerId": 9,
    }
    assert stale_fields(listed, SENT, KEYS) == {}
    assert stale_fields({**listed, "status": "Missed"}, SENT, KEYS) == {"status": "Completed"}
    later = {**listed, "startTime": "2026-12-01T10:00:01.000Z"}
    assert stale_fields(later, SENT, KEYS) == {"startTime": SENT["startTime"]}
    assert stale_fields({**listed, "duration": "7"}, SENT, KEYS) == {"duration": "42"}
