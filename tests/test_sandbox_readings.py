"""The readings of Zoho its documentation leaves open: each sandbox setting under both of its
values, the presets, the admin API for them, and the people-typed seed data."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_fixture import desk_session, people_sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.config import (
    LENIENT,
    READINGS,
    STRICT,
    parse_reading,
    resolve_readings,
)
from ringodesk_cli.sandbox.seed import PEOPLE

START = "2024-03-01T10:00:00.000Z"


def _start(readings: Any = "strict", **extra: Any) -> Sandbox:
    return start_sandbox(
        SandboxConfig(port=0, token_requests_per_10min=10_000, readings=readings, **extra)
    )


@pytest.fixture
def strict() -> Iterator[Sandbox]:
    sb = _start("strict", seed_people=True, seed_custom_fields=True)
    yield sb
    sb.stop()


@pytest.fixture
def lenient() -> Iterator[Sandbox]:
    sb = _start("lenient", seed_people=True, seed_custom_fields=True)
    yield sb
    sb.stop()


def _get(sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return desk_session(sb).get(f"{sb.url}/api/v1{path}", params=params, timeout=5)


def _send(sb: Sandbox, method: str, path: str, body: dict[str, Any]) -> requests.Response:
    return desk_session(sb).request(method, f"{sb.url}/api/v1{path}", json=body, timeout=5)


def _names(answer: requests.Response) -> list[str]:
    if answer.status_code == 204:
        return []
    assert answer.status_code == 200, answer.text
    return sorted(str(c["lastName"]) for c in answer.json()["data"])


def _invalid_fields(answer: requests.Response) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.json()["errorCode"] == "INVALID_DATA"
    return [e["fieldName"] for e in answer.json()["errors"]]


def _contact_id(sb: Sandbox, last_name: str) -> str:
    return next(str(c["id"]) for c in sb.records("contacts") if c["lastName"] == last_name)


def _call(sb: Sandbox, contact_id: str, **extra: Any) -> dict[str, Any]:
    return {"subject": "[rs:ua-1] Inbound call", "contactId": contact_id,
            "departmentId": sb.department_id, "direction": "inbound", "duration": "42",
            "startTime": START, "status": "Completed"} | extra  # fmt: skip


# ---- the settings themselves ----------------------------------------------------------------


def test_presets_take_the_first_value_as_strict_and_the_second_as_lenient() -> None:
    assert set(STRICT) == set(LENIENT) == set(READINGS)
    assert STRICT["search"] == "exact" and LENIENT["search"] == "digits"
    assert all(STRICT[n] != LENIENT[n] for n in READINGS)


def test_sandbox_config_defaults_to_the_strict_readings_and_no_seeded_people() -> None:
    sb = start_sandbox(SandboxConfig(port=0))
    try:
        assert sb.readings == STRICT
        assert sb.records("contacts") == []
    finally:
        sb.stop()


def test_a_partial_mapping_is_laid_over_the_strict_preset() -> None:
    assert resolve_readings({"search": "digits"}) == STRICT | {"search": "digits"}
    assert resolve_readings({"search": "exact"}, preset="lenient") == LENIENT | {"search": "exact"}
    assert resolve_readings("lenient") == LENIENT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("searchh=exact", "unknown reading 'searchh'"),
        ("search=fuzzy", "reading search takes exact|digits, not 'fuzzy'"),
        ("search", "expected NAME=VALUE"),
    ],
)
def test_unknown_names_and_values_are_refused_with_what_is_accepted(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_reading(text)
    with pytest.raises(ValueError, match="unknown readings preset"):
        resolve_readings(preset="loose")
    with pytest.raises(ValueError, match="unknown readings preset"):
        _start("loose")


def test_parse_reading_accepts_every_known_value() -> None:
    for name, values in READINGS.items():
        for value in values:
            assert parse_reading(f"{name}={value}") == (name, value)


# ---- search -----------------------------------------------------------------------------


def test_strict_search_matches_the_whole_typed_number_only(strict: Sandbox) -> None:
    assert _names(_get(strict, "/contacts/search", phone="+380 (44) 222-33-44")) == ["Hnatiuk"]
    # No digit normalisation: the digits, the E.164 form or a part do not find it.
    for value in ("442223344", "+380442223344", "222-33-44"):
        assert _names(_get(strict, "/contacts/search", phone=value)) == [], value
    assert _names(_get(strict, "/contacts/search", mobile="067-111-22-33")) == ["Savchenko"]
    assert _names(_get(strict, "/contacts/search", mobile="0671112233")) == []
    assert _names(_get(strict, "/contacts/search", _all="0507778899")) == []


def test_strict_search_honours_wildcards_and_ignores_case(strict: Sandbox) -> None:
    assert _names(_get(strict, "/contacts/search", phone="*222-33-44")) == ["Hnatiuk"]
    assert _names(_get(strict, "/contacts/search", phone="+380 (44)*")) == ["Hnatiuk"]
    assert _names(_get(strict, "/contacts/search", phone="*777 88*")) == ["Moroz"]
    assert _names(_get(strict, "/contacts/search", lastName="hnatiuk")) == ["Hnatiuk"]
    assert _names(_get(strict, "/contacts/search", lastName="Hnat")) == []
    assert _names(_get(strict, "/contacts/search", lastName="Hnat*")) == ["Hnatiuk"]
    assert _names(_get(strict, "/contacts/search", _all="*lvivcoffee*")) == ["Coffee"]


def test_lenient_search_finds_digits_inside_formatted_numbers(lenient: Sandbox) -> None:
    assert _names(_get(lenient, "/contacts/search", phone="442223344")) == ["Hnatiuk"]
    assert _names(_get(lenient, "/contacts/search", mobile="0671112233")) == ["Savchenko"]
    assert _names(_get(lenient, "/contacts/search", _all="507778899")) == ["Moroz"]
    assert _names(_get(lenient, "/contacts/search", lastName="Hnat")) == ["Hnatiuk"]


def test_subject_search_is_exact_when_strict_and_contains_when_lenient(
    strict: Sandbox, lenient: Sandbox
) -> None:
    for sb in (strict, lenient):
        assert _send(sb, "POST", "/tickets", {"subject": "[rs:ua-7] Missed call",
                     "departmentId": sb.department_id,
                     "contactId": _contact_id(sb, "Moroz")}).status_code == 200  # fmt: skip
    assert _get(strict, "/tickets/search", subject="[rs:ua-7]").status_code == 204
    assert _get(strict, "/tickets/search", subject="*[rs:ua-7]*").json()["count"] == 1
    assert _get(strict, "/tickets/search", subject="[rs:ua-7] missed call").json()["count"] == 1
    assert _get(lenient, "/tickets/search", subject="[rs:ua-7]").json()["count"] == 1


# ---- sortBy -------------------------------------------------------------------------------


def test_descending_contact_sort_is_refused_when_strict(strict: Sandbox, lenient: Sandbox) -> None:
    for key in ("-modifiedTime", "-createdTime"):
        answer = _get(strict, "/contacts", sortBy=key)
        assert answer.status_code == 422
        assert answer.json()["errorCode"] == "UNPROCESSABLE_ENTITY"
        assert "sortBy" in answer.json()["message"]
    ascending = [c["createdTime"] for c in _get(strict, "/contacts", sortBy="createdTime",
                                                 limit=99).json()["data"]]  # fmt: skip
    assert ascending == sorted(ascending) and len(ascending) == len(PEOPLE)
    descending = [c["createdTime"] for c in _get(lenient, "/contacts", sortBy="-createdTime",
                                                  limit=99).json()["data"]]  # fmt: skip
    assert descending == sorted(ascending, reverse=True)


# Every module list, and a record's own lists: tests/test_sandbox_readings3.py.


# ---- cf values ----------------------------------------------------------------------------

LANDING = "https://shop.example/landing?utm_source=ads&utm_medium=cpc"


def test_strict_cf_values_follow_the_oas_rules(strict: Sandbox) -> None:
    base = {"lastName": "Cf", "phone": "+380501112233"}
    refused = _send(strict, "POST", "/contacts", base | {"cf": {"cf_landing_page": LANDING}})
    assert _invalid_fields(refused) == ["/cf/cf_landing_page"]
    too_long = _send(strict, "POST", "/contacts", base | {"cf": {"cf_landing_page": "a" * 101}})
    assert _invalid_fields(too_long) == ["/cf/cf_landing_page"]
    for bad in "=&%+#();":
        answer = _send(strict, "POST", "/contacts", base | {"cf": {"cf_landing_page": f"a{bad}b"}})
        assert answer.status_code == 422, bad
    fine = _send(strict, "POST", "/contacts", base | {"cf": {"cf_landing_page": "a" * 100}})
    assert fine.status_code == 200
    patched = _send(strict, "PATCH", f"/contacts/{fine.json()['id']}",
                    {"cf": {"cf_landing_page": LANDING}})  # fmt: skip
    assert _invalid_fields(patched) == ["/cf/cf_landing_page"]


def test_lenient_cf_values_take_query_strings(lenient: Sandbox) -> None:
    answer = _send(lenient, "POST", "/contacts",
                   {"lastName": "Cf", "cf": {"cf_landing_page": LANDING}})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["cf"]["cf_landing_page"] == LANDING
    assert answer.json()["customFields"]["Landing page"] == LANDING


# ---- description on calls and tasks ---------------------------------------------------------


def test_description_on_calls_and_tasks_is_refused_when_strict(strict: Sandbox) -> None:
    cid = _contact_id(strict, "Moroz")
    assert _invalid_fields(
        _send(strict, "POST", "/calls", _call(strict, cid, description="Recording: x"))
    ) == ["/description"]
    call = _send(strict, "POST", "/calls", _call(strict, cid))
    assert call.status_code == 200
    assert _invalid_fields(
        _send(strict, "PATCH", f"/calls/{call.json()['id']}", {"description": "x"})
    ) == ["/description"]
    task = {"subject": "Call back", "departmentId": strict.department_id, "contactId": cid}
    assert _invalid_fields(_send(strict, "POST", "/tasks", task | {"description": "x"})) == [
        "/description"
    ]
    created = _send(strict, "POST", "/tasks", task)
    assert created.status_code == 200, created.text
    assert _invalid_fields(
        _send(strict, "PATCH", f"/tasks/{created.json()['id']}", {"description": "x"})
    ) == ["/description"]


def test_description_on_calls_and_tasks_is_kept_when_lenient(lenient: Sandbox) -> None:
    cid = _contact_id(lenient, "Moroz")
    call = _send(lenient, "POST", "/calls", _call(lenient, cid, description="Recording: x"))
    assert call.status_code == 200 and call.json()["description"] == "Recording: x"
    task = {"subject": "Call back", "departmentId": lenient.department_id, "description": "y"}
    assert _send(lenient, "POST", "/tasks", task).json()["description"] == "y"


# ---- contact calls and departmentId -------------------------------------------------------


def test_contact_calls_are_absent_when_strict_and_listed_when_lenient(
    strict: Sandbox, lenient: Sandbox
) -> None:
    for sb in (strict, lenient):
        cid = _contact_id(sb, "Moroz")
        assert _send(sb, "POST", "/calls", _call(sb, cid)).status_code == 200
    answer = _get(strict, f"/contacts/{_contact_id(strict, 'Moroz')}/calls")
    assert answer.status_code == 404 and answer.json()["errorCode"] == "URL_NOT_FOUND"
    listed = _get(lenient, f"/contacts/{_contact_id(lenient, 'Moroz')}/calls")
    assert [c["subject"] for c in listed.json()["data"]] == ["[rs:ua-1] Inbound call"]


def test_department_is_required_on_tasks_and_contact_tickets_when_strict(
    strict: Sandbox, lenient: Sandbox
) -> None:
    for sb in (strict, lenient):
        cid = _contact_id(sb, "Moroz")
        _send(sb, "POST", "/tickets", {"subject": "s", "departmentId": sb.department_id,
                                       "contactId": cid})  # fmt: skip
    cid = _contact_id(strict, "Moroz")
    for path in ("/tasks", f"/contacts/{cid}/tickets"):
        answer = _get(strict, path)
        assert answer.status_code == 422, path
        assert "departmentId" in answer.json()["message"]
    tickets = _get(strict, f"/contacts/{cid}/tickets", departmentId=strict.department_id)
    assert [t["status"] for t in tickets.json()["data"]] == ["Open"]
    assert _get(strict, "/tasks", departmentId=strict.department_id).status_code == 204
    lenient_cid = _contact_id(lenient, "Moroz")
    assert len(_get(lenient, f"/contacts/{lenient_cid}/tickets").json()["data"]) == 1
    assert _get(lenient, "/tasks").status_code == 204


# ---- admin API --------------------------------------------------------------------------------


def test_admin_api_reads_and_changes_readings(strict: Sandbox) -> None:
    admin = f"{strict.url}/__sandbox__/readings"
    assert requests.get(admin, timeout=5).json() == STRICT
    changed = requests.post(admin, json={"search": "digits"}, timeout=5)
    assert changed.json() == STRICT | {"search": "digits"}
    assert _names(_get(strict, "/contacts/search", phone="442223344")) == ["Hnatiuk"]
    assert requests.post(admin, json={"preset": "lenient"}, timeout=5).json() == LENIENT
    assert strict.readings == LENIENT
    back = requests.post(admin, json={"preset": "strict", "contact_calls": "present"}, timeout=5)
    assert back.json() == STRICT | {"contact_calls": "present"}
    refused = requests.post(admin, json={"search": "fuzzy"}, timeout=5)
    assert refused.status_code == 400
    assert "search takes exact|digits" in refused.json()["message"]
    assert requests.post(admin, json={"nosuch": "x"}, timeout=5).status_code == 400
    assert strict.readings == STRICT | {"contact_calls": "present"}


def test_reset_restores_the_configured_readings(strict: Sandbox) -> None:
    strict.set_readings(preset="lenient")
    strict.reset()
    assert strict.readings == STRICT
    assert len(strict.records("contacts")) == len(PEOPLE)


def test_admin_api_adds_a_contact_typed_by_an_agent_subject_to_search_lag(strict: Sandbox) -> None:
    strict.set_limits(search_lag_seconds=120)
    answer = requests.post(f"{strict.url}/__sandbox__/contacts",
                           json={"firstName": "Ivan", "lastName": "Franko",
                                 "mobile": "+38 (068) 123 45 67"}, timeout=5)  # fmt: skip
    assert answer.status_code == 200
    created = answer.json()
    assert created["mobile"] == "+38 (068) 123 45 67"
    assert _get(strict, f"/contacts/{created['id']}").json()["lastName"] == "Franko"
    # Listed at once, but not searchable until the lag has passed.
    listed = _get(strict, "/contacts", sortBy="modifiedTime", limit=99).json()["data"]
    assert listed[-1]["id"] == created["id"]
    assert _get(strict, "/contacts/search", mobile="+38 (068) 123 45 67").status_code == 204
    strict.advance_time(121)
    assert _names(_get(strict, "/contacts/search", mobile="+38 (068) 123 45 67")) == ["Franko"]


# ---- seeded people, listing, count and merge -------------------------------------------------


def _national(number: str | None) -> str:
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    return digits[-9:] if len(digits) >= 9 else ""


def test_seeded_people_include_the_typed_formats_duplicates_and_a_switchboard(
    strict: Sandbox,
) -> None:
    contacts = strict.records("contacts")
    phones = {c["phone"] for c in contacts} | {c["mobile"] for c in contacts}
    assert {"+380 (44) 222-33-44", "067-111-22-33", "050 777 88 99"} <= phones
    mobile_only = [c for c in contacts if c["mobile"] == "067-111-22-33"]
    assert len(mobile_only) == 1 and mobile_only[0]["phone"] is None
    groups: dict[str, set[str]] = {}
    for c in contacts:
        for number in (c["phone"], c["mobile"]):
            if _national(number):
                groups.setdefault(_national(number), set()).add(c["id"])
    sizes = sorted(len(ids) for ids in groups.values() if len(ids) > 1)
    assert sizes == [2, 3, 6]  # two duplicate groups and a switchboard of six
    for c in contacts:
        assert c["modifiedTime"] == c["createdTime"]
        assert set(c["cf"]) == {"cf_landing_page", "cf_call_score"}


def test_seeded_custom_fields_sit_beside_the_standard_ones(strict: Sandbox) -> None:
    custom = {f["apiName"]: f["type"] for f in strict.records("fields:contacts")
              if f["isCustomField"]}  # fmt: skip
    assert custom == {"cf_landing_page": "Text", "cf_call_score": "Number"}


def test_contact_list_pages_by_99_and_counts(strict: Sandbox) -> None:
    assert _get(strict, "/contacts", limit=100).status_code == 422
    first = _get(strict, "/contacts", limit=10, sortBy="createdTime").json()["data"]
    second = _get(strict, "/contacts", limit=10, sortBy="createdTime", **{"from": 11})
    ids = [c["id"] for c in first + second.json()["data"]]
    assert len(ids) == len(set(ids)) == len(PEOPLE)
    view = strict.store.view_id("contacts")
    assert _get(strict, "/contacts/count", viewId=view).json() == {"count": str(len(PEOPLE))}
    assert _get(strict, "/contacts/count", viewId=view, startsWith="pav").json() == {"count": "3"}
    assert _get(strict, "/contacts/count", viewId="abc").status_code == 422


def test_modified_time_moves_on_update(strict: Sandbox) -> None:
    cid = _contact_id(strict, "Moroz")
    before = _get(strict, f"/contacts/{cid}").json()["modifiedTime"]
    strict.advance_time(60)
    after = _send(strict, "PATCH", f"/contacts/{cid}", {"email": "yulia@example.com"})
    assert after.json()["modifiedTime"] > before
    newest = _get(strict, "/contacts", sortBy="modifiedTime", limit=99).json()["data"][-1]
    assert newest["id"] == cid


def test_merge_folds_duplicates_into_the_survivor_and_moves_their_records(
    strict: Sandbox,
) -> None:
    group = [c for c in strict.records("contacts") if "Pavlenko" in c["lastName"]]
    survivor, *others = sorted(group, key=lambda c: c["createdTime"])
    ticket = _send(strict, "POST", "/tickets", {"subject": "s", "contactId": others[0]["id"],
                   "departmentId": strict.department_id}).json()  # fmt: skip
    call = _send(strict, "POST", "/calls", _call(strict, others[1]["id"])).json()
    body = {"ids": [survivor["id"]] + [o["id"] for o in others],
            "source": {"email": others[0]["id"], "mobile": others[1]["id"]}}  # fmt: skip
    merged = _send(strict, "POST", f"/contacts/{survivor['id']}/merge", body)
    assert merged.status_code == 200, merged.text
    kept = merged.json()
    assert kept["id"] == survivor["id"]
    assert kept["phone"] == survivor["phone"]
    assert kept["email"] == "viktor@pavlenko.example"
    assert kept["mobile"] == "380634445566"
    for other in others:
        assert _get(strict, f"/contacts/{other['id']}").status_code == 404
    assert _get(strict, f"/tickets/{ticket['id']}").json()["contactId"] == survivor["id"]
    assert _get(strict, f"/calls/{call['id']}").json()["contactId"] == survivor["id"]
    view = strict.store.view_id("contacts")
    assert _get(strict, "/contacts/count", viewId=view).json() == {"count": str(len(PEOPLE) - 2)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "/ids"),
        ({"ids": []}, "/ids"),
        ({"ids": ["999"]}, "/ids/0"),
        ({"ids": ["SELF"]}, "/ids"),
        ({"ids": ["OTHER"], "source": {"email": "999"}}, "/source/email"),
        ({"ids": ["OTHER"], "source": {"webUrl": "OTHER"}}, "/source/webUrl"),
        ({"ids": ["OTHER"], "source": {"cf": {"cf_nope": "OTHER"}}}, "/source/cf/cf_nope"),
        ({"ids": ["OTHER"], "extra": 1}, "/extra"),
    ],
)
def test_merge_refuses_bad_bodies_and_changes_nothing(
    strict: Sandbox, body: dict[str, Any], field: str
) -> None:
    survivor = _contact_id(strict, "Coffee")
    other = _contact_id(strict, "Lviv Coffee (2)")
    text = repr(body).replace("SELF", survivor).replace("OTHER", other)
    answer = _send(strict, "POST", f"/contacts/{survivor}/merge", ast.literal_eval(text))
    assert field in _invalid_fields(answer)
    assert len(strict.records("contacts")) == len(PEOPLE)


def test_merge_into_an_unknown_contact_is_404_and_needs_the_update_scope(
    strict: Sandbox,
) -> None:
    other = _contact_id(strict, "Lviv Coffee (2)")
    assert _send(strict, "POST", "/contacts/123/merge", {"ids": [other]}).status_code == 404
    reader = desk_session(strict, "Desk.contacts.READ")
    answer = reader.post(f"{strict.url}/api/v1/contacts/{_contact_id(strict, 'Coffee')}/merge",
                         json={"ids": [other]}, timeout=5)  # fmt: skip
    assert answer.status_code == 401 and answer.json()["errorCode"] == "SCOPE_MISMATCH"


def test_under_either_preset_listing_sees_every_contact_and_the_typed_text_finds_it(
    people_sandbox: Sandbox,
) -> None:
    sb = people_sandbox
    listed = _get(sb, "/contacts", limit=99, sortBy="modifiedTime").json()["data"]
    assert len(listed) == len(PEOPLE)
    for value in ("+380 (44) 222-33-44", "*222-33-44"):
        assert _names(_get(sb, "/contacts/search", phone=value)) == ["Hnatiuk"]
    digits = _names(_get(sb, "/contacts/search", phone="442223344"))
    assert digits == ([] if sb.readings["search"] == "exact" else ["Hnatiuk"])
