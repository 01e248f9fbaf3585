"""`ringodesk doctor`: every check of a profile's setup, each with the fix for its failure.

Issue 6 §3. Each check is a small function returning a :class:`CheckResult`; :func:`run_doctor`
runs them in order and lets a failure stand in for the checks that need what failed (a
profile without a token cannot list agents), so each problem is reported once, where it is.
Library code: nothing here prints.

Zoho requests are read-only and few (a dozen API credits): the organizations and
departments, both agent lists, the fields of tickets and contacts, and one search each for
contacts, tickets, calls and tasks -- the reads sync needs. The agents and fields read for
the scope check are reused by the later checks. The access token is refreshed only when the
cached one is near expiry: Zoho allows 10 token requests per 10 minutes (DECISIONS.md "Token
requests are throttled"); a revoked refresh token still shows, because Zoho revokes its access
tokens with it and the next Desk request fails with an auth error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ExitCode, RingodeskError
from ringodesk_cli.setup import fields as setup_fields
from ringodesk_cli.setup.employees import agent_label, find_agent, is_active, link_statuses
from ringodesk_cli.setup.mappings import check_mappings

if TYPE_CHECKING:
    from ringodesk_cli.session import Session
    from ringodesk_cli.settings import Settings
    from ringodesk_cli.sync.ledger import Ledger
    from ringodesk_cli.zoho.desk import DeskClient

# Exit code of the whole run: the most severe failure's, in this order. Auth first (nothing
# reaches Zoho without it and only the user can fix it), then configuration (also the user's
# to fix), then Zoho unavailable (may heal by itself), then failed calls, busy, a crashed check.
SEVERITY = (ExitCode.AUTH, ExitCode.CONFIG, ExitCode.UNAVAILABLE, ExitCode.PARTIAL)
# A call pending longer than this means deliveries are stuck, not just waiting for cron.
STALE_PENDING = timedelta(hours=24)
# Searches that match nothing: only whether Zoho lets the token search matters.
PROBE_NUMBER = "+10000000000"
PROBE_SUBJECT = "[rs:ringodesk-doctor]"
RERUN_FIX = "run `ringodesk doctor -v` for the traceback, and report it"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    exit_code: ExitCode = ExitCode.OK
    skipped: bool = False  # not checked: not applicable (ok) or blocked by an earlier failure

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": int(self.exit_code)}


def passed(name: str, detail: str, *, skipped: bool = False) -> CheckResult:
    return CheckResult(name, True, detail, skipped=skipped)


def failed(name: str, detail: str, fix: str | None, code: ExitCode) -> CheckResult:
    return CheckResult(name, False, detail, fix, code)


def from_error(name: str, exc: RingodeskError, fix: str | None = None) -> CheckResult:
    code = exc.exit_code if exc.exit_code != ExitCode.OK else ExitCode.UNEXPECTED
    return failed(name, exc.message, fix or exc.hint, code)


def blocked(name: str, by: CheckResult) -> CheckResult:
    """A check that cannot run because ``by`` failed; it carries ``by``'s exit code."""
    return CheckResult(
        name, False, f"not checked: {by.name} failed", f"fix {by.name} first", by.exit_code, True
    )


def overall_exit_code(results: Iterable[CheckResult]) -> ExitCode:
    codes = {r.exit_code for r in results if not r.ok}
    for code in SEVERITY:
        if code in codes:
            return code
    return ExitCode(max(codes)) if codes else ExitCode.OK


def _guard(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """One check's expected errors become its failure; a bug fails it without stopping the rest."""
    try:
        return check()
    except RingodeskError as exc:
        return from_error(name, exc)
    except Exception as exc:  # a doctor reports every other check too
        return failed(
            name, f"unexpected {type(exc).__name__}: {exc}", RERUN_FIX, ExitCode.UNEXPECTED
        )


def _listing(items: list[str], limit: int = 3) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- local checks -------------------------------------------------------------------------------

REQUIRED_SETTINGS = ("zoho.client_id", "zoho.org_id", "zoho.department_id")


def check_settings(session: Session) -> CheckResult:
    """The file parsed and validated when the session opened; here: env overrides, hosts, and
    the keys sync cannot run without (``policy_from_settings`` and ``Session.desk``)."""
    name = "settings"
    settings = session.settings
    if not settings.exists:
        return failed(
            name,
            f"profile {session.profile} has no settings file ({settings.path})",
            "run `ringodesk activate`",
            ExitCode.CONFIG,
        )
    settings.as_dict()  # reads every key through its checker, env variables included
    accounts_url, desk_url = session.urls()
    missing = [key for key in REQUIRED_SETTINGS if not settings.get(key)]
    if missing:
        return failed(
            name,
            f"{', '.join(missing)} not set in {settings.path}",
            "run `ringodesk activate` (or `ringodesk config set KEY VALUE`)",
            ExitCode.CONFIG,
        )
    return passed(name, f"{settings.path} is valid; Zoho Desk {desk_url}, Accounts {accounts_url}")


def check_credentials(session: Session) -> CheckResult:
    name = "credentials"
    described = session.credentials.describe()
    sources = described.get("secrets")
    sources = sources if isinstance(sources, dict) else {}
    missing = [s for s in ("client_secret", "refresh_token") if not sources.get(s)]
    store = str(described.get("store"))
    if missing and described.get("problem"):
        return failed(
            name,
            f"{store}: {described['problem']}",
            "use `ringodesk activate --insecure-storage` (a 0600 file), or set "
            "RINGODESK_CLIENT_SECRET and RINGODESK_REFRESH_TOKEN in cron's environment",
            ExitCode.CONFIG,
        )
    if missing:
        return failed(
            name,
            f"{' and '.join(missing)} not found ({store}): this profile is not signed in",
            "run `ringodesk activate`",
            ExitCode.AUTH,
        )
    where = ", ".join(f"{s} from {sources[s]}" for s in ("client_secret", "refresh_token"))
    return passed(name, f"{store}: {where}")


def check_inbox(settings: Settings) -> CheckResult:
    from ringodesk_cli.sync.sources import EXPORT_SUFFIXES

    name = "inbox"
    kind = settings.get("source.kind")
    if kind != "inbox":
        return passed(name, f"not used (source.kind = {kind})", skipped=True)
    inbox = settings.get("source.inbox")
    if not inbox:
        return failed(
            name,
            "source.kind is inbox but source.inbox is not set",
            "ringodesk config set source.inbox /path/to/folder",
            ExitCode.CONFIG,
        )
    folder = Path(inbox).expanduser()
    if not folder.is_dir():
        return failed(
            name,
            f"{folder} does not exist or is not a folder",
            f"create {folder}, or point source.inbox at the folder Ringostat exports land in",
            ExitCode.CONFIG,
        )
    try:
        entries = [p for p in folder.iterdir() if p.suffix.lower() in EXPORT_SUFFIXES]
    except OSError as exc:
        return failed(
            name,
            f"{folder} cannot be listed ({exc.strerror})",
            f"give this user read and execute permission on {folder}",
            ExitCode.CONFIG,
        )
    unreadable = []
    for path in entries:
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError:
            unreadable.append(path.name)
    if unreadable:
        return failed(
            name,
            f"{len(unreadable)} of {len(entries)} export files in {folder} cannot be read: "
            + _listing(unreadable),
            f"give this user read permission on the files in {folder}",
            ExitCode.CONFIG,
        )
    return passed(name, f"{folder}: {len(entries)} export files, all readable")


def open_ledger(state_dir: Path) -> Ledger | None:
    """The profile's ledger, read-only; None when no sync has created it yet."""
    from ringodesk_cli.sync.ledger import LEDGER_FILE, Ledger

    path = state_dir / LEDGER_FILE
    return Ledger(path, readonly=True) if path.exists() else None


def check_ledger(ledger: Ledger | None, now: datetime) -> CheckResult:
    import sqlite3

    from ringodesk_cli.sync.ledger import CHANGED, DELIVERED, FAILED, PENDING, WAITING

    name = "ledger"
    if ledger is None:
        return passed(name, "no ledger yet: no sync has run in this profile")
    keep = (
        f"stop cron runs and keep a copy of {ledger.path}, then rebuild it with sqlite3's "
        "`.recover`; do not delete it: it records what was already delivered"
    )
    try:
        if not ledger.integrity_ok():
            return failed(name, f"{ledger.path} failed SQLite's quick_check", keep, ExitCode.CONFIG)
        counts = ledger.counts()
        oldest = ledger.oldest(PENDING)
        quarantined = ledger.quarantine_count()
    except sqlite3.Error as exc:
        return failed(name, f"{ledger.path} cannot be read: {exc}", keep, ExitCode.CONFIG)
    pending, failures = counts.get(PENDING, 0), counts.get(FAILED, 0)
    text = (
        f"delivered {counts.get(DELIVERED, 0)}, pending {pending}, failed {failures}, "
        f"changed {counts.get(CHANGED, 0)}, in progress {counts.get(WAITING, 0)}, "
        f"quarantined rows {quarantined}"
    )
    started = _parse_time(oldest) if oldest else None
    if started is not None:
        text += f"; oldest pending call {_age(now - started)} old ({oldest})"
    if started is not None and now - started > STALE_PENDING:
        days = (now - started).days + 2  # --replay counts today as the first day
        return failed(
            name,
            text,
            f"calls have been pending for over {_age(STALE_PENDING)}: fix any other failed "
            f"check, then run `ringodesk sync --replay {days}d` (a `--replay 3d` cron line "
            "no longer reaches calls older than that)",
            ExitCode.UNAVAILABLE,
        )
    if failures:
        return failed(
            name,
            text,
            "`ringodesk sync --replay 3d` retries failed calls and prints why each failed",
            ExitCode.PARTIAL,
        )
    return passed(name, text)


_LAST_SYNC_FIX: dict[int, str] = {
    ExitCode.CONFIG: "run `ringodesk sync` by hand to see the configuration error",
    ExitCode.AUTH: "run `ringodesk activate`; the calls stay pending until then",
    ExitCode.UNAVAILABLE: "nothing was lost: `ringodesk sync --replay 3d` delivers the pending "
    "calls once Zoho answers",
    ExitCode.PARTIAL: "run `ringodesk sync --replay 3d` to see the failed and quarantined rows; "
    "fix those rows in the export",
}


def check_last_sync(ledger: Ledger | None, now: datetime) -> CheckResult:
    name = "last-sync"
    raw = ledger.meta("last_sync") if ledger is not None else None
    if raw is None:
        return passed(name, "no sync has run yet")
    try:
        data: Any = json.loads(raw)
        code = int(data.get("exit_code", 1))
    except (ValueError, TypeError, AttributeError):
        return failed(name, "the last sync's record is unreadable", RERUN_FIX, ExitCode.UNEXPECTED)
    at = _parse_time(str(data.get("at", "")))
    when = f"{_age(now - at)} ago ({data['at']})" if at else "at an unknown time"
    counts = ", ".join(
        f"{key} {data[key]}"
        for key in ("read", "new", "delivered", "failed", "quarantined", "pending")
        if key in data
    )
    text = f"{when}: exit {code}; {counts}"
    if code == 0:
        return passed(name, text)
    exit_code = ExitCode(code) if code in {int(c) for c in ExitCode} else ExitCode.UNEXPECTED
    return failed(name, text, _LAST_SYNC_FIX.get(code, RERUN_FIX), exit_code)


# -- Zoho checks ----------------------------------------------------------------------------------


def check_token(session: Session, clock: Callable[[], float]) -> CheckResult:
    from ringodesk_cli.errors import AuthError, ZohoAuthError

    cache = session.token_cache()
    before = cache.read().access_token
    try:
        token = session.token_provider().access_token()
    except ZohoAuthError as exc:
        # Accounts' hint for invalid_code speaks of grant codes (activation); here it is the
        # stored refresh token that was refused.
        return from_error("token", exc, fix=AuthError.default_hint)
    minutes = max(0, int((cache.read().expires_at - clock()) // 60))
    how = (
        "refreshed just now"
        if token != before
        else "cached; not refreshed, to spare Zoho's limit of 10 token requests per 10 minutes"
    )
    return passed("token", f"access token valid for {minutes} min ({how})")


def check_organization(desk: DeskClient, settings: Settings) -> CheckResult:
    name = "organization"
    org_id = str(settings.get("zoho.org_id") or "")
    orgs = {str(o.get("id")): o for o in desk.accessible_organizations()}
    if org_id not in orgs:
        known = ", ".join(f"{i} ({o.get('companyName') or '?'})" for i, o in orgs.items())
        return failed(
            name,
            f"zoho.org_id {org_id} is not among this token's organizations: {known or 'none'}",
            "re-run `ringodesk activate --org ID` with one of them",
            ExitCode.AUTH,
        )
    text = f"{org_id} ({orgs[org_id].get('companyName') or '?'}) answers"
    dep_id = str(settings.get("zoho.department_id") or "")
    departments = {str(d.get("id")): d for d in desk.departments()}
    department = departments.get(dep_id)
    choices = ", ".join(f"{i} ({d.get('name') or '?'})" for i, d in departments.items())
    fix = f"`ringodesk config set zoho.department_id ID`, one of: {choices or 'none'}"
    if department is None:
        return failed(name, f"{text}, but it has no department {dep_id}", fix, ExitCode.CONFIG)
    if str(department.get("isEnabled", True)).lower() == "false":
        return failed(name, f"{text}, but department {dep_id} is disabled", fix, ExitCode.CONFIG)
    return passed(name, f"{text}; department {dep_id} ({department.get('name') or '?'})")


class CachedFields:
    """The ``FieldsClient`` of ``setup.fields`` over a Desk client, asking Zoho once per module
    (the scope probe, the fields check and the mappings check share one read)."""

    def __init__(self, desk: DeskClient) -> None:
        self._desk = desk
        self._answers: dict[tuple[str, str], list[dict[str, Any]] | RingodeskError] = {}

    def _get(
        self, api: str, module: str, fetch: Callable[[str], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        from ringodesk_cli.errors import NotFoundError

        key = (api, module)
        if key not in self._answers:
            try:
                self._answers[key] = fetch(module)
            except NotFoundError as exc:  # FieldSource's fallback asks again: answer the same
                self._answers[key] = exc
        answer = self._answers[key]
        if isinstance(answer, RingodeskError):
            raise answer
        return answer

    def list_fields(self, module: str) -> list[dict[str, Any]]:
        return self._get("fields", module, self._desk.list_fields)

    def list_organization_fields(self, module: str) -> list[dict[str, Any]]:
        return self._get("organizationFields", module, self._desk.list_organization_fields)

    def create_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("doctor never creates fields")

    def create_organization_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("doctor never creates fields")

    def by_module(self) -> dict[str, list[dict[str, Any]]]:
        source = setup_fields.FieldSource(self)
        return {module: source.list(module) for module in setup_fields.MODULES}


@dataclass(frozen=True)
class ScopeReport:
    result: CheckResult
    agents: list[dict[str, Any]] | None  # None when the agents could not be read
    fields_error: CheckResult | None  # why the fields could not be read, if they could not


def check_scopes(desk: DeskClient, fields: CachedFields) -> ScopeReport:
    """The reads sync makes, one request each; SCOPE_MISMATCH names the scope to grant.

    Creating scopes cannot be proven without creating a record; activation asks for them
    together with the read scopes (``zoho.regions.DESK_SCOPES``)."""
    from ringodesk_cli.errors import ScopeError

    name = "scopes"
    probes: list[tuple[str, str, Callable[[], Any]]] = [
        ("agents", "Desk.basic.READ", desk.agents),
        ("fields", "Desk.settings.READ", fields.by_module),
        ("contact search", "Desk.contacts.READ + Desk.search.READ",
         lambda: desk.search_contacts(phone=PROBE_NUMBER, limit=1)),
        ("ticket search", "Desk.tickets.READ + Desk.search.READ",
         lambda: desk.search_tickets(subject=PROBE_SUBJECT)),
        ("call search", "Desk.calls.READ + Desk.search.READ",
         lambda: desk.search_calls(subject=PROBE_SUBJECT)),
        ("task search", "Desk.tasks.READ + Desk.search.READ",
         lambda: desk.search_tasks(subject=PROBE_SUBJECT)),
    ]  # fmt: skip
    answers: dict[str, Any] = {}
    missing: list[str] = []
    errors: dict[str, CheckResult] = {}
    for label, scope, probe in probes:
        try:
            answers[label] = probe()
        except ScopeError:
            missing.append(f"{label} needs {scope}")
            errors[label] = failed(name, f"no scope for {label}", None, ExitCode.AUTH)
        except RingodeskError as exc:
            errors[label] = from_error(name, exc)
    if missing:
        result = failed(
            name,
            "Zoho refused (SCOPE_MISMATCH): " + "; ".join(missing),
            "re-run `ringodesk activate` and accept every scope it asks for",
            ExitCode.AUTH,
        )
    elif errors:
        first = next(iter(errors.values()))
        result = failed(name, f"{next(iter(errors))}: {first.detail}", first.fix, first.exit_code)
    else:
        result = passed(name, "agents, fields and contact, ticket, call and task searches answer")
    agents = answers.get("agents")
    return ScopeReport(result, agents, result if "fields" in errors else None)


def check_fields(fields: CachedFields, settings: Settings) -> CheckResult:
    name = "fields"
    problems = setup_fields.check_fields(fields, settings)
    total = len(setup_fields.REQUIRED_FIELDS) * len(setup_fields.MODULES)
    if not problems:
        return passed(name, f"all {total} rs_* fields are single-line text and recorded")
    kinds = {p.kind for p in problems}
    fix = "run `ringodesk fields create`"
    if "wrong type" in kinds:
        fix = (
            "rename or delete the wrong-type fields in Zoho Desk (Setup > Layouts and Fields), "
            "then run `ringodesk fields create`"
        )
    return failed(
        name,
        f"{len(problems)} of {total}: "
        + _listing([f"{p.module} {p.subject} {p.kind}" for p in problems], limit=6),
        fix,
        ExitCode.CONFIG,
    )


def check_manager(settings: Settings, agents: list[dict[str, Any]]) -> CheckResult:
    name = "senior-manager"
    manager_id = settings.get("integration.senior_manager")
    fix = "`ringodesk manager set AGENT` with an active agent (see `ringodesk agents list`)"
    if not manager_id:
        return failed(name, "integration.senior_manager is not set", fix, ExitCode.CONFIG)
    agent = find_agent(str(manager_id), agents)
    if agent is None:
        return failed(
            name, f"agent {manager_id} no longer exists in Zoho Desk", fix, ExitCode.CONFIG
        )
    if not is_active(agent):
        return failed(
            name,
            f"{agent_label(agent)} ({manager_id}) is {str(agent.get('status')).upper()}",
            "re-activate the agent in Zoho Desk, or " + fix,
            ExitCode.CONFIG,
        )
    return passed(name, f"{agent_label(agent)} ({manager_id}) is active")


def check_agents(settings: Settings, agents: list[dict[str, Any]]) -> CheckResult:
    name = "agents"
    statuses = link_statuses(settings.table("employees"), agents)
    if not statuses:
        return passed(name, "no employees linked: the senior manager owns every call")
    bad = [s for s in statuses if s.state != "ok"]
    if not bad:
        return passed(name, f"all {len(statuses)} linked agents are active")
    lines = [
        f"{s.key} -> {s.agent or s.agent_id} is "
        + ("disabled" if s.state == "disabled" else "not an agent any more")
        for s in bad
    ]
    first = bad[0].key
    return failed(
        name,
        f"{len(bad)} of {len(statuses)} links: " + _listing(lines),
        f"link each to an active agent (`ringodesk employees link '{first}' AGENT`) or "
        f"remove it (`ringodesk employees unlink '{first}'`); until then its calls go to "
        "the senior manager",
        ExitCode.CONFIG,
    )


def check_mapping(
    settings: Settings, fields_by_module: Mapping[str, list[dict[str, Any]]]
) -> CheckResult:
    name = "mappings"
    count = sum(len(settings.table(t)) for t in ("mapping.ticket", "mapping.contact"))
    problems = check_mappings(settings, fields_by_module)
    if not problems:
        if not count:
            return passed(name, "no mappings set (the six rs_* fields are always filled)")
        return passed(name, f"all {count} mappings target single-line text custom fields")
    target, _, param = problems[0].subject.partition(".")
    return failed(
        name,
        f"{len(problems)} problems: " + _listing([p.message for p in problems]),
        f"`ringodesk mapping unset {target} {param}`, or point it at a single-line text custom "
        f"field with `ringodesk mapping set {target} {param} FIELD`",
        ExitCode.CONFIG,
    )


# -- the run ---------------------------------------------------------------------------------

# fmt: off
CHECKS: tuple[str, ...] = (
    "settings", "credentials", "token", "organization", "scopes", "fields", "senior-manager",
    "agents", "mappings", "inbox", "ledger", "last-sync",
)
# fmt: on


def run_doctor(
    open_session: Callable[[], Session],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] | None = None,
    max_attempts: int = 2,
    sleep: Callable[[float], None] | None = None,
) -> list[CheckResult]:
    """Every check in :data:`CHECKS` order. ``max_attempts`` caps the Desk client's retries: a
    doctor should answer in seconds, not back off for a minute when Zoho is down."""
    import time

    try:
        session = open_session()
    except RingodeskError as exc:  # the settings file does not parse or validate
        first = from_error("settings", exc)
        return [first, *(blocked(name, first) for name in CHECKS[1:])]
    results: dict[str, CheckResult] = {}
    results["settings"] = _guard("settings", lambda: check_settings(session))
    results["credentials"] = _guard("credentials", lambda: check_credentials(session))
    _zoho_checks(session, results, clock or time.time, max_attempts, sleep)
    settings = session.settings
    results["inbox"] = _guard("inbox", lambda: check_inbox(settings))
    _ledger_checks(session.state_dir, results, now())
    return [results[name] for name in CHECKS]


def _first_failure(results: Mapping[str, CheckResult], names: Iterable[str]) -> CheckResult | None:
    return next((results[n] for n in names if n in results and not results[n].ok), None)


def _zoho_checks(
    session: Session,
    results: dict[str, CheckResult],
    clock: Callable[[], float],
    max_attempts: int,
    sleep: Callable[[float], None] | None,
) -> None:
    later = ("organization", "scopes", "fields", "senior-manager", "agents", "mappings")
    blocker = _first_failure(results, ("settings", "credentials"))
    if blocker is None:
        results["token"] = _guard("token", lambda: check_token(session, clock))
        blocker = results["token"] if not results["token"].ok else None
    else:
        results["token"] = blocked("token", blocker)
    desk: DeskClient | None = None
    if blocker is None:
        try:
            desk = session.desk()
        except RingodeskError as exc:
            blocker = results["organization"] = from_error("organization", exc)
    if desk is None or blocker is not None:
        assert blocker is not None
        for name in later:
            results.setdefault(name, blocked(name, blocker))
        return
    desk.max_attempts = max_attempts
    if sleep is not None:
        desk.sleep = sleep
    settings = session.settings
    results["organization"] = _guard("organization", lambda: check_organization(desk, settings))
    if not results["organization"].ok and results["organization"].exit_code != ExitCode.CONFIG:
        # Unreachable, or the token is not this organization's: every later read fails alike.
        for name in later[1:]:
            results[name] = blocked(name, results["organization"])
        return
    fields = CachedFields(desk)
    try:
        report = check_scopes(desk, fields)
    except Exception as exc:  # see _guard
        crashed = failed(
            "scopes", f"unexpected {type(exc).__name__}: {exc}", RERUN_FIX, ExitCode.UNEXPECTED
        )
        report = ScopeReport(crashed, None, crashed)
    results["scopes"] = report.result
    _agent_checks(settings, report, results)
    if report.fields_error is not None:
        results["fields"] = blocked("fields", report.result)
        results["mappings"] = blocked("mappings", report.result)
    else:
        results["fields"] = _guard("fields", lambda: check_fields(fields, settings))
        results["mappings"] = _guard(
            "mappings", lambda: check_mapping(settings, fields.by_module())
        )


def _agent_checks(settings: Settings, report: ScopeReport, results: dict[str, CheckResult]) -> None:
    agents = report.agents
    if agents is None:
        results["senior-manager"] = blocked("senior-manager", report.result)
        results["agents"] = blocked("agents", report.result)
        return
    results["senior-manager"] = _guard("senior-manager", lambda: check_manager(settings, agents))
    results["agents"] = _guard("agents", lambda: check_agents(settings, agents))


def _ledger_checks(state_dir: Path, results: dict[str, CheckResult], now: datetime) -> None:
    import sqlite3

    try:
        ledger = open_ledger(state_dir)
    except sqlite3.Error as exc:
        results["ledger"] = failed(
            "ledger", f"cannot open the ledger in {state_dir}: {exc}", RERUN_FIX, ExitCode.CONFIG
        )
        results["last-sync"] = blocked("last-sync", results["ledger"])
        return
    try:
        results["ledger"] = _guard("ledger", lambda: check_ledger(ledger, now))
        results["last-sync"] = _guard("last-sync", lambda: check_last_sync(ledger, now))
    finally:
        if ledger is not None:
            ledger.close()
