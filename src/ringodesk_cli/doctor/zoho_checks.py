"""Checks that read from Zoho: token, organization, scopes, fields, agents, mappings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ExitCode, RingodeskError
from ringodesk_cli.setup import fields as setup_fields
from ringodesk_cli.setup.employees import agent_label, find_agent, is_active, link_statuses
from ringodesk_cli.setup.mappings import check_mappings

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.session import Session
    from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.doctor.results import (
    PROBE_NUMBER,
    PROBE_SUBJECT,
    CheckResult,
    _listing,
    failed,
    from_error,
    passed,
)

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
