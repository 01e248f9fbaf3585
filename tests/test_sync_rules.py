"""The team rules without I/O: [rules] and its per call type overrides, [[routing]] (first
match wins, any number format), and their validation with file:line: key errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ringodesk_cli.config.settings import Settings
from ringodesk_cli.errors import ConfigError
from ringodesk_cli.ringostat.records import Outcome
from ringodesk_cli.rules.planner import plan_call, policy_from_settings
from ringodesk_cli.rules.routing import (
    check_routes,
    parse_routes,
    resolve_routes,
    route_for,
    routing_report,
)
from ringodesk_cli.rules.rules import CallRules, Rules
from test_sync_planner import POLICY, record

BASE = """[zoho]
department_id = "50"
[integration]
senior_manager = "900"
"""


def settings(text: str, tmp_path: Path) -> Settings:
    path = tmp_path / "p.toml"
    path.write_text(BASE + text, encoding="utf-8")
    return Settings("p", path, path.read_text(encoding="utf-8"))


def test_rules_and_overrides_per_call_type(tmp_path: Path) -> None:
    s = settings(
        '[rules]\nmin_talk_seconds = 10\nmissed_task_for = "inbound"\n'
        '[rules.callback]\nticket_for_missed = false\n[rules.out]\nmissed_task_for = "all"\n',
        tmp_path,
    )
    rules = policy_from_settings(s).rules
    assert rules.for_call(record()).min_talk_seconds == 10
    callback = rules.for_call(record(call_type="callback"))
    assert (callback.min_talk_seconds, callback.ticket_for_missed) == (10, False)
    assert rules.for_call(record(call_type="out")).missed_task_for == "all"
    assert rules.for_call(record(call_type="in")) == rules.base


def test_a_short_answered_call_and_a_voicemail_get_an_activity_only() -> None:
    policy = replace(POLICY, rules=Rules(CallRules(min_talk_seconds=43, skip_voicemail=True)))
    short = plan_call(record(sip="nobody_sip"), policy)  # 42 s, unlinked: no link task either
    assert (short.ticket, short.tasks) == (None, ())
    assert plan_call(record(), replace(POLICY, rules=Rules(CallRules(min_talk_seconds=42)))).ticket
    voicemail = replace(record(outcome=Outcome.MISSED), disposition="VOICEMAIL")
    plan = plan_call(voicemail, policy)
    assert (plan.ticket, plan.tasks) == (None, ())
    assert plan_call(voicemail, POLICY).tasks  # without the rule: a call-back task


def test_missed_task_for_and_ticket_for_missed() -> None:
    missed_in = record(outcome=Outcome.MISSED)
    missed_cb = record(call_type="callback", outcome=Outcome.MISSED)
    missed_out = record(call_type="out", outcome=Outcome.MISSED)
    for which, expect in (
        ("inbound", (True, False, False)),
        ("inbound+callback", (True, True, False)),
        ("all", (True, True, True)),
    ):
        policy = replace(POLICY, rules=Rules(CallRules(missed_task_for=which)))
        got = tuple(bool(plan_call(r, policy).tasks) for r in (missed_in, missed_cb, missed_out))
        assert got == expect, which
    no_ticket = replace(POLICY, rules=Rules(CallRules(ticket_for_missed=False)))
    assert plan_call(missed_in, no_ticket).ticket is None
    assert plan_call(record(), no_ticket).ticket is not None


def test_routes_first_match_wins_in_any_number_format() -> None:
    routes = parse_routes(
        [
            {"dst": "+38 (044) 333-44-55", "department": "70", "senior_manager": "901"},
            {"pool": "Kyiv", "department": "80", "tickets": "never"},
            {"dst": "044 333 4455", "department": "90"},
        ],
        "UA",
    )
    call = record()  # dst +380443334455
    assert route_for(routes, call) == routes[0]
    plan = plan_call(call, replace(POLICY, routes=routes))
    assert plan.ticket is not None and plan.ticket["departmentId"] == "70"
    pooled = replace(record(), our_number="+380440000000", extra={"pool_name": " kyiv "})
    plan = plan_call(pooled, replace(POLICY, routes=routes))
    assert plan.ticket is None and plan.call["departmentId"] == "80"
    other = replace(record(), our_number="+380440000000")
    assert plan_call(other, replace(POLICY, routes=routes)).call["departmentId"] == "50"


def test_routes_are_checked_against_departments_and_agents() -> None:
    routes = parse_routes(
        [
            {"dst": "0443334455", "department": "Sales", "senior_manager": "a@x.example"},
            {"pool": "p", "department": "Nowhere"},
            {"pool": "q", "department": "1", "senior_manager": "gone@x.example"},
        ],
        "UA",
    )
    departments = [{"id": "1", "name": "Support"}, {"id": "2", "name": "Sales"}]
    agents = [
        {"id": "7", "emailId": "A@x.example", "status": "ACTIVE", "associatedDepartmentIds": ["2"]},
        {"id": "8", "emailId": "gone@x.example", "status": "DISABLED"},
    ]
    resolved, problems = check_routes(routes, departments, agents)
    assert (resolved[0].department, resolved[0].senior_manager) == ("2", "7")
    assert [str(p) for p in problems] == [
        "routing[2].department: no enabled department 'Nowhere'",
        "routing[3].senior_manager: 'gone@x.example' is a deactivated agent",
    ]


@pytest.mark.parametrize(
    ("text", "line", "key", "reason"),
    [
        ('[[routing]]\ndst = "1000"\ndepartment = "1"\n[[routing]]\ndepartment = "2"\n',
         8, "routing[2]", "exactly one of dst, pool, ringostat_department"),
        ('[[routing]]\npool = "a"\ndepartment = "1"\ntickets = "always"\n',
         8, "routing[1].tickets", "'always' is not one of"),
        ('[[routing]]\npool = "a"\ndepartmnt = "1"\n', 7, "routing[1].departmnt", "unknown key"),
        ('[rules]\nmissed_task_for = "some"\n', 6, "rules.missed_task_for", "is not one of"),
        ("[rules.out]\nskip_voicemail = 3\n", 6, "rules.out.skip_voicemail", "not true or false"),
    ],
)  # fmt: skip
def test_bad_rules_and_routes_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(text, tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 'p.toml'}:{line}: {key}: ")
    assert reason in str(caught.value)


class RoutingDesk:
    """`routing check`'s two listings, from fixed data."""

    def departments(self) -> list[dict[str, object]]:
        return [
            {"id": "1", "name": "Support", "isEnabled": True},
            {"id": "3", "name": "Archive", "isEnabled": False},
        ]

    def agents(self) -> list[dict[str, object]]:
        return [{"id": "7", "emailId": "a@x.example", "status": "ACTIVE"}]


def test_a_route_to_a_disabled_department_is_refused_by_id_or_name(tmp_path: Path) -> None:
    s = settings(
        '[[routing]]\npool = "a"\ndepartment = "Archive"\n'
        '[[routing]]\npool = "b"\ndepartment = "3"\n'
        '[[routing]]\npool = "c"\ndepartment = "support"\nsenior_manager = "a@x.example"\n',
        tmp_path,
    )
    report = routing_report(s, RoutingDesk())
    assert [(r["route"], r["ok"], r["department"]) for r in report] == [
        (1, False, "Archive"),
        (2, False, "3"),
        (3, True, "1"),
    ]
    assert report[0]["problems"] == ["routing[1].department: no enabled department 'Archive'"]
    assert report[1]["problems"] == ["routing[2].department: no enabled department '3'"]
    assert report[2]["senior_manager"] == "7"
    routes = parse_routes(s.array("routing"), "UA")
    with pytest.raises(ConfigError, match=r"routing\[1\]\.department: no enabled department"):
        resolve_routes(routes, RoutingDesk())


class NoListings:
    def departments(self) -> list[dict[str, object]]:
        raise AssertionError("routes given by id need no listing")

    agents = departments


def test_routes_by_id_need_no_look_up_and_names_are_resolved_to_ids() -> None:
    by_id = parse_routes([{"pool": "a", "department": "1", "senior_manager": "7"}], "UA")
    assert resolve_routes(by_id, NoListings()) == by_id
    by_name = parse_routes([{"pool": "a", "department": "Support"}], "UA")
    assert resolve_routes(by_name, RoutingDesk())[0].department == "1"
    by_email = parse_routes(
        [{"pool": "a", "department": "1", "senior_manager": "a@x.example"}], "UA"
    )
    assert resolve_routes(by_email, RoutingDesk())[0].senior_manager == "7"


def test_a_senior_manager_outside_the_route_s_department_is_a_problem() -> None:
    routes = parse_routes(
        [
            {"pool": "a", "department": "Support", "senior_manager": "b@x.example"},
            {"pool": "b", "department": "Sales", "senior_manager": "b@x.example"},
            {"pool": "c", "department": "Nowhere", "senior_manager": "b@x.example"},
        ],
        "UA",
    )
    departments = [{"id": "1", "name": "Support"}, {"id": "2", "name": "Sales"}]
    agents = [{"id": "8", "emailId": "b@x.example", "status": "ACTIVE",
               "associatedDepartmentIds": ["2"]}]  # fmt: skip
    _, problems = check_routes(routes, departments, agents)
    assert [str(p) for p in problems] == [
        "routing[1].senior_manager: 'b@x.example' is not in department 'Support'",
        "routing[3].department: no enabled department 'Nowhere'",
    ]
