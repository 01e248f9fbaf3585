"""The from/limit walker: 0- and 1-based servers, overlaps, 204s, duplicate ids (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from ringodesk_cli.errors import InvalidDataError, ZohoUnavailableError
from ringodesk_cli.zoho.paging import Pager, endpoint_key, rows_of


def _records(n: int) -> list[dict[str, Any]]:
    return [{"id": str(1000 + i), "n": i} for i in range(n)]


class FakeServer:
    """A list endpoint. ``first`` is the index Zoho's ``from`` starts at (0 or 1);
    ``zero`` says what a 1-based server does with ``from=0``: "reject", "as-one", "empty"."""

    def __init__(
        self, records: list[dict[str, Any]], *, first: int = 1, zero: str = "reject"
    ) -> None:
        self.records = records
        self.first = first
        self.zero = zero
        self.calls: list[tuple[int, int]] = []

    def __call__(self, params: dict[str, Any]) -> Any:
        start, limit = int(params["from"]), int(params["limit"])
        self.calls.append((start, limit))
        if self.first == 1 and start == 0:
            if self.zero == "reject":
                raise InvalidDataError(
                    "from invalid", status=422, error_code="UNPROCESSABLE_ENTITY"
                )
            if self.zero == "empty":
                return None
            start = 1
        offset = start - self.first
        page = self.records[offset : offset + limit]
        return {"data": page} if page else None  # Zoho: 204, no body, when empty


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


@pytest.mark.parametrize("zero", ["reject", "as-one", "empty"])
def test_one_based_server_yields_every_record_once_whatever_it_does_with_from_zero(
    zero: str,
) -> None:
    server = FakeServer(_records(7), first=1, zero=zero)
    rows = list(Pager().walk(server, "/agents", None, 3))
    assert _ids(rows) == _ids(_records(7))
    assert server.calls[0] == (1, 3)  # the reference's advice: start at from=1


def test_zero_based_server_does_not_lose_its_first_record() -> None:
    server = FakeServer(_records(7), first=0)
    rows = list(Pager().walk(server, "/contacts/search", {"phone": "1"}, 3))
    assert sorted(_ids(rows)) == _ids(_records(7))
    assert len(rows) == 7
    assert rows[0]["id"] == "1000"


def test_zero_based_search_with_a_single_match_finds_it() -> None:
    server = FakeServer(_records(1), first=0)
    rows = list(Pager().walk(server, "/contacts/search", None, 50))
    assert _ids(rows) == ["1000"]


def test_probe_happens_once_per_endpoint_then_the_learnt_base_is_used() -> None:
    pager = Pager()
    zero_based = FakeServer(_records(2), first=0)
    list(pager.walk(zero_based, "/calls/search", None, 10))
    zero_based.calls.clear()
    assert _ids(list(pager.walk(zero_based, "/calls/search", None, 10))) == ["1000", "1001"]
    assert zero_based.calls == [(0, 10)]

    one_based = FakeServer(_records(2), first=1)
    list(pager.walk(one_based, "/tickets/{id}/calls", None, 10))
    one_based.calls.clear()
    list(pager.walk(one_based, "/tickets/{id}/calls", None, 10))
    assert one_based.calls == [(1, 10)]


def test_endpoint_still_unknown_after_two_empty_answers_is_probed_again() -> None:
    pager = Pager()
    server = FakeServer([], first=0)
    assert list(pager.walk(server, "/tasks/search", None, 5)) == []
    assert pager.first_index("/tasks/search") is None
    server.records = _records(1)
    assert _ids(list(pager.walk(server, "/tasks/search", None, 5))) == ["1000"]
    assert pager.first_index("/tasks/search") == 0


def test_exact_multiple_of_limit_then_204_stops_cleanly() -> None:
    server = FakeServer(_records(6), first=1)
    rows = list(Pager().walk(server, "/departments", None, 3))
    assert len(rows) == 6
    assert server.calls == [(1, 3), (0, 3), (4, 3), (7, 3)]


def test_short_page_ends_the_walk_without_another_request() -> None:
    server = FakeServer(_records(5), first=1)
    list(Pager().walk(server, "/departments", None, 3))
    assert server.calls == [(1, 3), (0, 3), (4, 3)]


def test_overlapping_pages_are_deduplicated_by_id() -> None:
    records = _records(6)
    pages = {1: records[0:3], 4: records[2:5], 7: records[4:6]}  # each page repeats one

    def fetch(params: dict[str, Any]) -> Any:
        if params["from"] == 0:
            raise InvalidDataError("from invalid", status=422)
        return {"data": pages.get(params["from"], [])}

    assert _ids(list(Pager().walk(fetch, "/x", None, 3))) == _ids(records)


def test_duplicate_ids_inside_a_page_are_yielded_once() -> None:
    def fetch(params: dict[str, Any]) -> Any:
        if params["from"] == 0:
            raise InvalidDataError("from invalid", status=422)
        return {"data": [{"id": "1"}, {"id": "1"}, {"id": "2"}]} if params["from"] == 1 else None

    assert _ids(list(Pager().walk(fetch, "/x", None, 3))) == ["1", "2"]


def test_server_ignoring_from_stops_after_a_page_of_already_seen_ids() -> None:
    calls: list[int] = []

    def fetch(params: dict[str, Any]) -> Any:
        calls.append(params["from"])
        return {"data": [{"id": "1"}, {"id": "2"}]}

    assert _ids(list(Pager().walk(fetch, "/x", None, 2))) == ["1", "2"]
    assert calls == [1, 0, 3]


def test_rows_without_id_are_deduplicated_by_content() -> None:
    def fetch(params: dict[str, Any]) -> Any:
        return {"data": [{"name": "a"}, {"name": "a"}, {"name": "b"}]}

    assert list(Pager().walk(fetch, "/x", None, 5)) == [{"name": "a"}, {"name": "b"}]


def test_probe_failure_other_than_a_refusal_propagates() -> None:
    def fetch(params: dict[str, Any]) -> Any:
        if params["from"] == 0:
            raise ZohoUnavailableError("down", status=503)
        return None

    with pytest.raises(ZohoUnavailableError):
        list(Pager().walk(fetch, "/x", None, 5))


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(Pager().walk(lambda p: None, "/x", None, 0))


def test_endpoint_key_folds_numeric_ids() -> None:
    assert endpoint_key("/contacts/1892000000088017/tickets") == "/contacts/{id}/tickets"
    assert endpoint_key("/calls/3000000054002") == "/calls/{id}"
    assert endpoint_key("/calls/search?subject=x") == "/calls/search"


def test_rows_of_accepts_data_lists_bare_lists_and_nothing() -> None:
    assert rows_of({"data": [{"id": "1"}, "junk"]}) == [{"id": "1"}]
    assert rows_of([{"id": "2"}]) == [{"id": "2"}]
    assert rows_of(None) == []
    assert rows_of({"data": None}) == []
