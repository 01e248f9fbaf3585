"""Texts from templates: one golden file per language for every text ringodesk writes, the
[rs:<id>] marker in every subject whatever a template does, overrides from [templates], and
the problems `config check` and `doctor` report with file, line and key."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.errors import ConfigError
from ringodesk_cli.ringostat.records import CallRecord, Direction, Employee, Outcome
from ringodesk_cli.rules.planner import Policy, plan_call, policy_from_settings
from ringodesk_cli.rules.templates import (
    LANGUAGES,
    PLACEHOLDERS,
    SUBJECT_MAX,
    Texts,
    problems,
    shipped,
)

GOLDEN = Path(__file__).parent / "data" / "templates"
START = datetime(2026, 12, 3, 8, 42, 5, tzinfo=UTC)
POLICY = Policy(
    senior_manager="900",
    department_id="50",
    task_deadline=timedelta(hours=4),
    employees={"anna_sip": "901"},
    ticket_fields={"rs_utm_source": "cf_rs_utm_source"},
)


def call(
    rid: str,
    *,
    call_type: str = "in",
    outcome: Outcome = Outcome.ANSWERED,
    employee: Employee | None = None,
    utm: dict[str, str] | None = None,
) -> CallRecord:
    answered = outcome is Outcome.ANSWERED
    return CallRecord(
        ringostat_id=rid,
        started_at=START,
        call_type=call_type,
        direction=Direction.OUTBOUND if call_type == "out" else Direction.INBOUND,
        disposition="ANSWERED" if answered else "NO ANSWER",
        outcome=outcome,
        talk_seconds=125 if answered else 0,
        total_seconds=140,
        client_number="+380671234567",
        our_number="+380443334455",
        employee=employee,
        recording_url="https://rec.example.com/ua-1.mp3" if answered else None,
        call_card_url=f"https://app.ringostat.com/call-card/{rid}",
        utm=MappingProxyType(utm or {}),
        google_client_id="178.171" if utm else None,
        extra=MappingProxyType({}),
        source="calls.csv",
        line=2,
    )


ANNA = Employee("Анна Коваленко", "+380441110001", "anna_sip")
CASES = {
    "answered by a linked agent, with UTM": call(
        "ua-1.1", employee=ANNA, utm={"utm_source": "google", "utm_campaign": "кухні"}
    ),
    "missed inbound": call("ua-1.2", outcome=Outcome.MISSED),
    "answered on an unlinked SIP": call("ua-1.3", employee=Employee(None, None, "reception_sip")),
    "outbound, not answered": call(
        "ua-1.4", call_type="out", outcome=Outcome.MISSED, employee=ANNA
    ),
    "a UTM too long for its field": call("ua-1.5", employee=ANNA, utm={"utm_source": "u" * 300}),
}


def texts_of(policy: Policy) -> str:
    """Every text of every case, in a stable order: what the golden files hold."""
    out = []
    for name, record in CASES.items():
        plan = plan_call(record, policy)
        bodies = [("contact", plan.contact), ("ticket", plan.ticket), ("call", plan.call)]
        bodies += [(f"task {n}", body) for n, (_, body) in enumerate(plan.tasks, 1)]
        for what, body in bodies:
            if body is None:
                continue
            for key in ("subject", "description"):
                if key in body:
                    out.append(f"== {name} / {what} / {key} ==\n{body[key]}\n")
    return "\n".join(out)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_matches_its_golden_file(language: str) -> None:
    text = texts_of(replace(POLICY, texts=Texts(language)))
    golden = GOLDEN / f"{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_every_text_and_only_known_placeholders(language: str) -> None:
    texts = shipped(language)
    assert set(texts) == set(PLACEHOLDERS)
    Texts(language)  # compiles: no unknown placeholder, no broken brace
    for record in CASES.values():
        plan = plan_call(record, replace(POLICY, texts=Texts(language)))
        subjects = [plan.call["subject"], *(b["subject"] for _, b in plan.tasks)]
        subjects += [plan.ticket["subject"]] if plan.ticket else []
        assert all(s.endswith(f" [rs:{record.ringostat_id}]") for s in subjects)


def test_the_default_is_english_the_old_texts() -> None:
    plan = plan_call(CASES["missed inbound"], POLICY)
    assert plan.ticket is not None
    assert plan.ticket["subject"] == "Missed call from +380 67 123 4567 [rs:ua-1.2]"
    assert plan.call["subject"] == "Inbound call from +380 67 123 4567 (no answer) [rs:ua-1.2]"
    assert plan.tasks[0][1]["subject"] == "Call back +380 67 123 4567 [rs:ua-1.2]"


def test_a_line_whose_placeholders_are_all_empty_is_left_out() -> None:
    policy = replace(POLICY, texts=Texts("uk"))
    missed = plan_call(CASES["missed inbound"], policy).call["description"]
    assert "Співробітник:" not in missed and "Запис:" not in missed
    answered = plan_call(CASES["answered by a linked agent, with UTM"], policy).call["description"]
    assert "Співробітник: Анна Коваленко, +380441110001, anna_sip" in answered
    assert "utm_campaign: кухні" in answered and "utm_medium" not in answered


@pytest.mark.parametrize("template", ["Дзвінок {client_number}", "{marker} Дзвінок {client_number}",
                                      "Дзвінок {marker} від {client_number}"])  # fmt: skip
@pytest.mark.parametrize("rid_length", [5, 240])
def test_the_marker_is_always_in_a_subject_whole_and_at_most_255(
    template: str, rid_length: int
) -> None:
    rid = "ua-" + "7" * (rid_length - 3)
    texts = Texts("uk", {"call_subject_inbound": template + " " + "ж" * 300 * (rid_length > 5)})
    subject = plan_call(call(rid), replace(POLICY, texts=texts)).call["subject"]
    assert subject.count(f"[rs:{rid}]") == 1
    assert len(subject) <= SUBJECT_MAX
    if rid_length > 5:
        assert subject.endswith(f" [rs:{rid}]") and len(subject) == SUBJECT_MAX


def _profile(tmp_path: Path, body: str) -> Settings:
    paths = Paths(config_dir=tmp_path / "config", state_root=tmp_path / "state")
    paths.config_dir.mkdir(parents=True)
    base = 'zoho.department_id = "50"\nintegration.senior_manager = "900"\n'
    paths.config_file("default").write_text(base + body, encoding="utf-8")
    return Settings.load("default", paths)


def test_overrides_and_language_come_from_the_profile(tmp_path: Path) -> None:
    override = 'task_subject_missed = "Перезвонить клиенту {client_number} {marker}"\n'
    settings = _profile(tmp_path, 'integration.language = "ru"\n[templates]\n' + override)
    plan = plan_call(CASES["missed inbound"], policy_from_settings(settings))
    assert plan.tasks[0][1]["subject"] == "Перезвонить клиенту +380 67 123 4567 [rs:ua-1.2]"
    assert plan.call["subject"].startswith("Входящий звонок от +380 67 123 4567 (пропущен)")
    english = plan_call(CASES["missed inbound"], policy_from_settings(_profile(tmp_path / "b", "")))
    assert english.call["subject"].startswith("Inbound call from")


def test_an_unknown_placeholder_is_refused_with_file_line_and_key(tmp_path: Path) -> None:
    settings = _profile(tmp_path, '[templates]\nticket_subject = "Дзвінок {client} {marker}"\n')
    with pytest.raises(ConfigError) as caught:
        policy_from_settings(settings)
    message = str(caught.value)
    assert f"{settings.path}:4: templates.ticket_subject: unknown placeholder {{client}}" in message
    assert caught.value.line == 4 and caught.value.key == "templates.ticket_subject"


def test_problems_name_unknown_keys_broken_braces_and_a_dropped_marker(tmp_path: Path) -> None:
    settings = _profile(tmp_path, "[templates]\n"
                        'call_subject_inbound = "Дзвінок {client_number}"\n'
                        'ticket_title = "x"\n'
                        'description = "Від: {caller"\n')  # fmt: skip
    found = {(p.key, p.line, p.fatal): p.message for p in problems(settings)}
    assert set(found) == {("call_subject_inbound", 4, False), ("ticket_title", 5, True),
                          ("description", 6, True)}  # fmt: skip
    assert "drops the [rs:<id>] marker" in found[("call_subject_inbound", 4, False)]
    assert str(problems(settings)[0]).startswith(
        f"{settings.path}:4: templates.call_subject_inbound"
    )


# -- `config check` and `doctor` ----------------------------------------------------------------
def _write_profile(body: str) -> Path:
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[zoho]\ndepartment_id = "50"\n' + body, encoding="utf-8")
    return path


def test_config_check_reports_each_template_problem_with_file_line_and_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ringodesk_cli.main import invoke

    path = _write_profile('[templates]\nticket_subject = "Дзвінок {client_number}"\n'
                          'description = "Від: {who}"\n')  # fmt: skip
    assert invoke(["config", "check"]) == 3
    err = capsys.readouterr().err
    assert f"{path}:4: templates.ticket_subject: drops the [rs:<id>] marker" in err
    assert f"{path}:5: templates.description: unknown placeholder {{who}}" in err
    _write_profile('[templates]\nticket_subject = "Дзвінок {client_number} {marker}"\n')
    assert invoke(["config", "check"]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


def test_doctor_fails_the_settings_check_on_a_template_problem(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from ringodesk_cli.doctor.local_checks import check_settings

    body = ('[zoho]\nclient_id = "1000.C"\norg_id = "42"\ndepartment_id = "7"\n'
            '[templates]\ncall_subject_inbound = "Дзвінок {client_number}"\n')  # fmt: skip
    path = tmp_path / "default.toml"
    path.write_text(body, encoding="utf-8")
    session = SimpleNamespace(
        profile="default",
        settings=Settings("default", path, body),
        urls=lambda: ("https://accounts.example.test", "https://desk.example.test"),
    )
    result = check_settings(session)  # type: ignore[arg-type]
    assert not result.ok and result.exit_code == 3
    assert f"{path}:6: templates.call_subject_inbound: drops the [rs:<id>] marker" in result.detail


def test_an_outbound_call_nobody_took_is_unanswered_not_missed() -> None:
    from ringodesk_cli.rules.call_texts import call_values

    outbound = call("o-1", call_type="out", outcome=Outcome.MISSED)
    inbound = call("i-1", outcome=Outcome.MISSED)
    expected = {"uk": ("без відповіді", "пропущений"), "ru": ("без ответа", "пропущен"),
                "en": ("no answer", "missed")}  # fmt: skip
    for language, (unanswered, missed) in expected.items():
        texts = Texts(language)
        assert call_values(outbound, texts)["outcome"] == unanswered
        assert call_values(inbound, texts)["outcome"] == missed


@pytest.mark.parametrize(
    ("language", "call_type", "status", "type_text", "status_text"),
    [
        ("uk", "in", "ANSWERED", "вхідний", "прийнятий"),
        ("uk", "callback", "CLIENT NO ANSWER", "зворотний дзвінок", "клієнт не відповів"),
        ("uk", "out", "BUSY", "вихідний", "зайнято"),
        ("uk", "transitin", "VOICEMAIL", "вхідний транзитний", "голосова пошта"),
        ("ru", "in", "NO ANSWER", "входящий", "без ответа"),
        ("ru", "callback", "FAILED", "обратный звонок", "ошибка соединения"),
        ("ru", "out", "PROPER", "исходящий", "целевой"),
        ("en", "callback", "NO ANSWER", "callback", "NO ANSWER"),  # English keeps the codes
        ("uk", "in", "SOMETHING NEW", "вхідний", "SOMETHING NEW"),  # unknown: as written
    ],
)
def test_ringostat_values_are_translated_in_descriptions(
    language: str, call_type: str, status: str, type_text: str, status_text: str
) -> None:
    texts = Texts(language)
    assert texts.value("call_types", call_type) == type_text
    assert texts.value("statuses", status) == status_text


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_ringostat_status_and_call_type_has_a_word(language: str) -> None:
    from ringodesk_cli.ringostat import records

    texts = Texts(language)
    known = (
        records.ANSWERED_DISPOSITIONS
        | records.MISSED_DISPOSITIONS
        | records.IN_PROGRESS_DISPOSITIONS
    )
    for status in known:
        word = texts.value("statuses", status)
        assert word != status and not word.isascii(), status
    for call_type in records.CALL_TYPES:
        assert not texts.value("call_types", call_type).isascii(), call_type


# Plain assertions, written by hand, for what the golden files above also hold: a golden
# file rewritten by UPDATE_GOLDEN cannot hide a regression in these.
def test_an_outbound_call_is_from_our_number_to_the_client() -> None:
    plan = plan_call(CASES["outbound, not answered"], POLICY)
    assert plan.call["subject"] == "Outbound call to +380 67 123 4567 (no answer) [rs:ua-1.4]"
    lines = plan.call["description"].splitlines()
    assert lines[:5] == [
        "From: +380443334455",
        "To: +380671234567",
        "Direction: outbound (out)",
        "Ringostat status: NO ANSWER",
        "Talk time: 0 s; total: 140 s",
    ]
    assert plan.ticket is None and "Recording:" not in plan.call["description"]


def test_an_unlinked_sip_gets_a_link_task_naming_it() -> None:
    plan = plan_call(CASES["answered on an unlinked SIP"], POLICY)
    ((_, task),) = plan.tasks
    assert (
        task["subject"] == "Link Ringostat employee reception_sip to a Zoho Desk agent [rs:ua-1.3]"
    )
    assert task["description"].startswith(
        "A call was answered on reception_sip, which is linked to no Zoho Desk agent. "
        "Link it with `ringodesk employees link KEY AGENT`.\n\nFrom: +380671234567\n"
    )
    assert "\nEmployee: reception_sip\n" in plan.call["description"]


def test_a_value_cut_to_fit_its_field_is_kept_whole_in_the_description() -> None:
    plan = plan_call(CASES["a UTM too long for its field"], POLICY)
    assert plan.ticket is not None
    assert plan.ticket["cf"]["cf_rs_utm_source"] == "u" * 254 + "…"  # 255 characters
    assert plan.ticket["description"].endswith(
        "\nValues cut to fit their fields, in full:\nrs_utm_source: " + "u" * 300
    )


@pytest.mark.parametrize(
    ("talk", "duration"),
    [(0, "0:00"), (5, "0:05"), (60, "1:00"), (125, "2:05"), (609, "10:09"), (3600, "60:00")],
)
def test_duration_is_minutes_and_zero_padded_seconds(talk: int, duration: str) -> None:
    texts = Texts("en", MappingProxyType({"call_subject_inbound": "{duration} {marker}"}))
    record = replace(CASES["missed inbound"], talk_seconds=talk)
    assert plan_call(record, replace(POLICY, texts=texts)).call["subject"] == (
        f"{duration} [rs:ua-1.2]"
    )
