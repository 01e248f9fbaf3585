"""The local contact index over HTTP stand-ins (requests-mock): a build 99 a page that
resumes where it stopped, a refresh that costs one request (ascending from an offset taken
from the count, never the undocumented ``-`` form), look-ups that normalise every typed
format, and the fallback to a search above ``contacts.index_max``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as rm

from ringodesk_cli.contacts.finder import ContactFinder
from ringodesk_cli.contacts.index import BUILD_FROM, WATERMARK, ContactIndex
from ringodesk_cli.errors import ZohoUnavailableError
from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.zoho.desk import DeskClient

ROOT = "https://desk.example"
LIST = re.compile(r"^https://desk\.example/api/v1/contacts(\?.*)?$")
COUNT = re.compile(r"^https://desk\.example/api/v1/contacts/count")
VIEWS = re.compile(r"^https://desk\.example/api/v1/views")
VIEW_ID = "5000000000123"
SEARCH = re.compile(r"^https://desk\.example/api/v1/contacts/search")


class Tokens:
    def access_token(self) -> str:
        return "t"

    def invalidate(self, token: str) -> None:
        return None


def query(request: Any) -> dict[str, str]:
    """The query as sent (requests-mock's own ``qs`` lower-cases it)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def stamp(n: int) -> str:
    return f"2026-01-{1 + n // 1440:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00.000Z"


class FakeZoho:
    """GET /contacts (1-based ``from``, 0 read as 1, ``sortBy`` plain or ``-``) and
    /contacts/count over a list of contacts."""

    def __init__(self, n: int, *, desc_ok: bool = True, fail_at: int | None = None) -> None:
        self.contacts = [
            {
                "id": str(1000 + i),
                "phone": f"+380 (44) 1{i:02d}-{i % 100:02d}-00" if i % 3 else None,
                "mobile": f"067-2{i:02d}-00-{i % 100:02d}" if i % 3 == 0 else None,
                "createdTime": stamp(i),
                "modifiedTime": stamp(i),
            }
            for i in range(n)
        ]
        self.desc_ok = desc_ok
        self.fail_at = fail_at  # a `from` that answers 500 (Zoho down half-way)
        self.lists: list[dict[str, str]] = []
        self.counts: list[dict[str, str]] = []

    def list(self, request: Any, context: Any) -> Any:
        q = query(request)
        self.lists.append(q)
        sort = q.get("sortBy", "")
        if sort.startswith("-") and not self.desc_ok:
            context.status_code = 422
            return {"errorCode": "UNPROCESSABLE_ENTITY", "message": "sortBy"}
        start = max(1, int(q.get("from", "1")))
        if self.fail_at is not None and start >= self.fail_at:
            context.status_code = 500
            return {"errorCode": "INTERNAL_SERVER_ERROR"}
        key = sort.lstrip("-").lower()
        field = "modifiedTime" if key == "modifiedtime" else "createdTime"
        rows = sorted(self.contacts, key=lambda c: c[field], reverse=sort.startswith("-"))
        page = rows[start - 1 : start - 1 + int(q["limit"])]
        if not page:
            context.status_code = 204
            return None
        return {"data": page}

    def count(self, request: Any, context: Any) -> Any:
        self.counts.append(query(request))
        if query(request).get("viewId") != VIEW_ID:  # Contact.json: viewId required
            context.status_code = 422
            return {"errorCode": "UNPROCESSABLE_ENTITY", "message": "'viewId'"}
        return {"count": str(len(self.contacts))}

    def views(self, request: Any, context: Any) -> Any:
        assert query(request) == {"module": "contacts"}
        mine = {"id": "5000000000999", "name": "My Contacts", "isCustomView": True}
        return {"data": [mine, {"id": VIEW_ID, "name": "All Contacts", "isCustomView": False}]}

    def mount(self, m: rm.Mocker) -> None:
        m.get(VIEWS, json=self.views)
        m.get(COUNT, json=self.count)
        m.get(LIST, json=self.list)


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    led = Ledger(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


def desk() -> DeskClient:
    return DeskClient(ROOT, Tokens(), "1", sleep=lambda _s: None, max_attempts=2)


def test_a_build_lists_99_a_page_and_indexes_every_typed_format(ledger: Ledger) -> None:
    zoho = FakeZoho(250)
    index = ContactIndex(ledger, "UA")
    with rm.Mocker() as m:
        zoho.mount(m)
        assert index.sync(desk()) == "built"
    assert {q["limit"] for q in zoho.lists} == {"99"}
    assert len(zoho.lists) == 3  # 250 contacts: three pages
    status = index.status()
    assert (status.contacts, status.without_number, status.building) == (250, 0, False)
    assert [c.contact_id for c in index.candidates("+380441050500")] == ["1005"]
    assert [c.contact_id for c in index.candidates("+380672060006")] == ["1006"]
    assert index.ready


def test_a_build_cut_short_resumes_from_its_cursor(ledger: Ledger) -> None:
    zoho = FakeZoho(300, fail_at=190)
    index = ContactIndex(ledger, "UA")
    with rm.Mocker() as m, pytest.raises(ZohoUnavailableError):
        zoho.mount(m)
        index.sync(desk())
    assert ledger.meta(BUILD_FROM) == "198"  # pages from 0 and 99 are in
    assert index.status().building and not index.ready
    assert index.status().contacts == 197  # 1-based: `from=99` repeats the 99th
    zoho.fail_at = None
    zoho.lists.clear()
    with rm.Mocker() as m:
        zoho.mount(m)
        assert index.sync(desk()) == "built"
    assert [q["from"] for q in zoho.lists] == ["198", "297"]  # not from the start
    assert index.status().contacts == 300


@pytest.mark.parametrize("desc_ok", [True, False])
def test_a_refresh_reads_only_what_changed_without_a_descending_sort(
    ledger: Ledger, desc_ok: bool
) -> None:
    zoho = FakeZoho(500, desc_ok=desc_ok)
    index = ContactIndex(ledger, "UA")
    with rm.Mocker() as m:
        zoho.mount(m)
        index.sync(desk())
        zoho.contacts.append(
            {"id": "9999", "phone": "050 777 88 99", "mobile": None,
             "createdTime": "2027-01-01T00:00:00.000Z",
             "modifiedTime": "2027-01-01T00:00:00.000Z"}
        )  # fmt: skip
        zoho.contacts[3]["phone"] = "(044) 999-99-99"
        zoho.contacts[3]["modifiedTime"] = "2027-01-02T00:00:00.000Z"
        zoho.lists.clear()
        assert index.sync(desk()) == "refreshed"
    # 501 contacts counted with the all-contacts view: one page from 404 ends the list.
    assert zoho.lists == [{"sortBy": "modifiedTime", "from": "404", "limit": "99"}]
    assert zoho.counts[-1] == {"viewId": VIEW_ID}
    assert [c.contact_id for c in index.candidates("+380507778899")] == ["9999"]
    assert [c.contact_id for c in index.candidates("+380449999999")] == ["1003"]
    assert index.candidates("+380441030300") == []  # its old number is gone


def test_above_index_max_nothing_is_listed_and_the_search_is_verified(ledger: Ledger) -> None:
    zoho = FakeZoho(20)
    index = ContactIndex(ledger, "UA", index_max=10)
    searched: list[dict[str, str]] = []

    def search(request: Any, context: Any) -> Any:
        searched.append(query(request))
        if "mobile" in searched[-1]:
            near = {"id": "7", "mobile": "067 123 45 60", "modifiedTime": "x"}
            return {"data": [near, {"id": "8", "mobile": "067 123 45 67", "modifiedTime": "y"}]}
        context.status_code = 204
        return None

    with rm.Mocker() as m:
        zoho.mount(m)
        m.get(SEARCH, json=search)
        client = desk()
        assert index.sync(client) == "search"
        finder = ContactFinder(client, "UA", index)
        assert finder.contact_by_number("+380671234567") == "8"
    assert zoho.lists == []
    assert [sorted(q) for q in searched] == [["limit", "phone"], ["limit", "mobile"]]
    assert searched[0]["phone"] == "*671234567*"
    assert not index.ready and index.status().reason


def test_several_contacts_on_a_number_the_newest_wins_and_counts_ambiguous(
    ledger: Ledger,
) -> None:
    index = ContactIndex(ledger, "UA")
    zoho = FakeZoho(0)
    with rm.Mocker() as m:
        zoho.mount(m)
        index.sync(desk())
    for cid, phone, modified in (
        ("1", "+380 63 444 55 66", "2026-01-01T00:00:00.000Z"),
        ("2", "063-444-55-66", "2026-03-01T00:00:00.000Z"),
        ("3", "380634445566", "2026-02-01T00:00:00.000Z"),
    ):
        index.add({"id": cid, "phone": phone, "modifiedTime": modified})
    finder = ContactFinder(desk(), "UA", index)
    assert finder.contact_by_number("+380634445566") == "2"
    assert finder.ambiguous == 1
    assert finder.contact_by_number("+380634445567") is None


def test_a_refused_merge_is_reported_and_the_other_groups_go_on(ledger: Ledger) -> None:
    from ringodesk_cli.contacts.duplicates import duplicate_groups, merge_groups

    index = ContactIndex(ledger, "UA")
    people = [
        ("1", "+380 63 444 55 66", "2025-03-04"), ("2", "063-444-55-66", "2025-03-05"),
        ("3", "(032) 245-67-89", "2025-03-07"), ("4", "+380322456789", "2025-03-08"),
    ] + [(str(10 + k), "044 500 00 00", f"2025-04-{k + 1:02d}") for k in range(6)]  # fmt: skip
    for cid, phone, created in people:
        index.add({"id": cid, "phone": phone, "createdTime": created, "modifiedTime": created})
    groups = duplicate_groups(index, shared_max=5)
    assert [(g.number, len(g.contacts), g.switchboard) for g in groups] == [
        ("+380322456789", 2, False),
        ("+380445000000", 6, True),
        ("+380634445566", 2, False),
    ]
    with rm.Mocker() as m:
        m.post(
            f"{ROOT}/api/v1/contacts/3/merge",
            status_code=422,
            json={"errorCode": "INVALID_DATA", "message": "portal user"},
        )
        m.post(f"{ROOT}/api/v1/contacts/1/merge", json={"id": "1", "phone": "063-444-55-66"})
        outcomes = merge_groups(desk(), index, groups)
        sent = [(r.path, r.json()) for r in m.request_history]
    assert sent == [
        ("/api/v1/contacts/3/merge", {"ids": ["3", "4"]}),
        ("/api/v1/contacts/1/merge", {"ids": ["1", "2"]}),
    ]  # into the oldest; the switchboard never
    assert [(o.survivor, o.merged, bool(o.error)) for o in outcomes] == [
        ("3", [], True),
        ("1", ["2"], False),
    ]
    assert [c.contact_id for c in index.candidates("+380634445566")] == ["1"]
    assert len(index.candidates("+380322456789")) == 2


# The clock is injected; its value comes from the machine's so that nothing here rots.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def zoho_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def modified(zoho: FakeZoho, minutes_ago: list[int]) -> None:
    for contact, ago in zip(zoho.contacts, minutes_ago, strict=True):
        contact["createdTime"] = contact["modifiedTime"] = zoho_time(NOW - timedelta(minutes=ago))


@pytest.mark.parametrize(
    ("minutes_ago", "watermark_minutes_ago"),
    [
        ([5, 4, 3, 2, 1], 10),  # changes newer than the margin: the clock less 10 minutes
        ([300, 200, 150, 130, 120], 120),  # all older: the newest change seen
        ([20, 15, 12, 11, 10], 10),  # the newest exactly at the margin
    ],
)
def test_the_watermark_is_the_start_less_the_clock_margin_or_the_newest_change(
    ledger: Ledger, minutes_ago: list[int], watermark_minutes_ago: int
) -> None:
    zoho = FakeZoho(5)
    modified(zoho, minutes_ago)
    index = ContactIndex(ledger, "UA", clock=lambda: NOW)
    with rm.Mocker() as m:
        zoho.mount(m)
        assert index.sync(desk()) == "built"
    assert ledger.meta(WATERMARK) == zoho_time(NOW - timedelta(minutes=watermark_minutes_ago))


def test_a_refresh_reads_a_change_stamped_exactly_at_the_watermark(ledger: Ledger) -> None:
    zoho = FakeZoho(5)
    modified(zoho, [5, 4, 3, 2, 1])
    index = ContactIndex(ledger, "UA", clock=lambda: NOW)
    with rm.Mocker() as m:
        zoho.mount(m)
        index.sync(desk())  # watermark: NOW - 10 min
        # Two contacts the build did not see, stamped by a Zoho clock behind ours: one
        # exactly at the watermark (read), one a minute before it (taken as seen).
        zoho.contacts += [
            {"id": "2001", "phone": "050 777 88 01", "mobile": None,
             "createdTime": zoho_time(NOW - timedelta(minutes=10)),
             "modifiedTime": zoho_time(NOW - timedelta(minutes=10))},
            {"id": "2002", "phone": "050 777 88 02", "mobile": None,
             "createdTime": zoho_time(NOW - timedelta(minutes=11)),
             "modifiedTime": zoho_time(NOW - timedelta(minutes=11))},
        ]  # fmt: skip
        assert index.sync(desk()) == "refreshed"
    assert [c.contact_id for c in index.candidates("+380507778801")] == ["2001"]
    assert index.candidates("+380507778802") == []


def test_a_refresh_steps_back_while_the_first_row_read_is_still_new(ledger: Ledger) -> None:
    zoho = FakeZoho(300)  # stamped in January 2026: the watermark is the newest of them
    index = ContactIndex(ledger, "UA", clock=lambda: NOW)
    with rm.Mocker() as m:
        zoho.mount(m)
        index.sync(desk())
        # 150 contacts change after the build: more than the one page read from near the end.
        for n, contact in enumerate(zoho.contacts[:150]):
            contact["phone"], contact["mobile"] = f"+38050{7000000 + n}", None
            contact["modifiedTime"] = zoho_time(NOW + timedelta(seconds=n))
        zoho.lists.clear()
        assert index.sync(desk()) == "refreshed"
    # From 203 (the last page) the first row is new: back to 104, whose first row is old.
    assert [q["from"] for q in zoho.lists] == ["203", "104", "203"]  # 104-202, 203-300
    found = [c.contact_id for n in range(150) for c in index.candidates(f"+38050{7000000 + n}")]
    assert found == [str(1000 + n) for n in range(150)]
