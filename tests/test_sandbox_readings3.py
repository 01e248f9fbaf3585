"""The sandbox's readings of round 3 (docs/zoho-readings.md): ``list_sort`` (the OAS enums
of ``sortBy`` on every module list, no ``-`` form; a record's own lists document ``-``),
``count_view`` (``viewId`` on ``/contacts/count``), the views list that gives its id, and
``webUrl`` with an opaque token after ``dv/`` as Zoho's examples show."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_fixture import desk_session

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.config import LENIENT, STRICT, parse_reading


def _start(readings: Any) -> Sandbox:
    return start_sandbox(SandboxConfig(port=0, token_requests_per_10min=10_000, readings=readings))


@pytest.fixture
def strict() -> Iterator[Sandbox]:
    sb = _start("strict")
    yield sb
    sb.stop()


@pytest.fixture
def lenient() -> Iterator[Sandbox]:
    sb = _start("lenient")
    yield sb
    sb.stop()


def _get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return desk_session(sb).get(f"{sb.url}/api/v1{path}", params=params, timeout=5)


def _post(sb: Sandbox, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = desk_session(sb).post(f"{sb.url}/api/v1{path}", json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def _records(sb: Sandbox) -> tuple[str, str]:
    """A contact with a ticket, a call and a task on that ticket; the ticket's id."""
    contact = _post(sb, "/contacts", {"lastName": "Ivanenko", "phone": "+380671112233"})
    ticket = _post(sb, "/tickets", {"subject": "s", "contactId": contact["id"],
                                    "departmentId": sb.department_id})  # fmt: skip
    call = {"direction": "inbound", "status": "Completed",
            "startTime": "2026-01-01T10:00:00.000Z", "duration": "60"}  # fmt: skip
    for path, extra in (("/calls", call), ("/tasks", {})):
        body = {"subject": "x", "departmentId": sb.department_id, "ticketId": ticket["id"],
                "contactId": contact["id"], **extra}  # fmt: skip
        _post(sb, path, body)
    return contact["id"], ticket["id"]


def test_the_presets_and_the_new_settings() -> None:
    assert (STRICT["list_sort"], LENIENT["list_sort"]) == ("oas", "free")
    assert (STRICT["count_view"], LENIENT["count_view"]) == ("required", "optional")
    assert (STRICT["scopes"], LENIENT["scopes"]) == ("documented", "any")
    assert parse_reading("list_sort=free") == ("list_sort", "free")
    with pytest.raises(ValueError, match="oas"):
        parse_reading("list_sort=desc")


# Per module list: a name in its OAS enum, a name outside it (Call.json getCalls lists
# startTime and createdTime only; Ticket.json getTickets dueDate, createdTime, recentThread).
MODULE_LISTS = [
    ("/contacts", "createdTime", "dueDate"),
    ("/calls", "createdTime", "modifiedTime"),
    ("/tasks", "createdTime", "startTime"),
    ("/tickets", "createdTime", "modifiedTime"),
]


@pytest.mark.parametrize(("path", "enum", "outside"), MODULE_LISTS)
def test_strict_refuses_a_descending_or_unlisted_sort_on_every_module_list(
    strict: Sandbox, path: str, enum: str, outside: str
) -> None:
    _records(strict)
    dep = {} if path == "/contacts" else {"departmentId": strict.department_id}
    assert _get(strict, path, sortBy=enum, **dep).status_code == 200
    for refused in (f"-{enum}", outside, f"-{outside}"):
        answer = _get(strict, path, sortBy=refused, **dep)
        assert answer.status_code == 422, (path, refused)
        assert answer.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
        assert "'sortBy'" in answer.json()["message"]


@pytest.mark.parametrize(("path", "enum", "outside"), MODULE_LISTS)
def test_lenient_accepts_descending_sorts_on_every_module_list(
    lenient: Sandbox, path: str, enum: str, outside: str
) -> None:
    _records(lenient)
    dep = {} if path == "/contacts" else {"departmentId": lenient.department_id}
    answer = _get(lenient, path, sortBy=f"-{enum}", **dep)
    assert answer.status_code == 200, answer.text


def test_a_records_own_lists_take_the_documented_descending_form_when_strict(
    strict: Sandbox,
) -> None:
    contact_id, ticket_id = _records(strict)
    dep = strict.department_id
    assert _get(strict, f"/tickets/{ticket_id}/calls", sortBy="-startTime").status_code == 200
    assert _get(strict, f"/tickets/{ticket_id}/tasks", sortBy="-dueDate").status_code == 200
    own = _get(strict, f"/contacts/{contact_id}/tickets", sortBy="-modifiedTime", departmentId=dep)
    assert own.status_code == 200
    refused = _get(strict, f"/tickets/{ticket_id}/tasks", sortBy="-modifiedTime")
    assert refused.status_code == 422  # not in getTasksByTicket's enum


def test_contacts_count_needs_the_view_id_the_views_list_gives_when_strict(
    strict: Sandbox, lenient: Sandbox
) -> None:
    for sb in (strict, lenient):
        _records(sb)
    views = _get(strict, "/views", module="contacts").json()["data"]
    (view,) = views
    assert (view["name"], view["isCustomView"]) == ("All Contacts", False)
    assert _get(strict, "/views").status_code == 422  # `module` is required
    refused = _get(strict, "/contacts/count")
    assert refused.status_code == 422 and "'viewId'" in refused.json()["message"]
    assert _get(strict, "/contacts/count", viewId=view["id"]).json() == {"count": "1"}
    assert _get(strict, "/contacts/count", viewId="123").status_code == 422  # no such view
    assert _get(lenient, "/contacts/count").json() == {"count": "1"}


def test_every_create_answers_a_web_url_with_an_opaque_token(strict: Sandbox) -> None:
    contact_id, ticket_id = _records(strict)
    made = {
        "Contacts": _get(strict, f"/contacts/{contact_id}").json(),
        "Cases": _get(strict, f"/tickets/{ticket_id}").json(),
        "Calls": strict.records("calls")[0],
        "Tasks": strict.records("tasks")[0],
    }
    for module, record in made.items():
        prefix = f"https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do#{module}/dv/"
        assert record["webUrl"].startswith(prefix), record["webUrl"]
        token = record["webUrl"].removeprefix(prefix)
        assert len(token) == 48 and token != record["id"] and record["id"] not in token
