"""Issue 4 end to end: the installed `ringodesk` against the sandbox — fields, mappings,
employee links (fresh org, rerun, refusals that leave the profile byte-for-byte alone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import Desk, agent_id
from sandbox_fixture import both_readings, desk_session, sandbox  # noqa: F401

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.sandbox import Sandbox

pytestmark = both_readings

RS = (
    "rs_utm_source", "rs_utm_medium", "rs_utm_campaign", "rs_utm_term", "rs_utm_content",
    "rs_google_client_id",
)  # fmt: skip


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    assert d.activate().code == 0
    return d


def rs_fields(sb: Sandbox, module: str) -> list[str]:
    return sorted(
        f["displayLabel"] for f in sb.records(f"fields:{module}") if f["displayLabel"] in RS
    )


def test_a_fresh_org_gets_twelve_fields_and_a_second_run_creates_nothing(desk: Desk) -> None:
    first = desk.run("fields", "create", "--json")
    assert first.code == 0, first
    assert rs_fields(desk.sb, "tickets") == sorted(RS)
    assert rs_fields(desk.sb, "contacts") == sorted(RS)
    posts = desk.sb.request_counts().get("POST /api/v1/fields", 0)
    assert posts == 12
    second = desk.run("fields", "create", "--json")
    assert second.code == 0, second
    assert desk.sb.request_counts().get("POST /api/v1/fields", 0) == posts
    assert desk.run("fields", "check").code == 0


def test_mapping_refusals_leave_the_profile_untouched_and_set_keeps_comments(
    desk: Desk,
) -> None:
    assert desk.run("fields", "create").code == 0
    session = desk_session(desk.sb)
    for label, kind in (("Landing page", "Text"), ("Source pick", "Picklist")):
        body: dict[str, object] = {"displayLabel": label, "type": kind}
        if kind == "Picklist":
            body["allowedValues"] = ["a", "b"]
        else:
            body["maxLength"] = 255
        made = session.post(
            f"{desk.sb.url}/api/v1/fields", params={"module": "tickets"}, json=body, timeout=5
        )
        assert made.status_code in (200, 201), made.text
    text_api = next(
        f["apiName"]
        for f in desk.sb.records("fields:tickets")
        if f["displayLabel"] == "Landing page"
    )
    pick_api = next(
        f["apiName"]
        for f in desk.sb.records("fields:tickets")
        if f["displayLabel"] == "Source pick"
    )
    profile = Paths.discover().config_file("default")
    profile.write_text(profile.read_text() + "\n# keep me: my note\n")
    before = profile.read_bytes()
    for args in (
        ("ticket", "pool_name", pick_api),  # a Picklist, not single-line text
        ("ticket", "pool_name", "cf_no_such_field"),
        ("ticket", "no_such_parameter", text_api),
        ("ticket", "pool_name", "cf_rs_utm_source"),  # a default field
    ):
        refused = desk.run("mapping", "set", *args)
        assert refused.code != 0, (args, refused)
        assert len(refused.stderr.strip().splitlines()) <= 2, refused.stderr  # error (+ hint)
        assert profile.read_bytes() == before, args
    assert desk.run("mapping", "set", "ticket", "landing", text_api).code == 0
    duplicate = desk.run("mapping", "set", "ticket", "pool_name", text_api)
    assert duplicate.code != 0
    text = profile.read_text()
    assert "# keep me: my note" in text
    assert f'landing = "{text_api}"' in text


def test_employee_links_resolve_against_live_agents(desk: Desk) -> None:
    assert desk.run("employees", "link", "anna_sip", "taras@sandbox.example").code == 0
    refused = desk.run("employees", "link", "petro_sip", "andrii@sandbox.example")  # disabled
    assert refused.code != 0
    listed = desk.run("employees", "list", "--json")
    assert listed.code == 0, listed
    assert agent_id(desk.sb, "taras@sandbox.example") in listed.stdout
    assert "petro_sip" not in listed.stdout
