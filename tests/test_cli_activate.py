"""`activate`, `auth`, `agents`, `manager` in-process, with Zoho behind requests-mock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests_mock as rm

from ringodesk_cli.config.settings import Paths, Settings

ACCOUNTS = "https://accounts.zoho.eu"
DESK = "https://desk.zoho.eu"
SECRET = "client-secret-7f3a9c"
ACCESS = "1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REFRESH = "1000.cccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddd"
AGENTS = [
    {"id": "101", "name": "Olga Senior", "emailId": "olga@example.com", "status": "ACTIVE"},
    {"id": "102", "name": "Anna Agent", "emailId": "anna@example.com", "status": "ACTIVE"},
    {"id": "103", "name": "Gone Agent", "emailId": "gone@example.com", "status": "DISABLED"},
]


@pytest.fixture
def zoho(requests_mock: rm.Mocker) -> rm.Mocker:
    requests_mock.post(
        f"{ACCOUNTS}/oauth/v2/token",
        json={"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600},
    )
    requests_mock.get(
        f"{DESK}/api/v1/accessibleOrganizations",
        json={"data": [{"id": "777", "companyName": "Zylker"}]},
    )
    requests_mock.get(
        f"{DESK}/api/v1/departments",
        json={
            "data": [
                {"id": "9001", "name": "Sales", "isDefault": True, "isEnabled": True},
                {"id": "9002", "name": "Support", "isDefault": False, "isEnabled": True},
            ]
        },
    )
    requests_mock.get(f"{DESK}/api/v1/agents", json={"data": AGENTS})
    return requests_mock


def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")
    return path


def activate_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "activate",
        "--no-input",
        "--region",
        "eu",
        "--client-id",
        "1000.CLIENT",
        "--client-secret-file",
        str(secret_file(tmp_path)),
        "--grant-code",
        "1000.grantcode.abc",
        "--senior-manager",
        "olga@example.com",
        *extra,
    ]


def test_activate_no_input_driven_by_flags_alone(cli, zoho, tmp_path, memory_keyring) -> None:
    result = cli(*activate_args(tmp_path, "--task-deadline", "2h", "--json"))
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["org"] == {"id": "777", "name": "Zylker"}
    assert data["department"]["id"] == "9001"  # the default department
    assert data["senior_manager"]["id"] == "101"
    assert data["task_deadline"] == "2h"
    settings = Settings.load("default", Paths.discover())
    assert settings.get("zoho.org_id") == "777"
    assert settings.get("integration.senior_manager") == "101"
    text = settings.path.read_text()
    assert SECRET not in text and REFRESH not in text and ACCESS not in text
    assert memory_keyring.store[("ringodesk", "default:refresh_token")] == REFRESH
    assert memory_keyring.store[("ringodesk", "default:client_secret")] == SECRET
    token_call = zoho.request_history[0]
    assert token_call.method == "POST"
    assert "grant_type=authorization_code" in (token_call.text or "")
    assert SECRET not in token_call.url  # secrets travel in the body, not the URL


def test_recordings_are_off_without_input_and_on_with_the_flag(cli, zoho, tmp_path) -> None:
    result = cli(*activate_args(tmp_path, "--json"))
    assert result.code == 0, result.stderr
    assert result.json()["recordings_attach"] is False
    assert Settings.load("default", Paths.discover()).raw("recordings.attach") is None
    result = cli(*activate_args(tmp_path, "--json", "--attach-recordings"))
    assert result.code == 0, result.stderr
    assert result.json()["recordings_attach"] is True
    assert Settings.load("default", Paths.discover()).get("recordings.attach") is True


def test_activate_no_input_names_the_missing_flag(cli, zoho, tmp_path) -> None:
    args = [a for a in activate_args(tmp_path) if a not in ("--senior-manager", "olga@example.com")]
    result = cli(*args)
    assert result.code == 2
    assert "--senior-manager" in result.stderr
    assert "Traceback" not in result.stderr


def test_activate_without_any_sign_in_flag_names_grant_code(cli, zoho, tmp_path) -> None:
    args = activate_args(tmp_path)
    i = args.index("--grant-code")
    del args[i : i + 2]
    result = cli(*args)
    assert result.code == 2
    assert "--grant-code" in result.stderr


def test_activate_refuses_a_disabled_senior_manager(cli, zoho, tmp_path) -> None:
    args = activate_args(tmp_path)
    args[args.index("olga@example.com")] = "gone@example.com"
    result = cli(*args)
    assert result.code == 2
    assert "DISABLED" in result.stderr


def test_reactivation_keeps_mappings_and_links(cli, zoho, tmp_path) -> None:
    assert cli(*activate_args(tmp_path)).code == 0
    path = Paths.discover().config_file("default")
    path.write_text(
        path.read_text()
        + '\n# my links\n[employees]\nanna_sip = "102"\n\n[mapping.ticket]\nlanding = "cf_x"\n'
    )
    assert cli(*activate_args(tmp_path, "--task-deadline", "90m")).code == 0
    text = path.read_text()
    assert "# my links" in text
    settings = Settings.load("default", Paths.discover())
    assert settings.table("employees") == {"anna_sip": "102"}
    assert settings.table("mapping.ticket") == {"landing": "cf_x"}
    assert settings.get("integration.task_deadline") == "90m"


def test_token_error_under_http_200_is_an_auth_failure(cli, zoho, tmp_path) -> None:
    zoho.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    result = cli(*activate_args(tmp_path))
    assert result.code == 4
    assert "invalid_code" in result.stderr
    assert "ringodesk activate" in result.stderr


def test_agents_list_json_and_manager_set(cli, zoho, tmp_path) -> None:
    assert cli(*activate_args(tmp_path)).code == 0
    rows = cli("agents", "list", "--json").json()
    assert [r["id"] for r in rows] == ["101", "102", "103"]
    assert rows[2]["status"] == "DISABLED"
    assert rows[0]["senior_manager"] is True
    result = cli("manager", "set", "anna@example.com")
    assert result.code == 0
    assert Settings.load("default", Paths.discover()).get("integration.senior_manager") == "102"
    shown = cli("manager", "show", "--json").json()
    assert shown["email"] == "anna@example.com"


def test_manager_set_unknown_agent_suggests_close_match(cli, zoho, tmp_path) -> None:
    assert cli(*activate_args(tmp_path)).code == 0
    result = cli("manager", "set", "ana@example.com")
    assert result.code == 2
    assert "anna@example.com" in result.stderr


def test_commands_before_activation_say_run_activate(cli) -> None:
    result = cli("agents", "list")
    assert result.code == 4
    assert "ringodesk activate" in result.stderr


def test_auth_status_reports_store_and_working_token(cli, zoho, tmp_path) -> None:
    assert cli(*activate_args(tmp_path)).code == 0
    data = cli("auth", "status", "--json").json()
    assert data["token"] == "works"
    assert data["store"]["store"].startswith("keyring")
    zoho.get(
        f"{DESK}/api/v1/accessibleOrganizations",
        status_code=401,
        json={"errorCode": "INVALID_OAUTH", "message": "The OAuth token is invalid"},
    )
    zoho.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    result = cli("auth", "status", "--json")
    assert result.code == 4
    assert result.json()["token"] == "broken"


def test_auth_logout_revokes_and_deletes(cli, zoho, tmp_path, memory_keyring) -> None:
    assert cli(*activate_args(tmp_path)).code == 0
    zoho.post(f"{ACCOUNTS}/oauth/v2/token/revoke", json={"status": "success"})
    result = cli("auth", "logout", "--json")
    assert result.code == 0
    assert result.json()["revoked_at_zoho"] is True
    assert ("ringodesk", "default:refresh_token") not in memory_keyring.store
    assert cli("agents", "list").code == 4


def test_verbose_run_never_prints_a_secret_or_token(cli, zoho, tmp_path) -> None:
    outputs = []
    outputs.append(cli("-v", *activate_args(tmp_path)))
    outputs.append(cli("-v", "agents", "list", "--json"))
    outputs.append(cli("-v", "auth", "status", "--json"))
    outputs.append(cli("-v", "config", "show", "--json"))
    zoho.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    outputs.append(cli("-v", *activate_args(tmp_path)))
    assert outputs[0].code == 0
    assert outputs[-1].code == 4
    everything = "\n".join(o.stdout + o.stderr for o in outputs)
    assert "ringodesk.desk" in everything or "GET" in everything  # -v really logged
    for secret in (SECRET, ACCESS, REFRESH):
        assert secret not in everything
    assert not re.search(r"1000\.[0-9a-f]{32}", everything)


# -- the wizard as a library call, with a scripted conversation ------------------------------


class Scripted:
    """Answers the wizard's questions from a script and records what was asked."""

    def __init__(self, interactive: bool = True) -> None:
        self.interactive = interactive
        self.asked: list[str] = []
        self.told: list[str] = []
        self.offered: dict[str, list[str]] = {}

    def ask(self, question: str, default: str | None = None) -> str:
        self.asked.append(question)
        answers = {
            "Zoho data center": "eu",
            "Task processing deadline": "3h",
            "Time zone of Ringostat's call times": "Europe/Warsaw",
            "Attach call recordings to the call activities in Zoho Desk? (yes/no)": "yes",
        }
        return answers.get(question, "1000.CLIENT")

    def tell(self, message: str) -> None:
        self.told.append(message)

    def choose(self, title, items, key, label=None) -> str:  # type: ignore[no-untyped-def]
        self.asked.append(title)
        self.offered[title] = [str(i["id"]) for i in items]
        if title.startswith("Business hours"):
            return str(items[-1]["id"])
        return "9002" if title == "Department" else "102"

    def grant_code(self) -> str | None:
        return "1000.grantcode.abc"

    def client_secret(self, stored: bool) -> str | None:
        return None if stored else SECRET

    def ringostat_key(self) -> str | None:
        return None

    def show_device_code(self, code) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("no device flow was asked for")

    def open_consent_page(self, url: str) -> None:
        raise AssertionError("a grant code was given")


def test_interactive_wizard_asks_only_what_flags_and_profile_leave_open(zoho) -> None:
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import activate

    talk = Scripted()
    session = Session.open("default", Paths.discover())
    result = activate(session, ActivationRequest(), talk)
    assert talk.asked == [
        "Zoho data center",
        "OAuth client id (api-console.zoho.com)",
        "Department",  # one organization: nothing to choose
        "Senior manager (owns missed-call work)",
        "Task processing deadline",
        "Time zone of Ringostat's call times",
        "Attach call recordings to the call activities in Zoho Desk? (yes/no)",
    ]
    assert talk.offered["Senior manager (owns missed-call work)"] == ["101", "102"]  # active
    assert (result.department["id"], result.senior_manager["id"]) == ("9002", "102")
    assert result.task_deadline == "3h" and result.signed_in == "grant-code"
    saved = Settings.load("default", Paths.discover())
    assert saved.get("zoho.department_id") == "9002"
    assert saved.get("integration.senior_manager") == "102"
    assert saved.get("recordings.attach") is True and result.attach_recordings

    again = Scripted()
    activate(Session.open("default", Paths.discover()), ActivationRequest(org="777"), again)
    assert again.asked == []  # everything is in the profile now


def test_the_wizard_asks_which_business_hours_when_several_sets_are_active(zoho) -> None:
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import HOURS_QUESTION, activate

    zoho.get(
        f"{DESK}/api/v1/businessHours",
        json={
            "data": [
                {"id": "41", "name": "Support 9-18", "status": "ACTIVE"},
                {"id": "42", "name": "Sales 10-19", "status": "ACTIVE"},
                {"id": "43", "name": "Old hours", "status": "INACTIVE"},
            ]
        },
    )
    settings = Settings.load("default", Paths.discover())
    settings.set("integration.deadline_in", "business-hours")
    settings.save()
    talk = Scripted()
    activate(Session.open("default", Paths.discover()), ActivationRequest(), talk)
    assert talk.offered[HOURS_QUESTION] == ["41", "42"]  # the active sets only
    assert Settings.load("default", Paths.discover()).get("integration.business_hours") == "42"

    again = Scripted()
    activate(Session.open("default", Paths.discover()), ActivationRequest(org="777"), again)
    assert again.asked == []  # chosen once, kept in the profile


def test_non_interactive_wizard_without_a_manager_stops_before_using_the_code(zoho) -> None:
    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import activate

    session = Session.open("default", Paths.discover())
    request = ActivationRequest(region="eu", client_id="1000.CLIENT")
    with pytest.raises(UsageError, match="no senior manager"):
        activate(session, request, Scripted(interactive=False))
    assert zoho.request_history == []  # the single-use grant code was not spent


def test_wizard_does_not_ask_for_the_data_center_when_both_hosts_are_given(zoho) -> None:
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import activate

    talk = Scripted()
    request = ActivationRequest(accounts_url=ACCOUNTS, desk_url=DESK, client_id="1000.CLIENT")
    activate(Session.open("default", Paths.discover()), request, talk)
    assert "Zoho data center" not in talk.asked
    assert Settings.load("default", Paths.discover()).raw("zoho.region") is None

    only_one = Scripted()
    request = ActivationRequest(accounts_url=ACCOUNTS, client_id="1000.CLIENT")
    activate(Session.open("other", Paths.discover()), request, only_one)
    assert only_one.asked[0] == "Zoho data center"  # the Desk host still follows from it


class Typo(Scripted):
    """Answers the time-zone question with a typo first, then the offered default."""

    def ask(self, question: str, default: str | None = None) -> str:
        if question.startswith("Time zone") and not self.told:
            self.asked.append(question)
            return "Europe/Kiev2"
        if question.startswith("Time zone"):
            self.asked.append(question)
            return default or ""
        return super().ask(question, default)


def test_wizard_re_asks_a_time_zone_it_does_not_know_and_offers_kyiv_on_a_utc_system(
    zoho, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import activate

    monkeypatch.setenv("TZ", "UTC")
    talk = Typo()
    result = activate(Session.open("default", Paths.discover()), ActivationRequest(), talk)
    assert talk.asked.count("Time zone of Ringostat's call times") == 2
    assert "'Europe/Kiev2' is not an IANA time zone" in talk.told[0]
    assert result.timezone == "Europe/Kyiv"
    assert "system zone is UTC" in result.timezone_reason
    assert Settings.load("default", Paths.discover()).raw("ringostat.timezone") == "Europe/Kyiv"


@pytest.mark.parametrize(
    ("system", "flag", "chosen", "reason"),
    [
        ("UTC", None, "Europe/Kyiv", "the system zone is UTC"),
        ("Etc/UTC", None, "Europe/Kyiv", "the system zone is Etc/UTC"),
        ("Europe/Warsaw", None, "Europe/Warsaw", "the system zone"),
        ("UTC", "America/New_York", "America/New_York", "--timezone"),
    ],
)
def test_activate_says_which_time_zone_it_chose_and_saves_it(
    cli, zoho, tmp_path, monkeypatch: pytest.MonkeyPatch, system, flag, chosen, reason
) -> None:
    monkeypatch.setenv("TZ", system)
    extra = ("--timezone", flag) if flag else ()
    result = cli(*activate_args(tmp_path, *extra))
    assert result.code == 0, result.stderr
    assert f"time zone       {chosen} ({reason}" in result.stdout
    assert Settings.load("default", Paths.discover()).raw("ringostat.timezone") == chosen
    # Re-activating keeps the profile's zone whatever the system says.
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    again = cli(*activate_args(tmp_path, "--json"))
    assert again.json()["timezone"] == {"name": chosen, "reason": "kept from the profile"}


def test_activate_refuses_an_unknown_time_zone_before_spending_the_grant_code(
    cli, zoho, tmp_path
) -> None:
    result = cli(*activate_args(tmp_path, "--timezone", "Kyiv"))
    assert result.code == 2
    assert "--timezone: 'Kyiv' is not an IANA time zone like Europe/Kyiv" in result.stderr
    assert zoho.request_history == []


def test_a_command_that_cannot_get_the_token_lock_exits_busy_with_its_reason(
    cli, zoho, tmp_path, isolated_home, monkeypatch
) -> None:
    import fcntl
    import os

    from ringodesk_cli.zoho import tokens

    assert cli(*activate_args(tmp_path)).code == 0
    (cache_file,) = isolated_home.rglob("zoho-token.json")
    cache_file.unlink()  # the next command must refresh, so it needs the token lock
    lock_path = cache_file.with_name("zoho-token.json.lock")
    sent_before = sum(1 for r in zoho.request_history if r.url.startswith(ACCOUNTS))

    class Clock:  # `sleep` moves `monotonic` on: the 90 s wait takes no real time
        now = 0.0

        @classmethod
        def monotonic(cls) -> float:
            return cls.now

        @classmethod
        def sleep(cls, seconds: float) -> None:
            cls.now += seconds

    monkeypatch.setattr(tokens, "time", Clock)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        result = cli("agents", "list")
    finally:
        os.close(fd)
    assert result.code == 7, result
    assert f"another ringodesk process has held {lock_path} for 90 s" in result.stderr
    assert "another ringodesk run holds the lock" in result.stderr  # the hint
    assert sum(1 for r in zoho.request_history if r.url.startswith(ACCOUNTS)) == sent_before
