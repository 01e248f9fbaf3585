"""Parameter mappings: every refusal of R12 / DECISIONS.md, and comment-preserving edits."""

from __future__ import annotations

from typing import Any

import pytest

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.errors import UsageError
from ringodesk_cli.setup.mappings import (
    check_mappings,
    mapping_rows,
    set_mapping,
    unset_mapping,
    validate_mapping,
)


def field(api: str, label: str, type_: str = "Text", custom: bool = True) -> dict[str, Any]:
    return {
        "id": api,
        "apiName": api,
        "displayLabel": label,
        "type": type_,
        "isCustomField": custom,
    }


TICKET_FIELDS = [
    field("subject", "Subject", custom=False),
    field("cf_landing_page", "Landing page"),
    field("cf_pool", "Pool"),
    field("cf_source_list", "Source list", "Picklist"),
    field("cf_mail", "Mail", "Email"),
    field("cf_notes", "Notes", "Textarea"),
    field("cf_count", "Count", "Number"),
    field("cf_rs_utm_source", "rs_utm_source"),
    field("cf_custom_utm", "Campaign slot"),
]

ORIGINAL = """# ringodesk profile
[fields.tickets]
rs_utm_medium = "cf_custom_utm"

# what goes where
[mapping.ticket]
# keep: the landing page
pool_name = "cf_pool"
"""


@pytest.fixture
def s() -> Settings:
    paths = Paths.discover()
    path = paths.config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ORIGINAL, encoding="utf-8")
    return Settings.load("default", paths)


def refused(s: Settings, param: str, target_field: str, target: str = "ticket") -> str:
    with pytest.raises(UsageError) as caught:
        set_mapping(s, target, param, target_field, fields=TICKET_FIELDS)
    assert s.text() == ORIGINAL  # nothing changed in memory, so nothing can be written
    message = caught.value.message
    assert "\n" not in message
    return message


def test_set_writes_the_api_name_and_keeps_comments_and_order(s: Settings) -> None:
    assert set_mapping(s, "ticket", "landing", "Landing page", fields=TICKET_FIELDS) == (
        "landing",
        "cf_landing_page",
    )
    s.save()
    text = s.path.read_text()
    assert "# what goes where" in text and "# keep: the landing page" in text
    assert text.index("pool_name") < text.index("landing =")
    assert Settings.load("default", Paths.discover()).table("mapping.ticket") == {
        "pool_name": "cf_pool",
        "landing": "cf_landing_page",
    }


def test_resetting_a_parameter_to_its_own_field_is_not_a_duplicate(s: Settings) -> None:
    assert set_mapping(s, "ticket", "POOL_NAME", "cf_pool", fields=TICKET_FIELDS) == (
        "pool_name",
        "cf_pool",
    )


def test_non_text_string_like_type_is_refused_with_the_reason(s: Settings) -> None:
    message = refused(s, "landing", "cf_source_list")
    assert "Picklist" in message and "listed values" in message and "Text" in message
    assert "Email" in refused(s, "landing", "cf_mail")


def test_non_string_types_are_refused(s: Settings) -> None:
    assert "Number" in refused(s, "landing", "cf_count")
    assert "multi-line" in refused(s, "landing", "Notes")


def test_duplicate_target_is_refused_naming_the_other_parameter(s: Settings) -> None:
    message = refused(s, "landing", "cf_pool")
    assert "pool_name" in message and "R12" in message


def test_unknown_field_is_refused_with_close_matches(s: Settings) -> None:
    message = refused(s, "landing", "cf_landing_pag")
    assert "cf_landing_pag" in message and "cf_landing_page" in message


def test_unknown_parameter_is_refused_with_close_matches(s: Settings) -> None:
    message = refused(s, "referrer", "cf_landing_page")
    assert "unknown Ringostat parameter" in message and "refferrer" in message


def test_default_field_as_target_is_refused_by_label_and_by_stored_api_name(s: Settings) -> None:
    assert "default" in refused(s, "landing", "cf_rs_utm_source")
    # cf_custom_utm is recorded in [fields.tickets] as the rs_utm_medium field.
    assert "default" in refused(s, "landing", "Campaign slot")


def test_system_field_is_refused(s: Settings) -> None:
    assert "system field" in refused(s, "landing", "subject")


def test_unknown_target_is_refused(s: Settings) -> None:
    assert "ticket, contact" in refused(s, "landing", "cf_pool", target="deal")


def test_validate_mapping_checks_the_contact_module_separately() -> None:
    contact_fields = [field("cf_pool", "Pool")]
    # The ticket mapping's use of cf_pool does not block the contact module.
    assert validate_mapping(
        "contact",
        "pool_name",
        "cf_pool",
        fields=contact_fields,
        current={},
        default_api_names=[],
    ) == ("pool_name", "cf_pool")


def test_unset_removes_and_refuses_unknown_parameters(s: Settings) -> None:
    assert unset_mapping(s, "ticket", "Pool_Name") == "pool_name"
    assert s.table("mapping.ticket") == {}
    with pytest.raises(UsageError, match="no mapping"):
        unset_mapping(s, "ticket", "pool_name")


def test_mapping_rows_list_read_only_defaults_then_user_mappings(s: Settings) -> None:
    rows = mapping_rows(s, {"utm_source": "rs_utm_source"})
    assert [(r.target, r.parameter, r.editable) for r in rows] == [
        ("default", "utm_source", False),
        ("ticket", "pool_name", True),
    ]


def test_check_mappings_reports_broken_stored_mappings() -> None:
    paths = Paths.discover()
    path = paths.config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '[mapping.ticket]\npool_name = "cf_pool"\nlanding = "cf_pool"\n'
        'scheme_name = "cf_gone"\nbogus = "cf_landing_page"\n'
        '[mapping.contact]\ndepartment = "cf_mail"\n',
        encoding="utf-8",
    )
    s = Settings.load("default", paths)
    problems = check_mappings(s, {"tickets": TICKET_FIELDS, "contacts": TICKET_FIELDS})
    assert [(p.subject, p.kind) for p in problems] == [
        ("ticket.landing", "duplicate target"),
        ("ticket.scheme_name", "missing field"),
        ("ticket.bogus", "unknown parameter"),
        ("contact.department", "refused field"),
    ]


def test_check_mappings_is_clean_for_valid_mappings(s: Settings) -> None:
    assert check_mappings(s, {"tickets": TICKET_FIELDS, "contacts": []}) == []
