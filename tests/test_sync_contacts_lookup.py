"""Finding a number's contact in Zoho's fuzzy search answers: only real matches count, and
of several the most recently modified wins (whatever order Zoho lists them in)."""

from __future__ import annotations

from typing import Any

import pytest

from ringodesk_cli.contacts.finder import ContactFinder


class SearchOnlyDesk:
    """The one Desk call a contact look-up makes, answered from a fixed list."""

    def __init__(self, hits: list[dict[str, Any]]) -> None:
        self.hits = hits
        self.searches: list[dict[str, str]] = []

    def search_contacts(self, **query: str) -> list[dict[str, Any]]:
        self.searches.append(query)
        return list(self.hits)


def contact(cid: str, modified: str, phone: str = "", mobile: str = "") -> dict[str, Any]:
    return {"id": cid, "phone": phone, "mobile": mobile, "modifiedTime": modified}


@pytest.mark.parametrize("reverse", [False, True])
def test_the_most_recently_modified_match_wins_in_any_order(reverse: bool) -> None:
    hits = [
        contact("1", "2026-01-05T10:00:00.000Z", phone="+380671234567"),
        contact("2", "2026-03-01T09:30:00.000Z", mobile="067 123 45 67"),
        contact("3", "2026-02-11T23:59:59.000Z", phone="(067) 123-45-67"),
        # Newest of all, but a different number that Zoho's free-text search also returned.
        contact("4", "2026-04-01T00:00:00.000Z", phone="+380671234568"),
    ]
    desk = SearchOnlyDesk(hits[::-1] if reverse else hits)
    lookup = ContactFinder(desk, "UA")  # type: ignore[arg-type]
    assert lookup.contact_by_number("+380671234567") == "2"
    assert lookup.ambiguous == 1
    assert len(desk.searches) == 1


def test_a_single_match_is_not_ambiguous_and_a_near_miss_is_no_match() -> None:
    desk = SearchOnlyDesk([contact("9", "2026-01-01T00:00:00.000Z", phone="+380671234567")])
    lookup = ContactFinder(desk, "UA")  # type: ignore[arg-type]
    assert lookup.contact_by_number("+380671234567") == "9"
    assert lookup.ambiguous == 0
    desk.hits = [contact("8", "2026-01-01T00:00:00.000Z", phone="+380671234560")]
    assert lookup.contact_by_number("+380671234567") is None
    assert lookup.ambiguous == 0
