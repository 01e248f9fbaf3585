"""The sandbox's compact schemas against the request examples of Zoho's own OpenAPI files.

The examples below are copied verbatim from github.com/zoho/zohodesk-oas v1.0 at commit
83b5c18947ef54052eb83d221ff54c2ee5a65e52 (Field.json: bc1833e), "Valid requestBody
Definitions" / "Create ... field" examples. Tests never read /work/shared at run time."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ringodesk_cli.sandbox.validation import schema_document, schema_errors

CALL_EXAMPLE: dict[str, Any] = {
    "duration": "300",
    "reminder": [
        {"alertType": ["EMAIL", "SMS", "POPUP"], "reminderType": "ABSOLUTE",
         "reminderTime": 1545713533000}
    ],
    "contactId": "1892000000088017", "subject": "New Testing Call",
    "departmentId": "3000000007043", "startTime": 1469465531000, "priority": "High",
    "ticketId": "3000000008753", "direction": "inbound", "status": "In Progress",
}  # fmt: skip
TASK_EXAMPLE: dict[str, Any] = {
    "subject": "Bug Fix #120", "departmentId": "3000000007043", "dueDate": 1469117776000,
    "priority": "High", "category": None, "status": "In Progress",
}  # fmt: skip
TICKET_EXAMPLE: dict[str, Any] = {
    "entitySkills": ["18921000000379001", "18921000000364001", "18921000000379055",
                     "18921000000379031"],
    "subCategory": "Sub General",
    "cf": {"cf_permanentaddress": None, "cf_dateofpurchase": None, "cf_phone": None,
           "cf_numberofitems": None, "cf_url": None, "cf_secondaryemail": None,
           "cf_severitypercentage": "0.0", "cf_modelname": "F3 2017"},
    "productId": "", "contactId": "1892000000042032", "subject": "Real Time analysis Requirement",
    "dueDate": 1466525776000, "departmentId": "1892000000006907", "channel": "Email",
    "description": "Hai This is Description", "language": "English", "priority": "High",
    "classification": "", "assigneeId": "1892000000056007", "phone": "1 888 900 9646",
    "category": "general", "email": "carol@zylker.com", "status": "Open",
}  # fmt: skip
CONTACT_EXAMPLE: dict[str, Any] = {
    "zip": "123902", "lastName": "Jack", "country": "USA", "secondaryEmail": "hughjack@zylker.com",
    "city": "Texas", "facebook": "hugh jacks", "mobile": "+10 2328829010",
    "description": "first priority contact", "ownerId": "1892000000056007", "type": "paidUser",
    "title": "The contact", "accountId": "1892000000052077", "firstName": "hugh",
    "twitter": "Hugh jack", "phone": "91020080878", "street": "North street", "state": "Austin",
    "email": "jack@zylker.com",
}  # fmt: skip
FIELD_TEXT_EXAMPLE = {
    "displayLabel": "Customer Reference Code", "type": "Text", "isTrackLastActivityTime": False,
    "isEncryptedField": False, "isPHI": False, "maxLength": "255",
}  # fmt: skip
FIELD_LOOKUP_EXAMPLE = {
    "displayLabel": "Related Product", "type": "LookUp",
    "lookup": {"module": {"apiName": "products"}, "relatedListLabel": "Reported Tickets"},
    "isTrackLastActivityTime": False,
}  # fmt: skip
# Common.json errorJson + errorDetailArr, written without the top-level
# additionalProperties:false that makes the OAS version reject every key.
INVALID_DATA_SCHEMA = {
    "type": "object",
    "required": ["errorCode", "message", "errors"],
    "properties": {
        "errorCode": {"const": "INVALID_DATA"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["errorMessage", "errorType", "fieldName"],
            "properties": {"fieldName": {"type": "string", "pattern": "^/"},
                           "errorType": {"enum": ["invalid", "duplicate", "missing"]},
                           "errorMessage": {"type": "string"}}}},
    },
}  # fmt: skip

EPOCH_EXAMPLES = [
    ("calls", CALL_EXAMPLE, "startTime"),
    ("tasks", TASK_EXAMPLE, "dueDate"),
    ("tickets", TICKET_EXAMPLE, "dueDate"),
]


@pytest.mark.parametrize(("name", "example", "time_key"), EPOCH_EXAMPLES)
def test_oas_example_is_valid_once_its_epoch_time_is_written_in_iso(
    name: str, example: dict[str, Any], time_key: str
) -> None:
    body = copy.deepcopy(example)
    body[time_key] = "2016-07-25T16:52:11.000Z"
    assert schema_errors(name, "create", body) == []


@pytest.mark.parametrize(("name", "example", "time_key"), EPOCH_EXAMPLES)
def test_oas_example_with_epoch_milliseconds_is_refused_on_that_time_only(
    name: str, example: dict[str, Any], time_key: str
) -> None:
    errors = schema_errors(name, "create", example)
    assert [e["fieldName"] for e in errors] == [f"/{time_key}"]
    assert errors[0]["errorType"] == "invalid"


def test_oas_contact_example_is_valid() -> None:
    assert schema_errors("contacts", "create", CONTACT_EXAMPLE) == []


@pytest.mark.parametrize("example", [FIELD_TEXT_EXAMPLE, FIELD_LOOKUP_EXAMPLE])
def test_oas_field_examples_are_valid(example: dict[str, Any]) -> None:
    assert schema_errors("fields", "create", example) == []


def test_text_field_without_max_length_is_refused_as_missing() -> None:
    errors = schema_errors("fields", "create", {"displayLabel": "X", "type": "Text"})
    assert {"fieldName": "/maxLength", "errorType": "missing"}.items() <= errors[0].items()


@pytest.mark.parametrize("ftype", ["Picklist", "Email", "Phone", "URL"])
def test_string_like_custom_field_types_are_creatable(ftype: str) -> None:
    body: dict[str, Any] = {"displayLabel": f"Some {ftype}", "type": ftype}
    if ftype == "Phone":
        body["maxLength"] = 30
    assert schema_errors("fields", "create", body) == []


def test_call_missing_required_keys_are_each_reported_as_missing() -> None:
    errors = schema_errors("calls", "create", {"subject": "s"})
    missing = {e["fieldName"] for e in errors if e["errorType"] == "missing"}
    assert missing == {"/contactId", "/departmentId", "/direction", "/duration", "/startTime",
                       "/status"}  # fmt: skip


def test_unknown_top_level_key_is_refused() -> None:
    body = copy.deepcopy(CONTACT_EXAMPLE) | {"nickname": "Hughie"}
    assert [e["fieldName"] for e in schema_errors("contacts", "create", body)] == ["/nickname"]


def test_update_schema_requires_nothing_but_still_checks_types() -> None:
    assert schema_errors("calls", "update", {"status": "Missed"}) == []
    assert schema_errors("calls", "update", {"status": "Lost"})[0]["fieldName"] == "/status"


def test_every_schema_document_names_its_source_commit() -> None:
    for name in ("calls", "tasks", "tickets", "contacts", "fields"):
        doc = schema_document(name)
        assert "zohodesk-oas" in doc["source"]
        assert "83b5c18" in doc["source"] or "bc1833e" in doc["source"]
        Draft202012Validator.check_schema(doc["create"])


def test_invalid_data_answer_matches_common_json_shape() -> None:
    from ringodesk_cli.sandbox.replies import invalid_data

    reply = invalid_data(schema_errors("calls", "create", {})).reply()
    assert reply.status == 422
    Draft202012Validator(INVALID_DATA_SCHEMA).validate(reply.body)
