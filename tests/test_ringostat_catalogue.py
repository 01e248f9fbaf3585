"""The parameter catalogue and the header alias table."""

from __future__ import annotations

import pytest

from ringodesk_cli.ringostat.catalogue import (
    DEFAULT_PARAMETERS,
    PARAMETERS,
    RS_FIELDS,
    RS_LABELS,
    TEXT_MAX_LENGTH,
    TEXT_TYPE,
    close_matches,
)
from ringodesk_cli.ringostat.columns import HEADER_ALIASES, normalise_label, resolve_headers

# The CRAN package's default field list plus names seen elsewhere (ringostat.md §1).
DOCUMENTED = [
    "caller",
    "dst",
    "pool_name",
    "disposition",
    "calldate",
    "category_mark",
    "duration",
    "call_type",
    "waittime",
    "billsec",
    "connected_with",
    "call_counter",
    "proper_flag",
    "repeated_flag",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "uniqueid",
    "category_number",
    "employee_number",
    "employee_mark",
    "client_id",
    "remote_ip",
    "refferrer",
    "landing",
    "recording",
    "recording_wav",
    "call_card",
    "additional_number",
    "has_recording",
    "scheme_name",
    "duration_ms",
    "department",
    "caller_number",
    "employee_fio",
    "n_alias",
    "unique_call",
]


def test_catalogue_lists_every_documented_call_log_field_with_a_description() -> None:
    assert set(DOCUMENTED) == set(PARAMETERS)
    assert all(description.strip() for description in PARAMETERS.values())
    assert "refferrer" in PARAMETERS and "referrer" not in PARAMETERS


def test_default_parameters_are_catalogued_and_cover_r10() -> None:
    assert set(DEFAULT_PARAMETERS) <= set(PARAMETERS)
    for name in ("recording", "caller", "dst", "disposition", "client_id"):
        assert name in DEFAULT_PARAMETERS
    for part in ("source", "medium", "campaign", "term", "content"):
        assert f"rs_utm_{part}" in DEFAULT_PARAMETERS[f"utm_{part}"]
    assert "rs_google_client_id" in DEFAULT_PARAMETERS["client_id"]


def test_the_six_rs_fields_are_one_catalogue_used_by_setup_and_sync() -> None:
    from ringodesk_cli.rules.planner import DEFAULT_FIELDS, FIELD_MAX_LENGTH
    from ringodesk_cli.setup.fields import create_body, plan_fields

    assert [(f.label, f.parameter) for f in RS_FIELDS] == [
        ("rs_utm_source", "utm_source"),
        ("rs_utm_medium", "utm_medium"),
        ("rs_utm_campaign", "utm_campaign"),
        ("rs_utm_term", "utm_term"),
        ("rs_utm_content", "utm_content"),
        ("rs_google_client_id", "client_id"),
    ]
    assert all(f.parameter in PARAMETERS for f in RS_FIELDS)
    # setup creates exactly these labels, as Text of the length the planner cuts values to
    assert [p.label for p in plan_fields("tickets", [])] == list(RS_LABELS)
    assert create_body("rs_utm_term") == {
        "displayLabel": "rs_utm_term",
        "type": TEXT_TYPE,
        "maxLength": TEXT_MAX_LENGTH,
    }
    assert (TEXT_TYPE, TEXT_MAX_LENGTH, FIELD_MAX_LENGTH) == ("Text", 255, 255)
    assert {f.label: f.parameter for f in RS_FIELDS} == DEFAULT_FIELDS


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("referrer", "refferrer"), ("utm_sourse", "utm_source"), ("employe_fio", "employee_fio")],
)
def test_close_matches_suggest_the_catalogued_name(typed: str, expected: str) -> None:
    assert close_matches(typed)[0] == expected


def test_close_matches_accepts_exact_names_and_finds_nothing_for_nonsense() -> None:
    assert close_matches("LANDING") == ["landing"]
    assert close_matches("zzzzzz") == []


def test_every_alias_points_at_a_catalogued_field() -> None:
    assert set(HEADER_ALIASES.values()) <= set(PARAMETERS)


def test_labels_match_regardless_of_case_spacing_bom_and_colon() -> None:
    assert normalise_label("\ufeff  Дата   звонка: ") == normalise_label("дата звонка")
    assert normalise_label("Причём") == normalise_label("причем")


def test_resolve_headers_prefers_overrides_then_api_names_then_aliases() -> None:
    headers = ["\ufeffCall ID", "CALLER", "Куди дзвонили", "Номер клиента", "Мітка"]
    assert resolve_headers(headers) == ["uniqueid", "caller", "dst", "Номер клиента", "Мітка"]
    assert resolve_headers(headers, {"номер клиента": "caller", "Call ID": "n_alias"}) == [
        "n_alias",
        "caller",
        "dst",
        "Номер клиента",
        "Мітка",
    ]


def test_second_header_for_the_same_field_keeps_its_own_name() -> None:
    assert resolve_headers(["Дата", "Date", "uniqueid"]) == ["calldate", "Date", "uniqueid"]
