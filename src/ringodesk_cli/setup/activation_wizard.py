"""The activation wizard: every step of :class:`~ringodesk_cli.setup.activation.Activator` in order,
asking a :class:`~ringodesk_cli.setup.activation.Conversation` only what flags and the profile leave
open."""

from __future__ import annotations

from typing import Any

from ringodesk_cli.errors import UsageError
from ringodesk_cli.session import Session
from ringodesk_cli.setup.activation import (
    DEADLINE_KEY,
    MANAGER_KEY,
    REFRESH_TOKEN_WARNING,
    ActivationRequest,
    ActivationResult,
    Activator,
    Conversation,
)
from ringodesk_cli.setup.employees import agent_name
from ringodesk_cli.setup.ringostat_key import store_checked_key


def activate(session: Session, request: ActivationRequest, talk: Conversation) -> ActivationResult:
    """Run every step; the sign-in is saved at once, so a later failure needs no new code."""
    act = Activator(session)
    settings = session.settings
    _configure(act, request, talk)
    grant_code = talk.grant_code()
    secret = talk.client_secret(act.has_client_secret())
    if secret:
        act.store_client_secret(secret)
    if not (talk.interactive or request.senior_manager or settings.get(MANAGER_KEY)):
        # Checked before signing in: a grant code is single-use, so failing after the
        # exchange would make the user mint another one.
        raise UsageError(
            "no senior manager chosen",
            hint="pass --senior-manager AGENT (id or e-mail of a Zoho Desk agent)",
        )
    signed_in = _sign_in(act, grant_code, request.device, talk)
    act.save()
    org, department = _choose_org_and_department(act, request, talk)
    act.save()
    agents = act.agents()
    manager_ref = request.senior_manager
    if talk.interactive and not manager_ref and not settings.get(MANAGER_KEY):
        manager_ref = talk.choose(
            "Senior manager (owns missed-call work)",
            act.active_agents(agents),
            "emailId",
            label=agent_name,
        )
    manager = act.choose_senior_manager(agents, manager_ref)
    deadline = request.task_deadline
    if talk.interactive and not deadline and settings.raw(DEADLINE_KEY) is None:
        deadline = talk.ask("Task processing deadline", default="4h")
    deadline = act.set_task_deadline(deadline)
    timezone, timezone_reason = act.choose_timezone(talk, given=bool(request.timezone))
    attach = _attach_recordings(act, request, talk)
    _choose_business_hours(act, talk)
    key = talk.ringostat_key()
    if key is not None:
        store_checked_key(session, key)
    act.save()
    accounts_url, desk_url = session.urls()
    return ActivationResult(
        profile=session.profile,
        region=str(settings.get("zoho.region")),
        accounts_url=accounts_url,
        desk_url=desk_url,
        org=org,
        department=department,
        senior_manager=manager,
        task_deadline=deadline,
        timezone=timezone,
        timezone_reason=timezone_reason,
        agents=len(agents),
        signed_in=signed_in,
        credential_store=str(session.credentials.describe().get("store")),
        warnings=([REFRESH_TOKEN_WARNING] if signed_in != "stored-token" else [])
        + act.scope_warnings,
        attach_recordings=attach,
    )


def _configure(act: Activator, request: ActivationRequest, talk: Conversation) -> None:
    region, client_id = request.region, request.client_id
    settings = act.settings
    # Both hosts given (flags, environment or the profile): the data center decides nothing.
    hosts_known = bool(request.accounts_url or settings.get("zoho.accounts_url")) and bool(
        request.desk_url or settings.get("zoho.desk_url")
    )
    if talk.interactive and not region and not hosts_known and not settings.raw("zoho.region"):
        region = talk.ask("Zoho data center", default="com")
    if talk.interactive and not client_id and not act.settings.get("zoho.client_id"):
        client_id = talk.ask("OAuth client id (api-console.zoho.com)")
    act.configure(
        region=region,
        accounts_url=request.accounts_url,
        desk_url=request.desk_url,
        client_id=client_id,
        redirect_port=request.redirect_port,
        timezone=request.timezone,
    )


def _sign_in(act: Activator, grant_code: str | None, device: bool, talk: Conversation) -> str:
    """Sign in the first way that applies; returns how ("grant-code", ...)."""
    if grant_code:
        act.sign_in_with_code(grant_code)
        return "grant-code"
    if device:
        act.sign_in_with_device(talk.show_device_code, on_wait=None)
        return "device"
    if talk.interactive:
        act.sign_in_with_browser(talk.open_consent_page)
        return "browser"
    if act.has_refresh_token():
        return "stored-token"
    raise UsageError(
        "no way to sign in without prompting",
        hint="pass --grant-code CODE (Self Client) or --device",
    )


def _choose_org_and_department(
    act: Activator, request: ActivationRequest, talk: Conversation
) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = act.settings
    org = request.org
    orgs = act.organizations()
    if talk.interactive and not org and len(orgs) > 1 and not settings.get("zoho.org_id"):
        org = talk.choose("Organization", orgs, "companyName")
    chosen_org = act.choose_org(orgs, org)
    department = request.department
    departments = act.departments()
    if (
        talk.interactive
        and not department
        and not settings.get("zoho.department_id")
        and len(departments) > 1
    ):
        department = talk.choose("Department", departments, "name")
    return chosen_org, act.choose_department(departments, department)


ATTACH_KEY = "recordings.attach"
ATTACH_QUESTION = "Attach call recordings to the call activities in Zoho Desk? (yes/no)"
_YES, _NO = ("y", "yes", "true", "1"), ("n", "no", "false", "0")


def _attach_recordings(act: Activator, request: ActivationRequest, talk: Conversation) -> bool:
    """``recordings.attach``: the flag, else the profile's value, else asked (off when
    nothing may be asked)."""
    settings = act.settings
    if request.attach_recordings is not None:
        settings.set(ATTACH_KEY, request.attach_recordings)
    elif talk.interactive and settings.raw(ATTACH_KEY) is None:
        while True:
            answer = talk.ask(ATTACH_QUESTION, default="no").strip().lower()
            if answer in _YES + _NO:
                settings.set(ATTACH_KEY, answer in _YES)
                break
            talk.tell(f"{answer!r}: answer yes or no")
    return bool(settings.get(ATTACH_KEY))


HOURS_KEY = "integration.business_hours"
HOURS_QUESTION = "Business hours that task deadlines count in"


def _choose_business_hours(act: Activator, talk: Conversation) -> None:
    """With ``integration.deadline_in = "business-hours"``, no set chosen and several active
    business-hours sets in the portal: which set (a sync stops until one is chosen). With one
    active set nothing is asked: the sync takes it."""
    from ringodesk_cli.zoho.desk_settings import business_hours_sets

    settings = act.settings
    if not talk.interactive or settings.get(HOURS_KEY):
        return
    if settings.get("integration.deadline_in") != "business-hours":
        return
    sets = [
        s for s in business_hours_sets(act.desk(), None) if s.get("status", "ACTIVE") == "ACTIVE"
    ]
    if len(sets) > 1:
        settings.set(HOURS_KEY, talk.choose(HOURS_QUESTION, sets, "name"))
