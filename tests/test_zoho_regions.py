"""Data centers: region → URLs, and the redirect's accounts-server/location → Desk host."""

from __future__ import annotations

import pytest

from ringodesk_cli.errors import ConfigError
from ringodesk_cli.zoho.regions import (
    DATA_CENTERS,
    DESK_SCOPES,
    data_center_for,
    desk_url_for_accounts_server,
    resolve_urls,
)

# (region, location, accounts server, Desk host) as in reference §1.1.
EXPECTED = [
    ("com", "us", "https://accounts.zoho.com", "https://desk.zoho.com"),
    ("eu", "eu", "https://accounts.zoho.eu", "https://desk.zoho.eu"),
    ("in", "in", "https://accounts.zoho.in", "https://desk.zoho.in"),
    ("com.au", "au", "https://accounts.zoho.com.au", "https://desk.zoho.com.au"),
    ("jp", "jp", "https://accounts.zoho.jp", "https://desk.zoho.jp"),
    ("ca", "ca", "https://accounts.zohocloud.ca", "https://desk.zohocloud.ca"),
    ("sa", "sa", "https://accounts.zoho.sa", "https://desk.zoho.sa"),
    ("uk", "uk", "https://accounts.zoho.uk", None),
    ("com.cn", "cn", "https://accounts.zoho.com.cn", "https://desk.zoho.com.cn"),
]


def test_data_center_keys_are_exactly_the_documented_regions() -> None:
    assert list(DATA_CENTERS) == [row[0] for row in EXPECTED]


@pytest.mark.parametrize(("region", "location", "accounts", "desk"), EXPECTED)
def test_accounts_server_maps_to_that_data_centers_desk_host(
    region: str, location: str, accounts: str, desk: str | None
) -> None:
    assert DATA_CENTERS[region].accounts_url == accounts
    assert desk_url_for_accounts_server(accounts, None) == desk
    # Zoho URL-encodes accounts-server; a trailing slash or upper case must not matter.
    assert desk_url_for_accounts_server(accounts.upper() + "/", None) == desk


@pytest.mark.parametrize(("region", "location", "accounts", "desk"), EXPECTED)
def test_location_alone_maps_to_that_data_centers_desk_host(
    region: str, location: str, accounts: str, desk: str | None
) -> None:
    dc = data_center_for(None, location)
    assert dc is not None and dc.code == region
    assert desk_url_for_accounts_server(None, location.upper()) == desk


def test_accounts_server_wins_over_a_disagreeing_location() -> None:
    assert desk_url_for_accounts_server("https://accounts.zoho.eu", "us") == "https://desk.zoho.eu"


def test_unknown_server_and_location_map_to_nothing() -> None:
    assert desk_url_for_accounts_server("http://127.0.0.1:9000", None) is None
    assert desk_url_for_accounts_server(None, "mars") is None
    assert desk_url_for_accounts_server(None, None) is None


def test_canada_is_zohocloud_not_zoho_ca() -> None:
    assert resolve_urls("ca", None, None) == (
        "https://accounts.zohocloud.ca",
        "https://desk.zohocloud.ca",
    )


def test_region_defaults_apply_when_no_url_is_given() -> None:
    assert resolve_urls("eu", None, None) == ("https://accounts.zoho.eu", "https://desk.zoho.eu")


def test_explicit_urls_win_over_the_region_and_lose_trailing_api_path() -> None:
    accounts, desk = resolve_urls("com", "http://127.0.0.1:9000/", "http://127.0.0.1:9001/api/v1/")
    assert accounts == "http://127.0.0.1:9000"
    assert desk == "http://127.0.0.1:9001"


def test_uk_without_desk_url_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_urls("uk", None, None)
    assert "zoho.desk_url" in str(caught.value)
    assert caught.value.hint is not None and "--desk-url" in caught.value.hint


def test_uk_with_desk_url_is_accepted() -> None:
    assert resolve_urls("uk", None, "https://desk.example.uk") == (
        "https://accounts.zoho.uk",
        "https://desk.example.uk",
    )


def test_unknown_region_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_urls("mars", None, None)
    assert caught.value.hint is not None and "com.au" in caught.value.hint


def test_non_http_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        resolve_urls("com", "ftp://accounts.zoho.com", None)


def test_desk_scopes_cover_what_ringodesk_calls() -> None:
    scopes = DESK_SCOPES.split(",")
    for needed in (
        "Desk.basic.READ",
        "Desk.settings.ALL",
        "Desk.tickets.ALL",
        "Desk.contacts.ALL",
        "Desk.calls.ALL",
        "Desk.tasks.ALL",
        "Desk.search.READ",
    ):
        assert needed in scopes
    # Not in Zoho's scope list (OAS Common.json); Desk.tasks.ALL covers call attachments.
    assert "Desk.activities.calls.UPDATE" not in scopes
    assert " " not in DESK_SCOPES
