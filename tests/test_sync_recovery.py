"""Recovering a lost ledger (delivery/recovery.py, zoho/desk_lists.py) against requests-mock:
the window's records found without a descending sort, under a `from` counted from 0 or from
1, and kept as done operations by their `[rs:<id>]` marker."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ringodesk_cli.delivery.recovery import (
    RecoveryReport,
    departments_of,
    marked_id,
    recover,
    recover_before_delivery,
    window_start,
)
from ringodesk_cli.errors import ZohoError
from ringodesk_cli.ledger.store import Ledger, OpKind
from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.zoho.desk_lists import created_since

HOST = "http://127.0.0.1:8801"
API = HOST + "/api/v1"
DEP = "5000000000101"
# The records' times are Zoho's answers, compared with the window given: no machine clock.
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Tokens:
    def access_token(self) -> str:
        return "tok-recovery"

    def invalidate(self, token: str) -> None:
        return None


def client() -> DeskClient:
    return DeskClient(HOST, Tokens(), "20080", sleep=lambda _s: None)


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rows(n: int, *, step: timedelta = timedelta(hours=1), subject: str = "Call [rs:c{i}]") -> list:
    return [
        {"id": str(1000 + i), "createdTime": z(T0 + i * step), "subject": subject.format(i=i),
         "departmentId": DEP}
        for i in range(n)
    ]  # fmt: skip


class ListServer:
    """One Desk list endpoint sorted by createdTime (ascending), ``from`` counted from
    ``base``; a 1-based server may refuse ``from=0`` (422)."""

    def __init__(self, records: list[dict[str, Any]], *, base: int, refuse_zero: bool = False):
        self.records = records
        self.base = base
        self.refuse_zero = refuse_zero
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: Any, context: Any) -> Any:
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.queries.append(query)
        start = int(query["from"])
        if start == 0 and self.base == 1 and self.refuse_zero:
            context.status_code = 422
            return {"errorCode": "UNPROCESSABLE_ENTITY", "message": "from"}
        offset = max(start - self.base, 0)
        page = self.records[offset : offset + int(query["limit"])]
        if not page:
            context.status_code = 204
            return None
        return {"data": page}


def serve(requests_mock: Any, module: str, server: ListServer) -> ListServer:
    requests_mock.get(f"{API}/{module}", json=server)
    return server


@pytest.mark.parametrize(("base", "refuse_zero"), [(1, False), (1, True), (0, False)])
def test_the_window_is_found_by_bisection_and_read_oldest_first(
    requests_mock: Any, base: int, refuse_zero: bool
) -> None:
    server = serve(requests_mock, "calls", ListServer(rows(10), base=base, refuse_zero=refuse_zero))
    found = created_since(client(), "calls", T0 + timedelta(hours=6), department_id=DEP)
    assert [r["id"] for r in found] == ["1006", "1007", "1008", "1009"]
    assert {q["sortBy"] for q in server.queries} == {"createdTime"}
    assert {q["departmentId"] for q in server.queries} == {DEP}


@pytest.mark.parametrize(("base", "refuse_zero"), [(1, False), (1, True), (0, False)])
def test_a_window_before_the_first_record_reads_them_all_under_either_base(
    requests_mock: Any, base: int, refuse_zero: bool
) -> None:
    serve(requests_mock, "tasks", ListServer(rows(5), base=base, refuse_zero=refuse_zero))
    found = created_since(client(), "tasks", T0 - timedelta(days=1), department_id=DEP)
    assert [r["id"] for r in found] == ["1000", "1001", "1002", "1003", "1004"]


def test_a_window_after_the_last_record_and_an_empty_list_find_nothing(
    requests_mock: Any,
) -> None:
    serve(requests_mock, "calls", ListServer(rows(3), base=1))
    serve(requests_mock, "tickets", ListServer([], base=1))
    assert created_since(client(), "calls", T0 + timedelta(days=2), department_id=DEP) == []
    assert created_since(client(), "tickets", T0, department_id=DEP) == []


def test_a_long_list_costs_a_few_probes_and_the_pages_of_the_window(requests_mock: Any) -> None:
    # 1000 records a minute apart; the window holds the last 150 (850..999).
    server = serve(
        requests_mock, "calls", ListServer(rows(1000, step=timedelta(minutes=1)), base=1)
    )
    found = created_since(client(), "calls", T0 + timedelta(minutes=850), department_id=DEP)
    assert [r["id"] for r in found] == [str(1000 + i) for i in range(850, 1000)]
    probes = [q for q in server.queries if q["limit"] == "1"]
    pages = [q for q in server.queries if q["limit"] == "99"]
    # Probes at 1, 2, 4 ... 1024 (11), then a bisection of 512..1024 (9 steps): 20.
    assert len(probes) == 20
    # The walk starts one record early (850, 1-based: the record 849) and reads 151 records:
    # pages from 850 (99 records) and 949 (52 records, the last).
    assert [q["from"] for q in pages] == ["850", "949"]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Incoming call +380 67 111 0001 [rs:1712345678.123]", "1712345678.123"),
        ("[rs:abc-1] Missed call", "abc-1"),
        ("Call back the client", None),
        ("[rs:] empty", None),
        (None, None),
    ],
)
def test_the_marker_gives_the_ringostat_id(subject: str | None, expected: str | None) -> None:
    assert marked_id(subject) == expected


def test_recover_keeps_ringodesks_records_as_done_operations(
    requests_mock: Any, tmp_path: Path
) -> None:
    calls = rows(4)  # [rs:c0] .. [rs:c3], one an hour from T0
    calls.append({"id": "2001", "createdTime": z(T0 + timedelta(hours=5)),
                  "subject": "A call an agent logged", "departmentId": DEP})  # fmt: skip
    tickets = [
        {"id": "3000", "createdTime": z(T0), "subject": "New caller [rs:c0]"},
        {
            "id": "3001",
            "createdTime": z(T0 + timedelta(minutes=1)),
            "subject": "A second ticket for [rs:c0]",
        },
        {"id": "3002", "createdTime": z(T0 - timedelta(days=3)), "subject": "[rs:old]"},
    ]
    tasks = [{"id": "4002", "createdTime": z(T0 + timedelta(hours=2)), "subject": "[rs:c2]"}]
    serve(requests_mock, "calls", ListServer(calls, base=1))
    serve(requests_mock, "tickets", ListServer(sorted(tickets, key=lambda r: r["createdTime"]),
                                               base=1))  # fmt: skip
    serve(requests_mock, "tasks", ListServer(tasks, base=1))
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.done("c3", OpKind.CALL, "9999")  # known before: kept as it is
    report = recover(ledger, client(), T0 - timedelta(hours=1), department_ids=[DEP, DEP])
    # By hand: calls c0, c1, c2 (c3 known, 2001 has no marker); ticket 3000 (3001 is a later
    # copy for c0, 3002 is outside the window); task 4002.
    assert (report.calls, report.tickets, report.tasks) == (3, 1, 1)
    assert ledger.op("c0", OpKind.CALL).done_id == "1000"  # type: ignore[union-attr]
    assert ledger.op("c2", OpKind.CALL).done_id == "1002"  # type: ignore[union-attr]
    assert ledger.op("c3", OpKind.CALL).done_id == "9999"  # type: ignore[union-attr]
    assert ledger.op("c0", OpKind.TICKET).done_id == "3000"  # type: ignore[union-attr]
    assert ledger.op("c2", OpKind.TASK).done_id == "4002"  # type: ignore[union-attr]
    assert ledger.op("old", OpKind.TICKET) is None
    ledger.close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        kinds = db.execute(
            "SELECT op, zoho_id FROM events WHERE ringostat_id = 'c0' AND kind = 'recovered'"
            " ORDER BY id"
        ).fetchall()
    assert kinds == [("ticket", "3000"), ("call", "1000")]


def test_the_window_starts_a_day_before_the_oldest_call_or_the_replay() -> None:
    oldest = T0 + timedelta(hours=5)
    assert window_start(oldest, None) == T0 + timedelta(hours=5) - timedelta(days=1)
    assert window_start(oldest, T0) == T0 - timedelta(days=1)
    assert window_start(None, T0) == T0 - timedelta(days=1)


def test_the_report_reads_as_counts() -> None:
    report = RecoveryReport(since="2026-03-01T08:00:00.000000Z", calls=4, tickets=2, tasks=1,
                            contacts=3)  # fmt: skip
    assert report.as_dict() == {"since": "2026-03-01T08:00:00.000000Z", "calls": 4,
                                "tickets": 2, "tasks": 1, "contacts": 3}  # fmt: skip
    assert str(report) == (
        "a new or emptied ledger: recovered from Zoho Desk what ringodesk made since "
        "2026-03-01T08:00:00.000000Z: 4 call activities, 2 tickets, 1 tasks, 3 contacts "
        "(none is created again)"
    )


def test_a_department_the_profile_does_not_name_is_skipped_when_zoho_refuses_it(
    requests_mock: Any, tmp_path: Path
) -> None:
    def by_department(request: Any, context: Any) -> Any:
        if "departmentId=77" in request.url:
            context.status_code = 422
            return {"errorCode": "UNPROCESSABLE_ENTITY", "message": "departmentId"}
        return ListServer(rows(2), base=1)(request, context)

    for module in ("calls", "tickets", "tasks"):
        requests_mock.get(f"{API}/{module}", json=by_department)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    report = recover(ledger, client(), T0, department_ids=[DEP, "77"], optional={"77"})
    # By hand: c0 and c1 in each list of DEP; 77 refused and left out.
    assert (report.calls, report.tickets, report.tasks) == (2, 2, 2)
    with pytest.raises(ZohoError):
        recover(ledger, client(), T0, department_ids=[DEP, "77"])
    ledger.close()


def test_the_profiles_departments_come_first_then_every_other(requests_mock: Any) -> None:
    requests_mock.get(
        f"{API}/departments", json={"data": [{"id": "11"}, {"id": DEP}, {"id": "12"}]}
    )
    policy = SimpleNamespace(
        department_id=DEP,
        routes=[SimpleNamespace(department="12"), SimpleNamespace(department="Sales")],
    )
    departments, optional = departments_of(policy, client())  # type: ignore[arg-type]
    assert (departments, optional) == ([DEP, "12", "11"], {"11"})


def runner_of(tmp_path: Path, desk: DeskClient) -> Any:
    from ringodesk_cli.delivery.summary import Summary

    return SimpleNamespace(to_attempt=1, desk=desk, summary=Summary(), finder=None)


def test_a_ledger_that_delivered_before_is_never_recovered(
    requests_mock: Any, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.done("c1", OpKind.CALL, "1001")
    runner = runner_of(tmp_path, client())
    policy = SimpleNamespace(department_id=DEP, routes=[])
    assert recover_before_delivery(runner, ledger, policy, None)  # type: ignore[arg-type]
    assert requests_mock.call_count == 0 and runner.summary.recovered is None
    ledger.close()


def test_a_refused_recovery_stops_the_run_before_any_create(
    requests_mock: Any, tmp_path: Path
) -> None:
    requests_mock.get(f"{API}/departments", json={"data": [{"id": DEP}]})
    requests_mock.get(f"{API}/tickets", status_code=422, json={"errorCode": "UNPROCESSABLE_ENTITY"})
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    runner = runner_of(tmp_path, client())
    policy = SimpleNamespace(department_id=DEP, routes=[])
    assert not recover_before_delivery(runner, ledger, policy, T0)  # type: ignore[arg-type]
    assert runner.summary.exit_code == 5 and runner.summary.pending == 1
    assert (runner.summary.stopped or "").startswith(
        "could not read back from Zoho Desk what ringodesk made before this ledger"
    )
    assert not any(r.method == "POST" for r in requests_mock.request_history)
    ledger.close()
