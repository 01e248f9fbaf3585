"""The Zoho Desk side of the sandbox: each endpoint's happy path and Zoho's refusals."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_fixture import desk_session, sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

START = "2024-03-01T10:00:00.000Z"


@pytest.fixture
def desk(sandbox: Sandbox) -> requests.Session:
    return desk_session(sandbox)


def _url(sb: Sandbox, path: str) -> str:
    return f"{sb.url}/api/v1{path}"


def _contact(sb: Sandbox, desk: requests.Session, **extra: Any) -> dict[str, Any]:
    body = {"lastName": "+380501234567", "phone": "+380501234567"} | extra
    answer = desk.post(_url(sb, "/contacts"), json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _call_body(sb: Sandbox, contact_id: str, **extra: Any) -> dict[str, Any]:
    return {"subject": "[rs:ua-1] Inbound call", "contactId": contact_id,
            "departmentId": sb.department_id, "direction": "inbound", "duration": "42",
            "startTime": START, "status": "Completed"} | extra  # fmt: skip


def _errors(answer: requests.Response) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["errorCode"] == "INVALID_DATA"
    return [(e["fieldName"], e["errorType"]) for e in body["errors"]]


# ---- organizations, agents, departments ------------------------------------------------


def test_organizations_and_accessible_organizations_list_the_seeded_org(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    for path in ("/organizations", "/accessibleOrganizations"):
        answer = requests.get(_url(sandbox, path), headers={
            "Authorization": desk.headers["Authorization"]}, timeout=5)  # fmt: skip
        assert [o["id"] for o in answer.json()["data"]] == [sandbox.org_id]


def test_agents_list_has_at_least_five_with_one_disabled(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    agents = desk.get(_url(sandbox, "/agents"), params={"limit": 50}, timeout=5).json()["data"]
    assert len(agents) >= 5
    assert [a["status"] for a in agents].count("DISABLED") == 1
    active = desk.get(_url(sandbox, "/agents"), params={"status": "ACTIVE", "limit": 50},
                      timeout=5).json()["data"]  # fmt: skip
    assert all(a["status"] == "ACTIVE" for a in active) and len(active) == len(agents) - 1
    one = desk.get(_url(sandbox, f"/agents/{agents[0]['id']}"), timeout=5).json()
    assert one["emailId"] == agents[0]["emailId"]


def test_agents_limit_above_200_is_refused(sandbox: Sandbox, desk: requests.Session) -> None:
    answer = desk.get(_url(sandbox, "/agents"), params={"limit": 201}, timeout=5)
    assert answer.status_code == 422
    assert answer.json()["errorCode"] == "UNPROCESSABLE_ENTITY"


def test_departments_list_two_with_the_default_first(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    deps = desk.get(_url(sandbox, "/departments"), timeout=5).json()["data"]
    assert len(deps) == 2 and deps[0]["id"] == sandbox.department_id and deps[0]["isDefault"]


def test_paging_from_is_one_based_and_zero_reads_like_one(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    def ids(start: int) -> list[str]:
        data = desk.get(_url(sandbox, "/agents"), params={"from": start, "limit": 2},
                        timeout=5).json()["data"]  # fmt: skip
        return [a["id"] for a in data]

    assert ids(1) == ids(0)
    assert ids(2)[0] == ids(1)[1]
    assert desk.get(_url(sandbox, "/agents"), params={"from": 99}, timeout=5).status_code == 204


# ---- fields -----------------------------------------------------------------------------


def test_field_lists_show_the_standard_fields_with_types(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    for module, expected in (("tickets", {"subject": "Text", "email": "Email", "phone": "Phone",
                                          "status": "Picklist"}),
                             ("contacts", {"mobile": "Phone", "lastName": "Text"})):  # fmt: skip
        data = desk.get(_url(sandbox, "/fields"), params={"module": module}, timeout=5).json()
        types = {f["apiName"]: f["type"] for f in data["data"]}
        assert expected.items() <= types.items()
        assert not any(f["isCustomField"] for f in data["data"])


def test_text_field_creation_generates_cf_api_name_and_refuses_duplicate_label(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    body = {"displayLabel": "Ringostat Call ID", "type": "Text", "maxLength": "255"}
    answer = desk.post(_url(sandbox, "/fields"), params={"module": "tickets"}, json=body,
                       timeout=5)  # fmt: skip
    assert answer.status_code == 201
    assert answer.json()["apiName"] == "cf_ringostat_call_id"
    assert answer.json()["isCustomField"] is True and answer.json()["maxLength"] == 255
    again = desk.post(_url(sandbox, "/fields"), params={"module": "tickets"},
                      json=body | {"displayLabel": "ringostat call id"}, timeout=5)  # fmt: skip
    assert _errors(again) == [("/displayLabel", "duplicate")]
    assert [f["apiName"] for f in sandbox.records("fields:tickets") if f["isCustomField"]] == [
        "cf_ringostat_call_id"
    ]


def test_organization_fields_twin_creates_and_lists_the_same_fields(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    body = {"displayLabel": "UTM Source", "type": "Text", "maxLength": 100}
    answer = desk.post(_url(sandbox, "/organizationFields"), params={"module": "contacts"},
                       json=body, timeout=5)  # fmt: skip
    assert answer.status_code == 201 and answer.json()["apiName"] == "cf_utm_source"
    listed = desk.get(_url(sandbox, "/fields"), params={"module": "contacts"}, timeout=5).json()
    assert "cf_utm_source" in {f["apiName"] for f in listed["data"]}


@pytest.mark.parametrize("ftype", ["Picklist", "Email", "Phone", "URL"])
def test_typed_custom_fields_are_created_with_their_type(
    sandbox: Sandbox, desk: requests.Session, ftype: str
) -> None:
    body: dict[str, Any] = {"displayLabel": f"Extra {ftype}", "type": ftype}
    if ftype == "Phone":
        body["maxLength"] = 30
    answer = desk.post(_url(sandbox, "/fields"), params={"module": "tickets"}, json=body,
                       timeout=5)  # fmt: skip
    assert answer.status_code == 201 and answer.json()["type"] == ftype


def test_fields_need_a_known_module(sandbox: Sandbox, desk: requests.Session) -> None:
    answer = desk.get(_url(sandbox, "/fields"), params={"module": "nope"}, timeout=5)
    assert answer.status_code == 422


# ---- contacts ---------------------------------------------------------------------------


def test_contact_create_get_patch(sandbox: Sandbox, desk: requests.Session) -> None:
    created = _contact(sandbox, desk, mobile="+380 67 000 1122")
    got = desk.get(_url(sandbox, f"/contacts/{created['id']}"), timeout=5).json()
    assert got["phone"] == "+380501234567" and isinstance(got["id"], str)
    patched = desk.patch(_url(sandbox, f"/contacts/{created['id']}"),
                         json={"firstName": "Ivan"}, timeout=5).json()  # fmt: skip
    assert patched["firstName"] == "Ivan" and patched["lastName"] == "+380501234567"


def test_contact_without_last_name_is_refused(sandbox: Sandbox, desk: requests.Session) -> None:
    answer = desk.post(_url(sandbox, "/contacts"), json={"phone": "123"}, timeout=5)
    assert _errors(answer) == [("/lastName", "missing")]


def test_contact_search_by_phone_matches_numbers_containing_the_digits(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    exact = _contact(sandbox, desk)
    _contact(sandbox, desk, lastName="Other", phone="+44 20 7946 0000")
    # A different number that merely contains the digits is found too: callers must verify.
    longer = _contact(sandbox, desk, lastName="Longer", phone="+3805012345670")
    found = desk.get(_url(sandbox, "/contacts/search"), params={"phone": "*501234567*"},
                     timeout=5).json()  # fmt: skip
    assert {c["id"] for c in found["data"]} == {exact["id"], longer["id"]}
    assert found["count"] == 2


def test_contact_search_by_mobile_and_all(sandbox: Sandbox, desk: requests.Session) -> None:
    created = _contact(sandbox, desk, mobile="067 000 11 22")
    by_mobile = desk.get(_url(sandbox, "/contacts/search"), params={"mobile": "0670001122"},
                         timeout=5).json()  # fmt: skip
    assert [c["id"] for c in by_mobile["data"]] == [created["id"]]
    by_all = desk.get(_url(sandbox, "/contacts/search"), params={"_all": "0001122"}, timeout=5)
    assert [c["id"] for c in by_all.json()["data"]] == [created["id"]]
    short = desk.get(_url(sandbox, "/contacts/search"), params={"_all": "12"}, timeout=5)
    assert short.status_code == 422


def test_empty_search_and_empty_list_answer_204_with_no_body(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    for path, params in (("/contacts/search", {"phone": "999"}), ("/calls", {}),
                         ("/tickets/search", {"subject": "nothing"})):  # fmt: skip
        answer = desk.get(_url(sandbox, path), params=params, timeout=5)
        assert answer.status_code == 204 and answer.content == b""


def test_search_lags_behind_writes_when_configured(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    sandbox.set_limits(search_lag_seconds=60)
    created = _contact(sandbox, desk)
    params = {"phone": "501234567"}
    assert desk.get(_url(sandbox, "/contacts/search"), params=params, timeout=5).status_code == 204
    assert desk.get(_url(sandbox, f"/contacts/{created['id']}"), timeout=5).status_code == 200
    sandbox.advance_time(61)
    assert desk.get(_url(sandbox, "/contacts/search"), params=params, timeout=5).status_code == 200


# ---- tickets ----------------------------------------------------------------------------


def test_ticket_create_get_list_patch_and_by_contact(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    contact = _contact(sandbox, desk)
    body = {"subject": "[rs:ua-1] Missed call", "departmentId": sandbox.department_id,
            "contactId": contact["id"], "channel": "Phone"}  # fmt: skip
    ticket = desk.post(_url(sandbox, "/tickets"), json=body, timeout=5).json()
    assert ticket["ticketNumber"] == "101" and ticket["status"] == "Open"
    assert ticket["phone"] == contact["phone"]
    assert (
        desk.get(_url(sandbox, f"/tickets/{ticket['id']}"), timeout=5).json()["id"] == ticket["id"]
    )
    listed = desk.get(_url(sandbox, "/tickets"), timeout=5).json()["data"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    patched = desk.patch(_url(sandbox, f"/tickets/{ticket['id']}"), json={"status": "Closed"},
                         timeout=5).json()  # fmt: skip
    assert patched["statusType"] == "Closed"
    by_contact = desk.get(_url(sandbox, f"/contacts/{contact['id']}/tickets"), timeout=5).json()
    assert [t["id"] for t in by_contact["data"]] == [ticket["id"]]
    found = desk.get(_url(sandbox, "/tickets/search"), params={"subject": "*rs:ua-1*"},
                     timeout=5).json()  # fmt: skip
    assert [t["id"] for t in found["data"]] == [ticket["id"]]


def test_ticket_inline_contact_deduplicates_by_email_only(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    base = {"subject": "s", "departmentId": sandbox.department_id}
    for _ in range(2):
        desk.post(_url(sandbox, "/tickets"), json=base | {"contact": {
            "lastName": "+380501234567", "phone": "+380501234567"}}, timeout=5)  # fmt: skip
        desk.post(_url(sandbox, "/tickets"), json=base | {"contact": {
            "lastName": "Mail", "email": "a@example.com"}}, timeout=5)  # fmt: skip
    assert len(sandbox.records("contacts")) == 3
    assert len(sandbox.records("tickets")) == 4


def test_ticket_without_contact_or_department_is_refused(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    answer = desk.post(_url(sandbox, "/tickets"), json={"subject": "s"}, timeout=5)
    assert ("/departmentId", "missing") in _errors(answer)
    answer = desk.post(
        _url(sandbox, "/tickets"),
        json={"subject": "s", "departmentId": sandbox.department_id},
        timeout=5,
    )
    assert _errors(answer) == [("/contactId", "missing")]


# ---- calls ------------------------------------------------------------------------------


def test_call_create_list_get_patch_by_ticket_and_contact_and_search(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    contact = _contact(sandbox, desk)
    ticket = desk.post(_url(sandbox, "/tickets"), json={
        "subject": "t", "departmentId": sandbox.department_id, "contactId": contact["id"]},
        timeout=5).json()  # fmt: skip
    call = desk.post(_url(sandbox, "/calls"), json=_call_body(
        sandbox, contact["id"], ticketId=ticket["id"], duration=42), timeout=5)  # fmt: skip
    assert call.status_code == 200
    call_id = call.json()["id"]
    assert call.json()["duration"] == "42" and call.json()["startTime"] == START
    assert [c["id"] for c in desk.get(_url(sandbox, "/calls"), timeout=5).json()["data"]] == [
        call_id
    ]
    assert desk.get(_url(sandbox, f"/calls/{call_id}"), timeout=5).json()["status"] == "Completed"
    for path in (f"/tickets/{ticket['id']}/calls", f"/contacts/{contact['id']}/calls"):
        assert [c["id"] for c in desk.get(_url(sandbox, path), timeout=5).json()["data"]] == [
            call_id
        ]
    patched = desk.patch(_url(sandbox, f"/calls/{call_id}"), json={"duration": "60"}, timeout=5)
    assert patched.json()["duration"] == "60"
    found = desk.get(_url(sandbox, "/calls/search"), params={"subject": "rs:ua-1"}, timeout=5)
    assert [c["id"] for c in found.json()["data"]] == [call_id]


def test_call_missing_required_field_is_refused(sandbox: Sandbox, desk: requests.Session) -> None:
    body = _call_body(sandbox, _contact(sandbox, desk)["id"])
    del body["direction"]
    assert _errors(desk.post(_url(sandbox, "/calls"), json=body, timeout=5)) == [
        ("/direction", "missing")
    ]


@pytest.mark.parametrize("when", ["2024-03-01T10:00:00.000", "2024-03-01 10:00:00Z",
                                  "2024-03-01T10:00:00+02:00", "1709287200000"])  # fmt: skip
def test_call_time_without_z_is_refused(
    sandbox: Sandbox, desk: requests.Session, when: str
) -> None:
    body = _call_body(sandbox, _contact(sandbox, desk)["id"], startTime=when)
    assert _errors(desk.post(_url(sandbox, "/calls"), json=body, timeout=5)) == [
        ("/startTime", "invalid")
    ]


def test_unknown_cf_key_is_refused_and_known_one_is_stored(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    contact_id = _contact(sandbox, desk)["id"]
    unknown = _call_body(sandbox, contact_id, cf={"cf_ringostat_id": "ua-1"})
    assert _errors(desk.post(_url(sandbox, "/calls"), json=unknown, timeout=5)) == [
        ("/cf/cf_ringostat_id", "invalid")
    ]
    desk.post(
        _url(sandbox, "/fields"),
        params={"module": "calls"},
        json={"displayLabel": "Ringostat ID", "type": "Text", "maxLength": 5},
        timeout=5,
    )
    stored = desk.post(_url(sandbox, "/calls"), json=unknown, timeout=5).json()
    assert stored["cf"] == {"cf_ringostat_id": "ua-1"}
    too_long = _call_body(sandbox, contact_id, cf={"cf_ringostat_id": "ua-123"})
    assert _errors(desk.post(_url(sandbox, "/calls"), json=too_long, timeout=5)) == [
        ("/cf/cf_ringostat_id", "invalid")
    ]


def test_unknown_ids_and_a_disabled_owner_are_refused(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    disabled = next(a for a in sandbox.records("agents") if a["status"] == "DISABLED")
    body = _call_body(sandbox, "123", departmentId="456", ownerId=disabled["id"])
    assert set(_errors(desk.post(_url(sandbox, "/calls"), json=body, timeout=5))) == {
        ("/contactId", "invalid"), ("/departmentId", "invalid"), ("/ownerId", "invalid")
    }  # fmt: skip


# ---- tasks ------------------------------------------------------------------------------


def test_task_create_defaults_to_open_and_lists_by_ticket_and_search(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    contact = _contact(sandbox, desk)
    ticket = desk.post(_url(sandbox, "/tickets"), json={
        "subject": "t", "departmentId": sandbox.department_id, "contactId": contact["id"]},
        timeout=5).json()  # fmt: skip
    owner = sandbox.records("agents")[0]["id"]
    body = {
        "subject": "[rs:ua-2] Call back",
        "departmentId": sandbox.department_id,
        "ticketId": ticket["id"],
        "ownerId": owner,
        "dueDate": "2024-03-01T14:00:00.000Z",
    }
    task = desk.post(_url(sandbox, "/tasks"), json=body, timeout=5).json()
    assert task["statusType"] == "Open" and task["ownerId"] == owner
    assert [t["id"] for t in desk.get(_url(sandbox, "/tasks"), timeout=5).json()["data"]] == [
        task["id"]
    ]
    by_ticket = desk.get(_url(sandbox, f"/tickets/{ticket['id']}/tasks"), timeout=5).json()
    assert [t["id"] for t in by_ticket["data"]] == [task["id"]]
    found = desk.get(_url(sandbox, "/tasks/search"), params={"subject": "rs:ua-2"}, timeout=5)
    assert found.json()["data"][0]["id"] == task["id"]
    patched = desk.patch(_url(sandbox, f"/tasks/{task['id']}"), json={"status": "Completed"},
                         timeout=5).json()  # fmt: skip
    assert patched["statusType"] == "Closed"


def test_task_without_subject_is_refused(sandbox: Sandbox, desk: requests.Session) -> None:
    answer = desk.post(_url(sandbox, "/tasks"), json={"departmentId": sandbox.department_id},
                       timeout=5)  # fmt: skip
    assert _errors(answer) == [("/subject", "missing")]


# ---- auth, org, scope -------------------------------------------------------------------


def test_missing_token_is_unauthorized(sandbox: Sandbox) -> None:
    answer = requests.get(_url(sandbox, "/agents"), headers={"orgId": sandbox.org_id}, timeout=5)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "UNAUTHORIZED"


def test_wrong_org_id_is_refused_as_header_and_as_query(
    sandbox: Sandbox, desk: requests.Session
) -> None:
    answer = desk.get(_url(sandbox, "/agents"), headers={"orgId": "1"}, timeout=5)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "OAUTH_ORG_MISMATCH"
    del desk.headers["orgId"]
    missing = desk.get(_url(sandbox, "/agents"), timeout=5)
    assert missing.status_code == 422
    by_query = desk.get(_url(sandbox, "/agents"), params={"orgId": sandbox.org_id}, timeout=5)
    assert by_query.status_code == 200
    wrong_query = desk.get(_url(sandbox, "/agents"), params={"orgId": "2"}, timeout=5)
    assert wrong_query.json()["errorCode"] == "OAUTH_ORG_MISMATCH"


def test_missing_scope_is_refused_with_scope_mismatch(sandbox: Sandbox) -> None:
    reader = desk_session(sandbox, "Desk.basic.READ,Desk.contacts.READ")
    answer = reader.post(_url(sandbox, "/calls"), json={}, timeout=5)
    assert answer.status_code == 401 and answer.json()["errorCode"] == "SCOPE_MISMATCH"
    # Contact search needs Desk.search.READ besides Desk.contacts.READ (§1.7).
    search = reader.get(_url(sandbox, "/contacts/search"), params={"phone": "1"}, timeout=5)
    assert search.json()["errorCode"] == "SCOPE_MISMATCH"
    assert reader.get(_url(sandbox, "/agents"), timeout=5).status_code in (200, 204)


def test_all_scope_covers_every_operation(sandbox: Sandbox) -> None:
    session = desk_session(sandbox, "Desk.contacts.ALL")
    body = {"lastName": "A"}
    assert session.post(_url(sandbox, "/contacts"), json=body, timeout=5).status_code == 200
    assert session.get(_url(sandbox, "/contacts"), timeout=5).status_code == 200


def test_api_domain_from_the_token_answer_is_not_a_desk_host(sandbox: Sandbox) -> None:
    from sandbox_fixture import exchange_code

    answer = exchange_code(sandbox, sandbox.mint_grant_code())
    wrong = requests.get(f"{answer['api_domain']}/api/v1/agents", timeout=5)
    assert wrong.status_code == 404


def test_unknown_url_and_wrong_method(sandbox: Sandbox, desk: requests.Session) -> None:
    assert desk.get(_url(sandbox, "/nothing"), timeout=5).json()["errorCode"] == "URL_NOT_FOUND"
    assert desk.delete(_url(sandbox, "/calls"), timeout=5).status_code == 405


def test_invalid_json_and_empty_payload(sandbox: Sandbox, desk: requests.Session) -> None:
    bad = desk.post(_url(sandbox, "/contacts"), data=b"{nope",
                    headers={"Content-Type": "application/json"}, timeout=5)  # fmt: skip
    assert bad.status_code == 400
    empty = desk.post(_url(sandbox, "/contacts"), headers={"Content-Type": "application/json"},
                      timeout=5)  # fmt: skip
    assert empty.json()["errorCode"] == "EMPTY_PAYLOAD"


def test_lists_sort_by_created_time_descending_with_the_dash_prefix(
    sandbox: Sandbox,
) -> None:
    session = desk_session(sandbox)
    made = []
    for i in range(3):
        answer = session.post(
            f"{sandbox.url}/api/v1/contacts", json={"lastName": f"Sorted {i}"}, timeout=5
        )
        made.append(answer.json()["id"])
    newest = session.get(
        f"{sandbox.url}/api/v1/contacts", params={"sortBy": "-createdTime", "limit": 2}, timeout=5
    ).json()["data"]
    assert [c["id"] for c in newest] == [made[2], made[1]]
    oldest = session.get(
        f"{sandbox.url}/api/v1/contacts", params={"sortBy": "createdTime", "limit": 1}, timeout=5
    ).json()["data"]
    assert oldest[0]["id"] == made[0]
    refused = session.get(f"{sandbox.url}/api/v1/contacts", params={"sortBy": "dueDate"}, timeout=5)
    assert refused.status_code == 422
