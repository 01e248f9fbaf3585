"""Employee links: who owns a call (R1, R4c, R7) and editing the [employees] table."""

from __future__ import annotations

import pytest

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.errors import UsageError
from ringodesk_cli.ringostat.records import Employee
from ringodesk_cli.setup.employees import (
    link,
    link_statuses,
    resolve_agent,
    resolve_owner,
    unlink,
)

AGENTS = [
    {"id": "111", "name": "Olena Petrenko", "emailId": "olena@example.com", "status": "ACTIVE"},
    {
        "id": "222",
        "firstName": "Ivan",
        "lastName": "Sirko",
        "emailId": "ivan@example.com",
        "status": "ACTIVE",
    },
    {"id": "333", "name": "Gone Agent", "emailId": "gone@example.com", "status": "DISABLED"},
]


def settings(text: str = "") -> Settings:
    paths = Paths.discover()
    path = paths.config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Settings.load("default", paths)


def test_unlinked_or_absent_employee_has_no_owner_so_the_senior_manager_gets_it() -> None:
    assert resolve_owner(None, {"Olena": "111"}) is None
    assert resolve_owner(Employee(name="Taras"), {"Olena": "111"}) is None
    assert resolve_owner(Employee(), {"Olena": "111"}) is None


def test_name_matches_ignoring_case_and_spacing() -> None:
    links = {"Olena  Petrenko": "111"}
    assert resolve_owner(Employee(name=" olena petrenko "), links) == "111"


def test_number_matches_on_digits_only() -> None:
    links = {"+380 (67) 123-45-67": "222"}
    assert resolve_owner(Employee(number="380671234567"), links) == "222"


def test_numeric_key_matches_a_sip_extension() -> None:
    assert resolve_owner(Employee(sip="101"), {"101": "111"}) == "111"


def test_sip_login_matches_case_insensitively_without_domain_or_prefix() -> None:
    links = {"sip:Olena_Office": "111"}
    assert resolve_owner(Employee(sip="olena_office@pbx.example"), links) == "111"


def test_sip_prefixed_key_does_not_match_a_name() -> None:
    assert resolve_owner(Employee(name="olena_office"), {"sip:olena_office": "111"}) is None


def test_name_key_does_not_match_a_number_and_vice_versa() -> None:
    assert resolve_owner(Employee(number="101"), {"Olena": "111"}) is None
    assert resolve_owner(Employee(name="101 Olena"), {"101": "111"}) is None


def test_sip_link_wins_over_name_link() -> None:
    links = {"Olena Petrenko": "111", "205": "222"}
    employee = Employee(name="Olena Petrenko", sip="205")
    assert resolve_owner(employee, links) == "222"


def test_resolve_agent_by_id_or_email_case_insensitively() -> None:
    assert resolve_agent("222", AGENTS)["id"] == "222"
    assert resolve_agent("OLENA@example.com", AGENTS)["id"] == "111"


def test_unknown_agent_is_refused_with_close_matches() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_agent("olena@exmple.com", AGENTS)
    assert "olena@exmple.com" in caught.value.message
    assert caught.value.hint and "olena@example.com" in caught.value.hint


def test_disabled_agent_is_refused() -> None:
    with pytest.raises(UsageError, match="DISABLED"):
        resolve_agent("333", AGENTS)


def test_link_writes_the_agent_id_and_keeps_comments() -> None:
    s = settings('# my links\n[employees]\n# the boss\n"Taras" = "222"\n')
    assert link(s, "Olena Petrenko", "olena@example.com", AGENTS) == "111"
    s.save()
    text = s.path.read_text()
    assert "# the boss" in text and "# my links" in text
    assert Settings.load("default", Paths.discover()).table("employees") == {
        "Taras": "222",
        "Olena Petrenko": "111",
    }


def test_link_replaces_an_equivalent_key_instead_of_adding_a_second() -> None:
    s = settings('[employees]\n"+380 67 123 4567" = "111"\n')
    link(s, "380671234567", "222", AGENTS)
    assert s.table("employees") == {"380671234567": "222"}


def test_link_refuses_a_disabled_agent_and_changes_nothing() -> None:
    original = '[employees]\nTaras = "222"\n'
    s = settings(original)
    with pytest.raises(UsageError):
        link(s, "Gone", "gone@example.com", AGENTS)
    assert s.text() == original


def test_link_refuses_an_empty_key() -> None:
    with pytest.raises(UsageError, match="empty"):
        link(settings(), "  ", "111", AGENTS)


def test_unlink_removes_an_equivalent_spelling_and_refuses_unknown_keys() -> None:
    s = settings('[employees]\n"Olena Petrenko" = "111"\n')
    assert unlink(s, "olena  petrenko") == "Olena Petrenko"
    assert s.table("employees") == {}
    with pytest.raises(UsageError, match="no employee link"):
        unlink(s, "Olena Petrenko")


def test_link_statuses_flag_unknown_and_disabled_agents() -> None:
    statuses = link_statuses({"a": "111", "b": "333", "c": "999"}, AGENTS)
    assert [(x.key, x.state) for x in statuses] == [
        ("a", "ok"),
        ("b", "disabled"),
        ("c", "unknown"),
    ]
    assert statuses[0].agent == "Olena Petrenko <olena@example.com>"


def test_resolve_owner_reads_an_employee_built_from_all_three_fields() -> None:
    employee = Employee(name=None, number="42", sip=None)
    assert resolve_owner(employee, {" 42 ": "111"}) == "111"
