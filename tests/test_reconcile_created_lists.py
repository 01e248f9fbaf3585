"""A lost create of a contact, or of a call or task without a ticket, is found at the end of
the module's list in ascending ``createdTime`` order (requests-mock stand-ins): no ``-``
sort (Zoho's files document none for GET /contacts, /calls, /tasks) and no search while
the list finds it. Offsets below are worked out by hand from the paging rules (1-based
``from``, pages of 99 overlapping by one when read backwards)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ringodesk_cli.delivery.reconcile import Reconciler, search_value
from ringodesk_cli.zoho.desk import DeskClient

HOST = "http://127.0.0.1:8802"
API = HOST + "/api/v1"
VIEW = "4000000000017"
NOW = datetime.now(UTC).replace(microsecond=0)


class Token:
    def access_token(self) -> str:
        return "tok-lists"

    def invalidate(self, token: str) -> None:
        pass


def _client() -> DeskClient:
    return DeskClient(HOST, Token(), "1", sleep=lambda _s: None, max_attempts=1)


def _q(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def _zoho_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AscendingList:
    """``n`` records, record ``i`` (1..n) created ``gap`` after record ``i - 1``, the last
    one an hour ago; ``from`` counts from 1; ``sortBy`` must be ``createdTime``."""

    def __init__(self, n: int, gap: timedelta, make: Any) -> None:
        first = NOW - timedelta(hours=1) - gap * (n - 1)
        self.rows = [
            {"id": str(i), "createdTime": _zoho_time(first + gap * (i - 1)), **make(i)}
            for i in range(1, n + 1)
        ]
        self.asked: list[dict[str, str]] = []

    def created(self, i: int) -> datetime:
        return datetime.fromisoformat(self.rows[i - 1]["createdTime"].replace("Z", "+00:00"))

    def __call__(self, request: Any, context: Any) -> Any:
        q = _q(request)
        self.asked.append(q)
        assert q["sortBy"] == "createdTime" and q["limit"] == "99"
        start = int(q["from"])
        page = self.rows[start - 1 : start - 1 + 99]
        if not page:
            context.status_code = 204
            return None
        return {"data": page}


def _calls(n: int, gap: timedelta, tagged: dict[int, str]) -> AscendingList:
    return AscendingList(n, gap, lambda i: {"subject": f"Call {tagged.get(i, f'[rs:other-{i}]')}"})


def test_a_lost_contact_is_found_in_the_last_page_located_by_the_count(requests_mock: Any) -> None:
    number = "+380671112233"
    people = AscendingList(
        250, timedelta(minutes=1), lambda i: {"phone": "067 111 22 33" if i == 249 else None}
    )
    requests_mock.get(API + "/contacts", json=people)
    requests_mock.get(
        API + "/views",
        json={"data": [{"id": "4000000000099", "name": "My Contacts", "isCustomView": True},
                       {"id": VIEW, "name": "All Contacts", "isCustomView": False}]},
    )  # fmt: skip
    requests_mock.get(API + "/contacts/count", json={"count": "250"})
    reconciler = Reconciler(_client(), "UA", "300")

    assert reconciler.recent_contact(number, since=people.created(249)) == "249"
    asked = [(r.path, _q(r)) for r in requests_mock.request_history]
    assert asked == [
        ("/api/v1/views", {"module": "contacts"}),
        ("/api/v1/contacts/count", {"viewId": VIEW}),
        # 250 - 99 + 2: the page from 153 holds 153..250, short whether `from` counts
        # from 0 or 1.
        ("/api/v1/contacts", {"sortBy": "createdTime", "from": "153", "limit": "99"}),
    ]
    requests_mock.reset_mock()
    assert reconciler.recent_contact("+380679999999", since=people.created(250)) is None
    # Kept for the run: the end is read again (153). Not found there, and record 153 is
    # only 97 minutes older than the call (the floor is a day back), so the list is read
    # back 98 at a time: 55 (55..153), then 1; there is nothing before.
    assert [_q(r)["from"] for r in requests_mock.request_history] == ["153", "55", "1"]


def test_the_count_without_a_view_is_the_fallback_when_views_are_refused(
    requests_mock: Any,
) -> None:
    requests_mock.get(API + "/views", status_code=403, json={"errorCode": "FORBIDDEN"})
    requests_mock.get(API + "/contacts/count", json={"count": "7"})
    assert _client().contacts_count() == 7
    assert [_q(r) for r in requests_mock.request_history] == [{"module": "contacts"}, {}]


def test_a_count_refused_with_and_without_its_view_is_unknown(requests_mock: Any) -> None:
    requests_mock.get(API + "/views", json={"data": [{"id": VIEW, "name": "All Contacts"}]})
    requests_mock.get(
        API + "/contacts/count",
        status_code=422,
        json={"errorCode": "UNPROCESSABLE_ENTITY", "message": "The value passed for 'viewId'"},
    )
    assert _client().contacts_count() is None
    counts = [_q(r) for r in requests_mock.request_history if r.path.endswith("/count")]
    assert counts == [{"viewId": VIEW}, {}]


def test_a_lost_call_without_a_ticket_is_found_by_probing_to_the_end(requests_mock: Any) -> None:
    calls = _calls(1000, timedelta(minutes=1), {990: "[rs:ua-990]", 1000: "[rs:ua-1000]"})
    requests_mock.get(API + "/calls", json=calls)
    reconciler = Reconciler(_client(), "UA", "300")

    found = reconciler.lost_create("call", "[rs:ua-990]", "77", None, since=calls.created(990))
    assert found is not None and found["id"] == "990"
    # No count for calls: pages from 1 (full: 1..99), 198 (full), 494 (full), 988 (13
    # records, the end): steps of 99, 198, 396, 792 from the last record seen.
    assert [q["from"] for q in calls.asked] == ["1", "198", "494", "988"]
    assert {q["departmentId"] for q in calls.asked} == {"300"}
    assert not any(r.path.endswith("/search") for r in requests_mock.request_history)

    calls.asked.clear()
    found = reconciler.lost_create("call", "[rs:ua-1000]", "77", None, since=calls.created(1000))
    assert found is not None and found["id"] == "1000"
    assert [q["from"] for q in calls.asked] == ["988"]  # the end, remembered


def test_a_lost_task_is_read_back_from_the_end_as_far_as_the_call(requests_mock: Any) -> None:
    tasks = _calls(1000, timedelta(minutes=1), {700: "[rs:ua-700]"})
    requests_mock.get(API + "/tasks", json=tasks)
    found = Reconciler(_client(), "UA", "300").lost_create(
        "task", "[rs:ua-700]", "77", None, since=tasks.created(700), department="301"
    )
    assert found is not None and found["id"] == "700"
    # The end (988), then back 98 at a time: 890, 792, 694 (which holds 700).
    assert [q["from"] for q in tasks.asked] == ["1", "198", "494", "988", "890", "792", "694"]
    assert {q["departmentId"] for q in tasks.asked} == {"301"}


def test_the_list_is_read_back_no_further_than_a_day_before_the_call(
    requests_mock: Any,
) -> None:
    calls = _calls(1000, timedelta(minutes=10), {})
    requests_mock.get(API + "/calls", json=calls)
    requests_mock.get(API + "/calls/search", status_code=204)
    found = Reconciler(_client(), "UA", "300").lost_create(
        "call", "[rs:ua-1]", "77", None, since=calls.created(990)
    )
    assert found is None
    # A day is 144 records 10 minutes apart: the floor is record 846. Pages from 890 (all
    # newer), then 792 (reaches before it): nothing further back, then the search.
    assert [q["from"] for q in calls.asked] == ["1", "198", "494", "988", "890", "792"]
    searched = [r for r in requests_mock.request_history if r.path.endswith("/search")]
    assert [_q(r) for r in searched] == [{"subject": "*[rs:ua-1]*", "limit": "50"}]
    assert search_value("[rs:ua-1]") == "*[rs:ua-1]*"


def test_a_search_zoho_refuses_for_its_scope_means_not_found(requests_mock: Any) -> None:
    requests_mock.get(API + "/tasks", status_code=204)
    requests_mock.get(
        API + "/tasks/search",
        status_code=401,
        json={"errorCode": "SCOPE_MISMATCH", "message": "The OAuth token lacks the scope."},
    )
    found = Reconciler(_client(), "UA", "300").lost_create("task", "[rs:x]", "77", None)
    assert found is None
