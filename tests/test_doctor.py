"""`ringodesk doctor`: every check passing and failing, the exit code, --json/--quiet/--profile.

Library checks run against small fakes, requests-mock (Zoho) or a real SQLite ledger; the
command runs in-process, over requests-mock and against the sandbox."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import keyring
import pytest
import requests
from keyring.backends import fail
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli import doctor
from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.doctor import CachedFields, CheckResult, overall_exit_code, run_doctor
from ringodesk_cli.doctor.results import from_error
from ringodesk_cli.errors import ExitCode, LedgerDamagedError
from ringodesk_cli.ledger.store import CallState, Ledger
from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.session import Session
from ringodesk_cli.zoho.desk import DeskClient

ACCOUNTS = "https://accounts.example.test"
DESK_ROOT = "https://desk.example.test"
DESK = DESK_ROOT + "/api/v1"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
# The six fields setup creates (seed R2, R10), written out: not read from the product.
LABELS = ("rs_utm_source", "rs_utm_medium", "rs_utm_campaign", "rs_utm_term", "rs_utm_content",
          "rs_google_client_id")  # fmt: skip

BASE = f"""[zoho]
client_id = "1000.CLIENT"
org_id = "42"
department_id = "7"
accounts_url = "{ACCOUNTS}"
desk_url = "{DESK_ROOT}"

[integration]
senior_manager = "111"
"""
RECORDED = "".join(
    f"[fields.{m}]\n" + "".join(f'{label} = "cf_{label}"\n' for label in LABELS)
    for m in ("tickets", "contacts")
)
AGENTS = [
    {"id": "111", "name": "Olena Petrenko", "emailId": "olena@example.com", "status": "ACTIVE"},
    {"id": "333", "name": "Gone Agent", "emailId": "gone@example.com", "status": "DISABLED"},
]


def settings_of(text: str, tmp_path: Path) -> Settings:
    return Settings("default", tmp_path / "default.toml", text)


def field(api: str, label: str, type_: str = "Text", custom: bool = True) -> dict[str, Any]:
    return {
        "id": api,
        "apiName": api,
        "displayLabel": label,
        "type": type_,
        "isCustomField": custom,
    }


def rs_fields() -> list[dict[str, Any]]:
    return [field("subject", "Subject", custom=False)] + [
        field(f"cf_{label}", label) for label in LABELS
    ]


class Tokens:
    def access_token(self) -> str:
        return "1000.access.token"

    def invalidate(self, token: str) -> None:
        return None


def desk_client() -> DeskClient:
    return DeskClient(DESK_ROOT, Tokens(), "42", sleep=lambda _s: None, max_attempts=1)


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


# -- exit code and result shape -------------------------------------------------------------------


def test_exit_code_is_the_most_severe_failure_auth_before_config_before_unavailable() -> None:
    def bad(code: ExitCode) -> CheckResult:
        return doctor.failed("x", "broken", "fix it", code)

    ok = doctor.passed("y", "fine")
    assert overall_exit_code([ok, ok]) == ExitCode.OK
    assert overall_exit_code([bad(ExitCode.UNAVAILABLE), bad(ExitCode.CONFIG)]) == 3
    assert overall_exit_code([bad(ExitCode.CONFIG), bad(ExitCode.AUTH), ok]) == 4
    assert overall_exit_code([bad(ExitCode.PARTIAL), bad(ExitCode.UNAVAILABLE)]) == 5
    assert overall_exit_code([bad(ExitCode.UNEXPECTED)]) == 1


def test_blocked_check_names_its_blocker_and_carries_its_code() -> None:
    token = doctor.failed("token", "revoked", "run `ringodesk activate`", ExitCode.AUTH)
    result = doctor.blocked("scopes", token)
    assert result.as_dict() == {
        "name": "scopes",
        "ok": False,
        "detail": "not checked: token failed",
        "fix": "fix token first",
        "skipped": True,
        "exit_code": 4,
    }


# -- settings ------------------------------------------------------------------------------------


def test_settings_check_passes_for_an_activated_profile(tmp_path: Path) -> None:
    path = tmp_path / "default.toml"
    path.write_text(BASE)
    session = SimpleNamespace(
        profile="default",
        settings=Settings("default", path, BASE),
        urls=lambda: (ACCOUNTS, DESK_ROOT),
    )
    result = doctor.check_settings(session)  # type: ignore[arg-type]
    assert result.ok and str(path) in result.detail


def test_settings_check_fails_without_a_file_or_a_department(tmp_path: Path) -> None:
    path = tmp_path / "default.toml"
    session = SimpleNamespace(
        profile="default",
        settings=Settings("default", path, ""),
        urls=lambda: (ACCOUNTS, DESK_ROOT),
    )
    missing = doctor.check_settings(session)  # type: ignore[arg-type]
    assert not missing.ok and missing.exit_code == 3 and "activate" in (missing.fix or "")

    path.write_text(BASE.replace('department_id = "7"\n', ""))
    session.settings = Settings("default", path, path.read_text())
    result = doctor.check_settings(session)  # type: ignore[arg-type]
    assert not result.ok and result.exit_code == 3
    assert "zoho.department_id not set" in result.detail


def test_invalid_settings_file_fails_settings_and_blocks_every_other_check(cli: Any) -> None:
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True)
    path.write_text('[zoho]\nconcurrency = "many"\n')
    result = cli("doctor", "--json")
    assert result.code == 3, result
    data = result.json()
    assert isinstance(data, list) and [c["name"] for c in data] == list(doctor.CHECKS)
    assert data[0]["ok"] is False and "zoho.concurrency" in data[0]["detail"]
    assert all(c["skipped"] and not c["ok"] for c in data[1:])


# -- credentials ---------------------------------------------------------------------------------


def _described(**described: Any) -> Any:
    return SimpleNamespace(credentials=SimpleNamespace(describe=lambda: described))


def test_credentials_check_says_where_each_secret_comes_from() -> None:
    session = _described(
        store="keyring (Memory)",
        secrets={"client_secret": "keyring", "refresh_token": "env RINGODESK_REFRESH_TOKEN"},
    )
    result = doctor.check_credentials(session)
    assert result.ok
    assert "refresh_token from env RINGODESK_REFRESH_TOKEN" in result.detail


def test_credentials_check_fails_with_auth_code_when_not_signed_in() -> None:
    session = _described(store="keyring (Memory)", secrets={"client_secret": "keyring"})
    result = doctor.check_credentials(session)
    assert not result.ok and result.exit_code == 4
    assert "refresh_token" in result.detail and result.fix == "run `ringodesk activate`"


def test_credentials_check_names_the_ways_out_when_no_keyring_works(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    from ringodesk_cli.credentials import CredentialStore

    store = CredentialStore("default", tmp_path)
    result = doctor.check_credentials(SimpleNamespace(credentials=store))  # type: ignore[arg-type]
    assert not result.ok and result.exit_code == 3
    assert "--insecure-storage" in (result.fix or "")


# -- token, organization, scopes (requests-mock) -----------------------------------------------


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RINGODESK_CLIENT_SECRET", "client-secret-value")
    monkeypatch.setenv("RINGODESK_REFRESH_TOKEN", "1000.refresh.token")
    path = Paths.discover().config_file("default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BASE + RECORDED)
    return path


def open_session() -> Session:
    return Session.open("default", Paths.discover())


TOKEN = {"access_token": "1000.aaaa.bbbb", "expires_in": 3600, "token_type": "Bearer"}


def test_token_check_refreshes_once_then_reuses_the_cached_token(
    requests_mock: Any, profile: Path
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json=TOKEN)
    first = doctor.check_token(open_session(), clock=lambda: datetime.now(UTC).timestamp())
    second = doctor.check_token(open_session(), clock=lambda: datetime.now(UTC).timestamp())
    assert first.ok and "refreshed just now" in first.detail
    assert second.ok and "cached" in second.detail and "59 min" in second.detail
    assert requests_mock.call_count == 1


def test_token_check_fails_with_auth_code_when_zoho_refuses_the_refresh_token(
    requests_mock: Any, profile: Path
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    results = by_name(run_doctor(open_session))
    assert not results["token"].ok and results["token"].exit_code == 4
    assert "activate" in (results["token"].fix or "")
    assert results["organization"].skipped and results["mappings"].skipped
    assert overall_exit_code(results.values()) == 4


def test_unreachable_zoho_accounts_fails_token_with_code_5(
    requests_mock: Any, profile: Path
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", exc=requests.ConnectionError)
    results = run_doctor(open_session)
    token = by_name(results)["token"]
    assert not token.ok and token.exit_code == 5 and "could not reach" in token.detail
    assert overall_exit_code(results) == 5


def _org_answers(requests_mock: Any, *, departments: list[dict[str, Any]]) -> None:
    requests_mock.get(
        f"{DESK}/accessibleOrganizations", json={"data": [{"id": 42, "companyName": "Acme"}]}
    )
    requests_mock.get(
        f"{DESK}/departments",
        [{"json": {"data": departments}}, {"status_code": 204}],
    )


def test_organization_check_passes_and_names_org_and_department(
    requests_mock: Any, tmp_path: Path
) -> None:
    _org_answers(requests_mock, departments=[{"id": "7", "name": "Sales", "isEnabled": True}])
    result = doctor.check_organization(desk_client(), settings_of(BASE, tmp_path))
    assert result.ok and "42 (Acme)" in result.detail and "7 (Sales)" in result.detail


def test_organization_check_fails_when_the_token_belongs_to_another_org(
    requests_mock: Any, tmp_path: Path
) -> None:
    _org_answers(requests_mock, departments=[])
    result = doctor.check_organization(
        desk_client(), settings_of(BASE.replace('"42"', '"99"'), tmp_path)
    )
    assert not result.ok and result.exit_code == 4
    assert "42 (Acme)" in result.detail and "--org" in (result.fix or "")


@pytest.mark.parametrize(
    ("departments", "says"),
    [
        ([{"id": "8", "name": "Support", "isEnabled": True}], "no department 7"),
        ([{"id": "7", "name": "Sales", "isEnabled": False}], "department 7 is disabled"),
    ],
)
def test_organization_check_fails_on_a_missing_or_disabled_department(
    requests_mock: Any, tmp_path: Path, departments: list[dict[str, Any]], says: str
) -> None:
    _org_answers(requests_mock, departments=departments)
    result = doctor.check_organization(desk_client(), settings_of(BASE, tmp_path))
    assert not result.ok and result.exit_code == 3 and says in result.detail
    assert "zoho.department_id" in (result.fix or "")


def test_unreachable_desk_fails_organization_with_code_5_and_blocks_the_rest(
    requests_mock: Any, profile: Path
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json=TOKEN)
    requests_mock.get(f"{DESK}/accessibleOrganizations", status_code=503, text="")
    results = by_name(run_doctor(open_session, sleep=lambda _s: None))
    assert results["token"].ok
    org = results["organization"]
    assert not org.ok and org.exit_code == 5
    assert results["scopes"].skipped and results["scopes"].exit_code == 5
    assert requests_mock.call_count == 1 + 2  # the doctor retries once, not six times


def _searches(requests_mock: Any, status: int = 204, **json_: Any) -> None:
    for kind in ("contacts", "tickets", "calls", "tasks"):
        requests_mock.get(f"{DESK}/{kind}/search", status_code=status, **json_)


def _agents(requests_mock: Any, agents: list[dict[str, Any]] = AGENTS) -> None:
    def answer(request: Any, context: Any) -> Any:
        rows = [a for a in agents if a["status"] == request.qs["status"][0].upper()]
        if not rows or int(request.qs.get("from", ["1"])[0]) > 1:
            context.status_code = 204
            return None
        return {"data": rows}

    requests_mock.get(f"{DESK}/agents", json=answer)


def test_scopes_check_passes_when_every_read_sync_needs_answers(requests_mock: Any) -> None:
    _agents(requests_mock)
    requests_mock.get(f"{DESK}/fields", json={"data": rs_fields()})
    _searches(requests_mock)
    desk = desk_client()
    report = doctor.check_scopes(desk, CachedFields(desk))
    assert report.result.ok and report.fields_error is None
    assert report.agents is not None and {a["id"] for a in report.agents} == {"111", "333"}
    searched = [r.path for r in requests_mock.request_history if r.path.endswith("/search")]
    assert len(searched) == 4


def test_scopes_check_names_the_missing_scope_on_scope_mismatch(requests_mock: Any) -> None:
    _agents(requests_mock)
    requests_mock.get(f"{DESK}/fields", json={"data": rs_fields()})
    _searches(requests_mock)
    requests_mock.get(
        f"{DESK}/calls/search",
        status_code=401,
        json={"errorCode": "SCOPE_MISMATCH", "message": "The OAuth token does not have the scope"},
    )
    desk = desk_client()
    report = doctor.check_scopes(desk, CachedFields(desk))
    assert not report.result.ok and report.result.exit_code == 4
    assert "call search needs Desk.calls.READ" in report.result.detail
    assert "activate" in (report.result.fix or "")
    assert report.agents is not None and report.fields_error is None  # other checks still run


def test_fields_are_read_once_for_scopes_fields_and_mappings(
    requests_mock: Any, profile: Path
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json=TOKEN)
    _org_answers(requests_mock, departments=[{"id": "7", "name": "Sales"}])
    _agents(requests_mock)
    requests_mock.get(f"{DESK}/fields", json={"data": rs_fields()})
    _searches(requests_mock)
    results = run_doctor(open_session)
    assert all(r.ok for r in results), results
    field_reads = [r for r in requests_mock.request_history if r.path == "/api/v1/fields"]
    assert len(field_reads) == 2  # tickets and contacts, once each


# -- fields, manager, agents, mappings -----------------------------------------------------------


def _fields_client(requests_mock: Any, fields: list[dict[str, Any]]) -> CachedFields:
    requests_mock.get(f"{DESK}/fields", json={"data": fields})
    return CachedFields(desk_client())


def test_fields_check_passes_when_all_twelve_are_text_and_recorded(
    requests_mock: Any, tmp_path: Path
) -> None:
    result = doctor.check_fields(
        _fields_client(requests_mock, rs_fields()), settings_of(BASE + RECORDED, tmp_path)
    )
    assert result.ok and "12" in result.detail


def test_fields_check_fails_on_missing_fields_with_fields_create(
    requests_mock: Any, tmp_path: Path
) -> None:
    fields = [f for f in rs_fields() if f["apiName"] != "cf_rs_utm_term"]
    result = doctor.check_fields(
        _fields_client(requests_mock, fields), settings_of(BASE + RECORDED, tmp_path)
    )
    assert not result.ok and result.exit_code == 3
    assert "2 of 12" in result.detail and "rs_utm_term missing" in result.detail
    assert result.fix == "run `ringodesk fields create`"


def test_fields_check_fails_on_a_wrong_type_field_and_says_to_rename_it(
    requests_mock: Any, tmp_path: Path
) -> None:
    fields = [f for f in rs_fields() if f["apiName"] != "cf_rs_utm_term"]
    fields.append(field("cf_rs_utm_term", "rs_utm_term", type_="Picklist"))
    result = doctor.check_fields(
        _fields_client(requests_mock, fields), settings_of(BASE + RECORDED, tmp_path)
    )
    assert not result.ok and "wrong type" in result.detail
    assert "rename or delete" in (result.fix or "")


@pytest.mark.parametrize(
    ("manager", "ok", "says"),
    [
        ("111", True, "Olena Petrenko"),
        ("333", False, "DISABLED"),
        ("999", False, "no longer exists"),
        (None, False, "not set"),
    ],
)
def test_senior_manager_check(tmp_path: Path, manager: str | None, ok: bool, says: str) -> None:
    text = BASE.replace('senior_manager = "111"', f'senior_manager = "{manager}"')
    if manager is None:
        text = BASE.replace('senior_manager = "111"\n', "")
    result = doctor.check_manager(settings_of(text, tmp_path), AGENTS)
    assert result.ok is ok and says in result.detail
    if not ok:
        assert result.exit_code == 3 and "manager set" in (result.fix or "")


def test_agents_check_passes_without_links_and_with_active_links(tmp_path: Path) -> None:
    assert doctor.check_agents(settings_of(BASE, tmp_path), AGENTS).ok
    linked = BASE + '[employees]\n"Olena P" = "111"\n'
    result = doctor.check_agents(settings_of(linked, tmp_path), AGENTS)
    assert result.ok and "all 1 linked agents are active" in result.detail


def test_agents_check_fails_on_disabled_and_unknown_agents(tmp_path: Path) -> None:
    text = BASE + '[employees]\n"Olena P" = "111"\n"201" = "333"\n"sip:ghost" = "999"\n'
    result = doctor.check_agents(settings_of(text, tmp_path), AGENTS)
    assert not result.ok and result.exit_code == 3
    assert "2 of 3 links" in result.detail
    assert "201 -> Gone Agent <gone@example.com> is disabled" in result.detail
    assert "sip:ghost -> 999 is not an agent any more" in result.detail
    assert "employees unlink '201'" in (result.fix or "")


def test_mappings_check_passes_with_none_or_with_valid_ones(tmp_path: Path) -> None:
    fields = {"tickets": [*rs_fields(), field("cf_pool", "Pool")], "contacts": rs_fields()}
    assert doctor.check_mapping(settings_of(BASE + RECORDED, tmp_path), fields).ok
    text = BASE + RECORDED + '[mapping.ticket]\npool_name = "cf_pool"\n'
    result = doctor.check_mapping(settings_of(text, tmp_path), fields)
    assert result.ok and "all 1 mappings" in result.detail


def test_mappings_check_fails_on_a_refused_field_with_the_unset_command(tmp_path: Path) -> None:
    fields = {"tickets": [*rs_fields(), field("cf_pool", "Pool", "Picklist")], "contacts": []}
    text = BASE + RECORDED + '[mapping.ticket]\npool_name = "cf_pool"\n'
    result = doctor.check_mapping(settings_of(text, tmp_path), fields)
    assert not result.ok and result.exit_code == 3 and "Picklist" in result.detail
    assert "`ringodesk mapping unset ticket pool_name`" in (result.fix or "")


# -- inbox ----------------------------------------------------------------------------------------


def _inbox_settings(tmp_path: Path, folder: Path | None) -> Settings:
    text = BASE + '[source]\nkind = "inbox"\n'
    if folder is not None:
        text += f'inbox = "{folder}"\n'
    return settings_of(text, tmp_path)


def test_inbox_check_is_not_applicable_for_files(tmp_path: Path) -> None:
    result = doctor.check_inbox(settings_of(BASE, tmp_path))
    assert result.ok and result.skipped and "source.kind = files" in result.detail


def test_inbox_check_counts_readable_exports(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text("x")
    (inbox / "b.json").write_text("[]")
    (inbox / "notes.md").write_text("not an export")
    result = doctor.check_inbox(_inbox_settings(tmp_path, inbox))
    assert result.ok and "2 export files, all readable" in result.detail


def test_inbox_check_fails_when_unset_or_missing(tmp_path: Path) -> None:
    unset = doctor.check_inbox(_inbox_settings(tmp_path, None))
    assert not unset.ok and unset.exit_code == 3 and "source.inbox" in (unset.fix or "")
    missing = doctor.check_inbox(_inbox_settings(tmp_path, tmp_path / "nowhere"))
    assert not missing.ok and missing.exit_code == 3 and "does not exist" in missing.detail


def test_inbox_check_fails_on_an_unreadable_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ok.csv").write_text("x")
    (inbox / "locked.csv").write_text("x")
    real_open = Path.open

    def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
        # Tests may run as root, which chmod cannot lock out.
        if self.name == "locked.csv":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)
    result = doctor.check_inbox(_inbox_settings(tmp_path, inbox))
    assert not result.ok and "1 of 2" in result.detail and "locked.csv" in result.detail


# -- ledger and last sync --------------------------------------------------------------------------


def _ledger(tmp_path: Path, calls: list[tuple[str, str, CallState]]) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for rid, started, state in calls:
        ledger.upsert_call(
            ringostat_id=rid,
            started_at=started,
            client_number="+380671234567",
            content_hash="h",
            state=state,
            record={},
            source="export.csv",
            line=2,
        )
    return ledger


def test_ledger_check_passes_without_a_ledger_and_with_fresh_pending_calls(
    tmp_path: Path,
) -> None:
    assert doctor.check_ledger(None, NOW).ok
    ledger = _ledger(tmp_path, [("1", (NOW - timedelta(hours=2)).isoformat(), CallState.PENDING)])
    result = doctor.check_ledger(ledger, NOW)
    assert result.ok and "pending 1, failed 0" in result.detail
    assert "oldest pending call 2 h old" in result.detail


def test_ledger_check_fails_with_code_6_when_calls_failed(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, [("1", NOW.isoformat(), CallState.FAILED)])
    result = doctor.check_ledger(ledger, NOW)
    assert not result.ok and result.exit_code == 6 and "failed 1" in result.detail
    assert "--replay 3d" in (result.fix or "")


def test_ledger_check_fails_on_stale_pending_calls_with_a_replay_that_reaches_them(
    tmp_path: Path,
) -> None:
    started = (NOW - timedelta(days=4, hours=1)).isoformat()
    ledger = _ledger(tmp_path, [("1", started, CallState.PENDING)])
    result = doctor.check_ledger(ledger, NOW)
    assert not result.ok and result.exit_code == 5
    assert "4 days old" in result.detail and "--replay 6d" in (result.fix or "")


def test_ledger_check_fails_on_a_damaged_ledger_naming_it_and_the_way_out(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database, just garbage " * 200)
    with pytest.raises(LedgerDamagedError) as caught:
        doctor.open_ledger(tmp_path)
    result = from_error("ledger", caught.value)
    assert not result.ok and result.exit_code == 3
    assert result.detail == f"{path}: the ledger is damaged (file is not a database)"
    assert f"mv {path} {path}.damaged" in (result.fix or "")
    assert "ringodesk sync --replay 3d" in (result.fix or "")


def test_quarantine_check_warns_with_6_while_recent_rows_are_quarantined(tmp_path: Path) -> None:
    assert doctor.check_quarantine(None, NOW).ok
    ledger = _ledger(tmp_path, [])
    assert doctor.check_quarantine(ledger, datetime.now(UTC)).ok
    ledger.quarantine("k", "export.csv", 7, "ua-1", "not a date", field="calldate")
    now = datetime.now(UTC)
    result = doctor.check_quarantine(ledger, now)
    assert not result.ok and result.exit_code == 6
    assert "1 quarantined row(s), 1 first seen in the last 3 days: export.csv:7" in result.detail
    assert "`ringodesk quarantine list`" in (result.fix or "")
    later = doctor.check_quarantine(ledger, now + timedelta(days=3, minutes=1))
    assert later.ok and "1 quarantined row(s), 0 first seen" in later.detail


def test_inbox_check_reports_files_set_aside_as_unreadable(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / ".failed").mkdir(parents=True)
    (inbox / "good.csv").write_text("x")
    (inbox / ".failed" / "calls.csv").write_bytes(b"PK\x03\x04")
    (inbox / ".failed" / "calls.csv.reason.txt").write_text("looks like an Excel/zip file")
    result = doctor.check_inbox(_inbox_settings(tmp_path, inbox))
    assert not result.ok and result.exit_code == 6
    assert "1 file(s) in" in result.detail and "calls.csv" in result.detail
    assert "reason.txt" not in result.detail and "reason.txt" in (result.fix or "")


def _last_sync(tmp_path: Path, **data: Any) -> Ledger:
    ledger = _ledger(tmp_path, [])
    ledger.set_meta(
        "last_sync", json.dumps({"at": (NOW - timedelta(minutes=5)).isoformat(), **data})
    )
    return ledger


def test_last_sync_check_passes_before_any_sync_and_after_a_clean_one(tmp_path: Path) -> None:
    assert doctor.check_last_sync(None, NOW).ok
    ledger = _last_sync(tmp_path, read=10, new=3, delivered=3, failed=0, exit_code=0)
    result = doctor.check_last_sync(ledger, NOW)
    assert result.ok and "5 min ago" in result.detail and "delivered 3" in result.detail


@pytest.mark.parametrize(
    ("code", "fix"), [(5, "--replay 3d"), (4, "activate"), (6, "ringodesk quarantine list")]
)
def test_last_sync_check_fails_with_the_last_syncs_code(
    tmp_path: Path, code: int, fix: str
) -> None:
    ledger = _last_sync(tmp_path, read=10, pending=10, exit_code=code)
    result = doctor.check_last_sync(ledger, NOW)
    assert not result.ok and result.exit_code == code and f"exit {code}" in result.detail
    assert fix in (result.fix or "")


# -- the command --------------------------------------------------------------------------------


def test_doctor_prints_a_line_per_check_with_the_fix_and_exits_with_its_code(
    cli: Any, profile: Path, requests_mock: Any
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    result = cli("doctor")
    assert result.code == 4, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    settings")
    failing = next(i for i, line in enumerate(lines) if line.startswith("FAIL  token"))
    assert "fix: run `ringodesk activate` (a password change" in lines[failing + 1]
    assert any(line.startswith("skip  organization") for line in lines)
    # settings, credentials, inbox, ledger, quarantine, last-sync
    assert lines[-1] == "7 of 14 checks passed"


def test_doctor_quiet_prints_only_the_failures_on_stderr(
    cli: Any, profile: Path, requests_mock: Any
) -> None:
    requests_mock.post(f"{ACCOUNTS}/oauth/v2/token", json={"error": "invalid_code"})
    result = cli("doctor", "--quiet")
    assert result.code == 4 and result.stdout == ""
    assert result.stderr.count("error: ") == 1 and "error: token:" in result.stderr


def test_doctor_honours_profile(cli: Any, profile: Path) -> None:
    result = cli("doctor", "--json", "--profile", "other")
    assert result.code == 3
    settings = result.json()[0]  # type: ignore[index]
    assert settings["name"] == "settings"
    assert "no profile named other (profiles: default)" in settings["detail"]


def _activate(cli: Any, sb: Sandbox, tmp_path: Path, scopes: str | None = None) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text(sb.client_secret + "\n")
    activated = cli(
        "activate", "--accounts-url", sb.url, "--desk-url", sb.url, "--client-id", sb.client_id,
        "--client-secret-file", str(secret), "--grant-code", sb.mint_grant_code(scopes),
        "--senior-manager", "olena@sandbox.example", "--no-input",
    )  # fmt: skip
    assert activated.code == 0, activated


def test_doctor_passes_every_check_on_a_set_up_sandbox_profile(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    _activate(cli, sandbox, tmp_path)
    assert cli("fields", "create", "--quiet").code == 0
    before = sandbox.request_counts()
    result = cli("doctor", "--json")
    assert result.code == 0, result
    data = result.json()
    assert [c["name"] for c in data] == list(doctor.CHECKS)  # type: ignore[union-attr]
    assert all(c["ok"] for c in data)  # type: ignore[union-attr]
    after = sandbox.request_counts()
    sent = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert all(k.startswith("GET /api/v1/") for k in sent), sent  # reads only; token cached
    assert sum(sent.values()) <= 12, sent  # each request costs an API credit


def test_doctor_reports_missing_search_scope_from_the_sandbox(
    cli: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    no_search = (
        "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
        "Desk.calls.ALL,Desk.tasks.ALL"
    )
    _activate(cli, sandbox, tmp_path, scopes=no_search)
    result = cli("doctor", "--json")
    assert result.code == 4, result
    checks = {c["name"]: c for c in result.json()}  # type: ignore[union-attr]
    assert not checks["scopes"]["ok"] and "contact search needs" in checks["scopes"]["detail"]
    assert checks["senior-manager"]["ok"] and not checks["fields"]["ok"]
