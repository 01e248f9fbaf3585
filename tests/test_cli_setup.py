"""`fields`, `employees`, `mapping` commands end to end in-process, Zoho over requests-mock."""

from __future__ import annotations

from typing import Any

import pytest

from ringodesk_cli.config.settings import Paths

ACCOUNTS = "https://accounts.example.test"
DESK_ROOT = "https://desk.example.test"
DESK = DESK_ROOT + "/api/v1"
MODULES = ("tickets", "contacts")

PROFILE = f"""# my ringodesk profile
[zoho]
client_id = "1000.CLIENT"
org_id = "42"
accounts_url = "{ACCOUNTS}"
desk_url = "{DESK_ROOT}"

# mappings: keep this comment
[mapping.ticket]
# the page the caller landed on
pool_name = "cf_pool"
"""

AGENTS = [
    {"id": "111", "name": "Olena Petrenko", "emailId": "olena@example.com", "status": "ACTIVE"},
    {"id": "333", "name": "Gone Agent", "emailId": "gone@example.com", "status": "DISABLED"},
]


def field(api: str, label: str, type_: str = "Text", custom: bool = True) -> dict[str, Any]:
    return {
        "id": str(abs(hash(api)) % 10**9),
        "apiName": api,
        "displayLabel": label,
        "type": type_,
        "maxLength": 255,
        "isCustomField": custom,
    }


class Zoho:
    """Fields per module, agents, and a count of creating requests."""

    def __init__(self, requests_mock: Any, *, new_api: bool = True) -> None:
        self.fields: dict[str, list[dict[str, Any]]] = {
            m: [field("subject", "Subject", custom=False)] for m in MODULES
        }
        self.posts = 0
        requests_mock.post(
            f"{ACCOUNTS}/oauth/v2/token",
            json={"access_token": "1000.aaaa.bbbb", "expires_in": 3600, "token_type": "Bearer"},
        )
        requests_mock.get(f"{DESK}/agents", json=self.agents)
        api = "fields" if new_api else "organizationFields"
        if not new_api:
            requests_mock.get(
                f"{DESK}/fields",
                status_code=404,
                json={"errorCode": "URL_NOT_FOUND", "message": "not found"},
            )
        requests_mock.get(f"{DESK}/{api}", json=self.list)
        requests_mock.post(f"{DESK}/{api}", json=self.create)

    def agents(self, request: Any, context: Any) -> Any:
        status = request.qs.get("status", ["active"])[0].upper()
        rows = [a for a in AGENTS if a["status"] == status]
        if not rows or int(request.qs.get("from", ["1"])[0]) > 1:
            context.status_code = 204
            return None
        return {"data": rows}

    def list(self, request: Any, context: Any) -> Any:
        return {"data": self.fields[request.qs["module"][0]]}

    def create(self, request: Any, context: Any) -> Any:
        self.posts += 1
        body = request.json()
        created = field("cf_" + body["displayLabel"].lower(), body["displayLabel"])
        self.fields[request.qs["module"][0]].append(created)
        context.status_code = 201
        return created


@pytest.fixture
def profile_file(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("RINGODESK_CLIENT_SECRET", "client-secret-value")
    monkeypatch.setenv("RINGODESK_REFRESH_TOKEN", "1000.refresh.token")
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROFILE, encoding="utf-8")
    return path


def test_fields_create_gives_a_fresh_org_12_fields_and_records_them(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock)
    result = cli("fields", "create", "--json")
    assert result.code == 0, result
    data = result.json()
    assert data["summary"]["created"] == 12 and zoho.posts == 12
    text = profile_file.read_text()
    assert 'rs_utm_source = "cf_rs_utm_source"' in text
    assert "# mappings: keep this comment" in text


def test_fields_create_second_run_sends_no_creating_request(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock)
    assert cli("fields", "create").code == 0
    before = profile_file.read_text()
    result = cli("fields", "create", "--json")
    assert result.code == 0 and zoho.posts == 12
    assert result.json()["summary"]["already there"] == 12
    assert profile_file.read_text() == before


def test_fields_create_reuses_a_pre_existing_field(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock)
    zoho.fields["contacts"].append(field("cf_rs_utm_term_1", "rs_utm_term"))
    data = cli("fields", "create", "--json").json()
    reused = [f for f in data["fields"] if f["status"] == "already there"]
    assert [(f["module"], f["apiName"]) for f in reused] == [("contacts", "cf_rs_utm_term_1")]
    assert zoho.posts == 11
    assert 'rs_utm_term = "cf_rs_utm_term_1"' in profile_file.read_text()


def test_fields_create_reports_a_wrong_type_field_as_conflict(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock)
    zoho.fields["tickets"].append(field("cf_rs_utm_source", "rs_utm_source", "Picklist"))
    result = cli("fields", "create")
    assert result.code == 3
    assert "conflict" in result.stdout and "Picklist" in result.stdout
    assert zoho.posts == 11


def test_fields_create_falls_back_to_organization_fields(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock, new_api=False)
    data = cli("fields", "create", "--json").json()
    assert data["api"] == "organizationFields" and zoho.posts == 12


def test_fields_create_dry_run_shows_requests_and_writes_nothing(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    zoho = Zoho(requests_mock)
    result = cli("fields", "create", "--dry-run")
    assert result.code == 0 and zoho.posts == 0
    assert "POST /fields?module=contacts" in result.stdout
    assert profile_file.read_text() == PROFILE


def test_fields_check_fails_until_fields_exist_and_list_shows_custom_ones(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    Zoho(requests_mock)
    result = cli("fields", "check")
    assert result.code == 3 and "missing" in result.stdout
    cli("fields", "create")
    assert cli("fields", "check").code == 0
    listed = cli("fields", "list", "--module", "tickets", "--custom", "--json").json()
    assert len(listed) == 6 and all(f["custom"] for f in listed)


def test_employees_link_list_unlink(cli: Any, requests_mock: Any, profile_file: Any) -> None:
    Zoho(requests_mock)
    assert cli("employees", "link", "Olena Petrenko", "olena@example.com").code == 0
    rows = cli("employees", "list", "--json").json()
    assert rows == [
        {
            "key": "Olena Petrenko",
            "agent_id": "111",
            "agent": "Olena Petrenko <olena@example.com>",
            "state": "ok",
        }
    ]
    assert "# mappings: keep this comment" in profile_file.read_text()
    assert cli("employees", "unlink", "olena petrenko").code == 0
    assert "Olena" not in profile_file.read_text()


def test_employees_link_refuses_a_disabled_agent_and_writes_nothing(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    Zoho(requests_mock)
    result = cli("employees", "link", "Gone", "333")
    assert result.code == 2 and "DISABLED" in result.stderr
    assert profile_file.read_text() == PROFILE


def test_employees_list_flags_a_link_to_an_unknown_agent(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    Zoho(requests_mock)
    profile_file.write_text(PROFILE + '\n[employees]\n"101" = "999"\n')
    result = cli("employees", "list")
    assert result.code == 3 and "unknown" in result.stdout


def with_ticket_fields(requests_mock: Any) -> Zoho:
    zoho = Zoho(requests_mock)
    zoho.fields["tickets"] += [
        field("cf_pool", "Pool"),
        field("cf_landing", "Landing"),
        field("cf_source", "Source", "Picklist"),
        field("cf_rs_utm_source", "rs_utm_source"),
    ]
    return zoho


def test_mapping_set_keeps_comments_and_order(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    with_ticket_fields(requests_mock)
    result = cli("mapping", "set", "ticket", "landing", "cf_landing")
    assert result.code == 0, result
    text = profile_file.read_text()
    assert text.startswith(PROFILE.rstrip("\n"))
    assert text.rstrip().endswith('landing = "cf_landing"')
    assert cli("mapping", "check").code == 0


@pytest.mark.parametrize(
    ("param", "target_field", "words"),
    [
        ("landing", "cf_source", "Picklist"),  # non-string type
        ("landing", "cf_pool", "already receives"),  # duplicate target
        ("landing", "cf_nowhere", "no tickets field"),  # unknown field
        ("landingg", "cf_landing", "unknown Ringostat parameter"),  # unknown parameter
        ("landing", "cf_rs_utm_source", "default"),  # default field as target
    ],
)
def test_mapping_refusals_are_one_line_and_leave_the_file_untouched(
    cli: Any, requests_mock: Any, profile_file: Any, param: str, target_field: str, words: str
) -> None:
    with_ticket_fields(requests_mock)
    result = cli("mapping", "set", "ticket", param, target_field)
    assert result.code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and words in first
    assert "Traceback" not in result.stderr
    assert profile_file.read_bytes() == PROFILE.encode()


def test_mapping_list_shows_defaults_read_only_and_unset_removes(
    cli: Any, profile_file: Any
) -> None:
    data = cli("mapping", "list", "--json").json()
    rows = {(m["target"], m["parameter"]): m for m in data["mappings"]}
    assert rows[("default", "utm_source")]["editable"] is False
    assert rows[("ticket", "pool_name")]["field"] == "cf_pool"
    assert cli("mapping", "unset", "ticket", "pool_name").code == 0
    assert "pool_name" not in profile_file.read_text()


def test_mapping_check_reports_a_field_that_disappeared(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    Zoho(requests_mock)
    result = cli("mapping", "check")
    assert result.code == 3 and "cf_pool" in result.stdout


def test_fields_create_license_limit_is_a_clear_error(
    cli: Any, requests_mock: Any, profile_file: Any
) -> None:
    Zoho(requests_mock)
    requests_mock.post(
        f"{DESK}/fields",
        status_code=403,
        json={
            "errorCode": "LICENSE_ACCESS_LIMITED",
            "message": "limit reached",
            "maxAllowedEntity": 5,
            "editionType": "FREE",
        },
    )
    result = cli("fields", "create")
    assert result.code != 0
    assert "FREE edition reached the limit of 5 custom fields" in result.stderr
    assert "hint: free a custom field" in result.stderr
    assert "Traceback" not in result.stderr
