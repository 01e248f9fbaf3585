"""The six rs_* custom fields: pure planning and the create/list I/O (rule R2)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.errors import LicenseLimitedError, NotFoundError, ZohoError
from ringodesk_cli.setup.fields import (
    MODULES,
    check_fields,
    ensure_fields,
    list_module_fields,
    plan_fields,
    record_fields,
)


def text_field(label: str, api: str | None = None, *, type_: str = "Text", fid: str = "1") -> dict:
    return {
        "id": fid,
        "apiName": api or "cf_" + label.lower().replace(" ", "_"),
        "displayLabel": label,
        "type": type_,
        "maxLength": 255,
        "isCustomField": True,
    }


SUBJECT = {
    "id": "9",
    "apiName": "subject",
    "displayLabel": "Subject",
    "type": "Text",
    "isCustomField": False,
}


class FakeDesk:
    """In-memory stand-in with the DeskClient field methods; Zoho generates the apiName."""

    def __init__(self, *, new_api: bool = True, limit: int | None = None) -> None:
        self.new_api = new_api
        self.limit = limit
        self.fields: dict[str, list[dict[str, Any]]] = {m: [dict(SUBJECT)] for m in MODULES}
        self.stats: Counter[str] = Counter()
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self._next = 100

    def _absent(self) -> None:
        raise NotFoundError("URL not found", status=404, error_code="URL_NOT_FOUND")

    def list_fields(self, module: str) -> list[dict[str, Any]]:
        self.stats["GET /fields"] += 1
        if not self.new_api:
            self._absent()
        return [dict(f) for f in self.fields[module]]

    def create_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        self.stats["POST /fields"] += 1
        if not self.new_api:
            self._absent()
        return self._create(module, body)

    def list_organization_fields(self, module: str) -> list[dict[str, Any]]:
        self.stats["GET /organizationFields"] += 1
        return [dict(f) for f in self.fields[module]]

    def create_organization_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        self.stats["POST /organizationFields"] += 1
        return self._create(module, body)

    def _create(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        custom = [f for f in self.fields[module] if f.get("isCustomField")]
        if self.limit is not None and len(custom) >= self.limit:
            raise LicenseLimitedError(
                "limit",
                status=403,
                error_code="LICENSE_ACCESS_LIMITED",
                payload={"maxAllowedEntity": self.limit, "editionType": "FREE"},
            )
        self.bodies.append((module, dict(body)))
        self._next += 1
        # A suffix Zoho might add: proves the apiName is read, never built from the label.
        created = text_field(
            body["displayLabel"], "cf_" + body["displayLabel"] + "_z", fid=str(self._next)
        )
        self.fields[module].append(created)
        return dict(created)


def settings() -> Settings:
    return Settings.load("default", Paths.discover())


def test_plan_creates_every_required_field_with_a_text_body_on_an_empty_module() -> None:
    plans = plan_fields("tickets", [SUBJECT])
    assert [p.label for p in plans] == [
        "rs_utm_source",
        "rs_utm_medium",
        "rs_utm_campaign",
        "rs_utm_term",
        "rs_utm_content",
        "rs_google_client_id",
    ]
    assert {p.action for p in plans} == {"create"}
    assert plans[0].body == {"displayLabel": "rs_utm_source", "type": "Text", "maxLength": 255}


def test_plan_reuses_a_field_found_by_api_name_case_insensitively() -> None:
    existing = [text_field("UTM source (Ringostat)", "CF_RS_UTM_SOURCE", fid="77")]
    plan = plan_fields("contacts", existing)[0]
    assert (plan.action, plan.api_name, plan.field_id) == ("exists", "CF_RS_UTM_SOURCE", "77")


def test_plan_reuses_a_field_found_by_display_label() -> None:
    existing = [text_field("RS_UTM_Medium", "cf_something_else")]
    plan = plan_fields("tickets", existing)[1]
    assert (plan.action, plan.api_name) == ("exists", "cf_something_else")


def test_plan_reports_a_wrong_type_field_as_conflict_with_what_to_do() -> None:
    existing = [text_field("rs_utm_term", type_="Picklist")]
    plan = next(p for p in plan_fields("tickets", existing) if p.label == "rs_utm_term")
    assert plan.action == "conflict"
    assert plan.reason and "Picklist" in plan.reason and "fields create" in plan.reason


def test_plan_prefers_a_text_match_over_a_wrong_type_one() -> None:
    existing = [
        text_field("rs_utm_term", "cf_rs_utm_term_old", type_="Number"),
        text_field("Term", "cf_rs_utm_term"),
    ]
    plan = next(p for p in plan_fields("tickets", existing) if p.label == "rs_utm_term")
    assert (plan.action, plan.api_name) == ("exists", "cf_rs_utm_term")


def test_fresh_org_gets_twelve_fields_with_api_names_as_zoho_returned_them() -> None:
    desk = FakeDesk()
    report = ensure_fields(desk)
    assert report.count("created") == 12 and report.ok
    assert desk.stats["POST /fields"] == 12
    assert report.api_names("tickets")["rs_utm_source"] == "cf_rs_utm_source_z"
    assert report.api == "fields"


def test_second_run_sends_no_creating_request() -> None:
    desk = FakeDesk()
    ensure_fields(desk)
    desk.stats.clear()
    report = ensure_fields(desk)
    assert report.count("already there") == 12
    assert desk.stats["POST /fields"] == 0


def test_pre_existing_field_is_reused_and_only_the_rest_are_created() -> None:
    desk = FakeDesk()
    desk.fields["tickets"].append(text_field("rs_utm_source", fid="5"))
    report = ensure_fields(desk)
    first = report.results[0]
    assert (first.status, first.api_name, first.field_id) == (
        "already there",
        "cf_rs_utm_source",
        "5",
    )
    assert desk.stats["POST /fields"] == 11


def test_wrong_type_field_is_a_reported_conflict_and_not_recreated() -> None:
    desk = FakeDesk()
    desk.fields["contacts"].append(text_field("rs_google_client_id", type_="Number"))
    report = ensure_fields(desk)
    conflict = [r for r in report.results if r.status == "conflict"]
    assert [(r.module, r.label) for r in conflict] == [("contacts", "rs_google_client_id")]
    assert not report.ok
    assert desk.stats["POST /fields"] == 11


def test_falls_back_to_organization_fields_when_fields_api_is_absent() -> None:
    desk = FakeDesk(new_api=False)
    report = ensure_fields(desk)
    assert report.api == "organizationFields"
    assert report.count("created") == 12
    assert desk.stats["POST /organizationFields"] == 12
    # The new API is probed once, not per module.
    assert desk.stats["GET /fields"] == 1


def test_other_not_found_errors_are_not_taken_for_the_fallback() -> None:
    desk = FakeDesk()

    def broken(module: str) -> list[dict[str, Any]]:
        raise NotFoundError("no such org", status=404, error_code="ORG_NOT_FOUND")

    desk.list_fields = broken  # type: ignore[method-assign]
    with pytest.raises(NotFoundError):
        ensure_fields(desk)


def test_dry_run_shows_the_requests_and_creates_nothing() -> None:
    desk = FakeDesk()
    report = ensure_fields(desk, dry_run=True)
    assert report.count("would create") == 12
    assert desk.stats["POST /fields"] == 0
    first = report.results[0]
    assert first.request == "POST /fields?module=tickets"
    assert first.body == {"displayLabel": "rs_utm_source", "type": "Text", "maxLength": 255}


def test_license_limit_names_the_limit_and_stops_creating_in_that_module() -> None:
    desk = FakeDesk(limit=2)
    report = ensure_fields(desk)
    assert isinstance(report.error, LicenseLimitedError)
    assert "limit of 2 custom fields" in report.error.message
    assert "FREE" in report.error.message
    tickets = [r.status for r in report.results if r.module == "tickets"]
    assert tickets == ["created", "created", "failed", "failed", "failed", "failed"]
    # 2 created + 1 refused per module; nothing more is sent after the refusal.
    assert desk.stats["POST /fields"] == 6


def test_created_field_without_api_name_is_failed_not_guessed() -> None:
    desk = FakeDesk()
    desk.create_field = lambda module, body: {"id": "1"}  # type: ignore[method-assign]
    report = ensure_fields(desk, modules=["tickets"])
    assert {r.status for r in report.results} == {"failed"}
    assert report.api_names("tickets") == {}


def test_other_zoho_errors_are_reported_per_field() -> None:
    desk = FakeDesk()

    def invalid(module: str, body: dict[str, Any]) -> dict[str, Any]:
        raise ZohoError("bad", status=422, error_code="INVALID_DATA")

    desk.create_field = invalid  # type: ignore[method-assign]
    report = ensure_fields(desk, modules=["contacts"])
    assert report.count("failed") == 6 and report.error is not None


def test_record_fields_stores_api_names_and_is_idempotent() -> None:
    desk = FakeDesk()
    s = settings()
    report = ensure_fields(desk)
    assert record_fields(s, report) is True
    assert s.table("fields.contacts")["rs_utm_term"] == "cf_rs_utm_term_z"
    assert record_fields(s, report) is False


def test_check_fields_reports_missing_wrong_type_and_unrecorded_fields() -> None:
    desk = FakeDesk()
    s = settings()
    assert {p.kind for p in check_fields(desk, s)} == {"missing"}
    report = ensure_fields(desk)
    assert {p.kind for p in check_fields(desk, s)} == {"not recorded"}
    record_fields(s, report)
    assert check_fields(desk, s) == []
    desk.fields["tickets"] = [text_field("rs_utm_source", type_="Email")]
    kinds = Counter(p.kind for p in check_fields(desk, s))
    assert kinds == {"wrong type": 1, "missing": 5}


def test_list_module_fields_filters_custom_fields() -> None:
    desk = FakeDesk()
    desk.fields["tickets"].append(text_field("Landing", fid="3"))
    all_fields = list_module_fields(desk, "tickets")
    custom = list_module_fields(desk, "tickets", custom_only=True)
    assert [f.api_name for f in all_fields] == ["subject", "cf_landing"]
    assert [f.api_name for f in custom] == ["cf_landing"]
    assert custom[0].max_length == 255 and custom[0].custom


# -- against the real DeskClient over requests-mock --------------------------------------------

DESK = "https://desk.example.test/api/v1"


class StaticToken:
    def access_token(self) -> str:
        return "1000.test-token"

    def invalidate(self, token: str) -> None:
        return None


class ZohoFields:
    """A requests-mock responder that keeps fields per module and answers like Zoho (201)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[dict[str, Any]]] = {m: [dict(SUBJECT)] for m in MODULES}
        self.posts = 0

    def list(self, request: Any, context: Any) -> Any:
        data = self.fields[request.qs["module"][0]]
        if not data:
            context.status_code = 204
            return None
        return {"data": data}

    def create(self, request: Any, context: Any) -> Any:
        self.posts += 1
        body = request.json()
        assert body == {"displayLabel": body["displayLabel"], "type": "Text", "maxLength": 255}
        created = text_field(body["displayLabel"], fid=str(500 + self.posts))
        self.fields[request.qs["module"][0]].append(created)
        context.status_code = 201
        return created


def desk_client() -> Any:
    from ringodesk_cli.zoho.desk import DeskClient

    return DeskClient(DESK, StaticToken(), "42", sleep=lambda _: None)


def test_real_client_fresh_org_gets_twelve_fields_and_a_rerun_posts_nothing(
    requests_mock: Any,
) -> None:
    zoho = ZohoFields()
    requests_mock.get(f"{DESK}/fields", json=zoho.list)
    requests_mock.post(f"{DESK}/fields", json=zoho.create)
    client = desk_client()
    report = ensure_fields(client)
    assert report.count("created") == 12 and zoho.posts == 12
    assert report.api_names("contacts")["rs_google_client_id"] == "cf_rs_google_client_id"
    again = ensure_fields(client)
    assert again.count("already there") == 12 and zoho.posts == 12
    assert requests_mock.last_request.headers["orgId"] == "42"


def test_real_client_falls_back_to_organization_fields_on_url_not_found(
    requests_mock: Any,
) -> None:
    zoho = ZohoFields()
    requests_mock.get(
        f"{DESK}/fields",
        status_code=404,
        json={"errorCode": "URL_NOT_FOUND", "message": "The URL is not found"},
    )
    requests_mock.get(f"{DESK}/organizationFields", json=zoho.list)
    requests_mock.post(f"{DESK}/organizationFields", json=zoho.create)
    report = ensure_fields(desk_client())
    assert report.api == "organizationFields" and report.count("created") == 12
    assert not any(
        r.method == "POST" and r.path.endswith("/fields") for r in requests_mock.request_history
    )


def test_real_client_license_limit_is_a_clear_message(requests_mock: Any) -> None:
    requests_mock.get(f"{DESK}/fields", status_code=204)
    requests_mock.post(
        f"{DESK}/fields",
        status_code=403,
        json={
            "errorCode": "LICENSE_ACCESS_LIMITED",
            "message": "You have reached the maximum limit",
            "maxAllowedEntity": 10,
            "feature": "customFields",
            "editionType": "STANDARD",
            "isTrial": False,
        },
    )
    report = ensure_fields(desk_client(), modules=["tickets"])
    assert isinstance(report.error, LicenseLimitedError)
    assert "STANDARD edition reached the limit of 10 custom fields" in report.error.message
    assert requests_mock.call_count == 2  # one list, one refused create; no more tries
