"""Activation: sign in, pick organization, department, senior manager, deadline.

Library code: no prompts and no printing. :class:`Activator` does each step;
``activation_wizard.activate`` runs them all in order. What the wizard needs from a person
(answers, secrets, a browser) it gets from a :class:`Conversation` that the ``activate``
command supplies. Every step is also driven by flags alone: a conversation that is not
``interactive`` is never asked anything.
"""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ringodesk_cli.config.durations import parse_duration
from ringodesk_cli.config.keys import KEYS, suggested_timezone
from ringodesk_cli.errors import AuthError, UsageError, ZohoError
from ringodesk_cli.session import Session
from ringodesk_cli.setup.employees import agent_label, is_active, resolve_agent
from ringodesk_cli.zoho.accounts import AccountsClient, Authorization, DeviceCode, TokenSet
from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.zoho.regions import DATA_CENTERS, desk_url_for_accounts_server
from ringodesk_cli.zoho.scopes import SCOPES, Scope, describe, named_in, scope_string
from ringodesk_cli.zoho.tokens import CacheState, fingerprint

_T = TypeVar("_T")

REFRESH_TOKEN_WARNING = (
    "Zoho keeps at most 20 refresh tokens per client: activating the same client id on a "
    "21st machine or profile silently deletes the oldest token, which breaks that profile."
)


@dataclass
class ActivationResult:
    profile: str
    region: str
    accounts_url: str
    desk_url: str
    org: dict[str, Any]
    department: dict[str, Any]
    senior_manager: dict[str, Any]
    task_deadline: str
    timezone: str
    timezone_reason: str  # why this zone: "--timezone", "kept", "the system zone", ...
    agents: int
    signed_in: str  # "grant-code", "device", "browser", "stored-token"
    credential_store: str
    warnings: list[str] = field(default_factory=list)
    attach_recordings: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "region": self.region,
            "accounts_url": self.accounts_url,
            "desk_url": self.desk_url,
            "org": {"id": str(self.org.get("id")), "name": self.org.get("companyName")},
            "department": {
                "id": str(self.department.get("id")),
                "name": self.department.get("name"),
            },
            "senior_manager": {
                "id": str(self.senior_manager.get("id")),
                "name": agent_label(self.senior_manager),
            },
            "task_deadline": self.task_deadline,
            "timezone": {"name": self.timezone, "reason": self.timezone_reason},
            "agents": self.agents,
            "signed_in": self.signed_in,
            "credential_store": self.credential_store,
            "warnings": self.warnings,
            "recordings_attach": self.attach_recordings,
        }


class Activator:
    """Holds the session during the wizard; each method is one step."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.settings = session.settings
        self._desk: DeskClient | None = None
        self.scope_warnings: list[str] = []  # scopes Zoho refused and activation did without

    # -- endpoints and client ------------------------------------------------------------
    def configure(
        self,
        *,
        region: str | None,
        accounts_url: str | None,
        desk_url: str | None,
        client_id: str | None,
        redirect_port: int | None,
        timezone: str | None = None,
    ) -> None:
        if timezone:
            # Checked before signing in: a grant code is single-use.
            try:
                KEYS[TIMEZONE_KEY].check(timezone)
            except ValueError as exc:
                raise UsageError(f"--timezone: {exc}") from None
            self.settings.set(TIMEZONE_KEY, timezone)
        if not self.settings.exists and self.settings.raw("integration.language") is None:
            # A new profile writes in Ukrainian; profiles from before the setting keep English.
            self.settings.set("integration.language", "uk")
        if region:
            if region not in DATA_CENTERS:
                raise UsageError(
                    f"unknown region {region!r}", hint="one of " + ", ".join(DATA_CENTERS)
                )
            self.settings.set("zoho.region", region)
        if accounts_url:
            self.settings.set("zoho.accounts_url", accounts_url)
        if desk_url:
            self.settings.set("zoho.desk_url", desk_url)
        if client_id:
            self.settings.set("zoho.client_id", client_id)
        if redirect_port:
            self.settings.set("zoho.redirect_port", redirect_port)
        if not self.settings.get("zoho.client_id"):
            raise UsageError(
                "no Zoho client id", hint="pass --client-id (from api-console.zoho.com)"
            )
        self.session.urls()  # raises early for a region without a known Desk host

    def store_client_secret(self, secret: str) -> None:
        self.session.credentials.set("client_secret", secret)

    def has_client_secret(self) -> bool:
        return bool(self.session.credentials.get("client_secret"))

    def has_refresh_token(self) -> bool:
        return bool(self.session.credentials.get("refresh_token"))

    def accounts(self) -> AccountsClient:
        return self.session.accounts()

    # -- sign-in flows -------------------------------------------------------------------
    def sign_in_with_code(self, code: str) -> None:
        accounts = self.accounts()
        # A Self Client code is exchanged without redirect_uri (ACC self-client docs); its
        # scopes were chosen when it was made, so a refused one cannot be dropped here.
        tokens = self._scoped(lambda _scopes: accounts.exchange_code(code.strip()), retry=False)
        self._keep(accounts, tokens)

    def sign_in_with_device(
        self, show_code: Callable[[DeviceCode], None], on_wait: Callable[[float], None] | None
    ) -> None:
        accounts = self.accounts()
        device = self._scoped(accounts.start_device_flow)
        show_code(device)
        before = accounts.accounts_url
        tokens = accounts.poll_device_flow(device, on_wait=on_wait)
        if accounts.accounts_url != before:
            # other_dc moved us to the user's data center: keep using it (ACC devices docs).
            self._follow(accounts, Authorization("", accounts.accounts_url, None))
        self._keep(accounts, tokens)

    def sign_in_with_browser(self, open_url: Callable[[str], None], timeout: float = 300.0) -> None:
        from ringodesk_cli.zoho.loopback import RedirectListener

        accounts = self.accounts()
        port = int(self.settings.get("zoho.redirect_port"))

        def consent(scopes: str) -> tuple[Authorization, str]:
            state = pysecrets.token_urlsafe(24)
            with RedirectListener(port, state) as listener:
                open_url(accounts.authorization_url(listener.redirect_uri, state, scopes))
                return listener.wait(timeout), listener.redirect_uri

        authorization, redirect_uri = self._scoped(consent)
        self._follow(accounts, authorization)
        self._keep(accounts, accounts.exchange_code(authorization.code, redirect_uri))

    def _scoped(self, attempt: Callable[[str], _T], *, retry: bool = True) -> _T:
        """``attempt(scopes)``. When Zoho Accounts answers ``invalid_scope``: an optional
        scope it names (every optional one when it names none) is dropped, noted in
        ``scope_warnings`` with what it costs, and the attempt made once more; a required
        one ends the activation with its name and what it is needed for."""
        dropped: frozenset[str] = frozenset()
        while True:
            asked = scope_string(dropped)
            try:
                return attempt(asked)
            except AuthError as exc:
                if not _invalid_scope(exc):
                    raise
                named = named_in(str(exc), asked)
                required = [s for s in named if not s.optional]
                optional = [s for s in named if s.optional] or [
                    s for s in SCOPES if s.optional and s.name not in dropped
                ]
                if required or not optional or not retry:
                    raise _scope_refused(required or named or optional, asked) from None
                dropped |= {s.name for s in optional}
                self.scope_warnings.extend(
                    f"Zoho Accounts refused the scope {describe(s)}; activated without it"
                    for s in optional
                )

    def _follow(self, accounts: AccountsClient, authorization: Authorization) -> None:
        """Zoho's redirect names the user's data center: later calls go there (multi-DC)."""
        if not authorization.accounts_server:
            return
        accounts.follow(authorization.accounts_server, authorization.location)
        if self.settings.source_of("zoho.accounts_url") != "env RINGODESK_ACCOUNTS_URL":
            self.settings.set("zoho.accounts_url", accounts.accounts_url)
        desk = desk_url_for_accounts_server(authorization.accounts_server, authorization.location)
        if desk and self.settings.raw("zoho.desk_url") is None:
            self.settings.set("zoho.desk_url", desk)

    def _keep(self, accounts: AccountsClient, tokens: TokenSet) -> None:
        if not tokens.refresh_token:
            raise AuthError(
                "Zoho returned no refresh token",
                hint="generate a new code: the consent must ask for offline access",
            )
        self.session.credentials.set("refresh_token", tokens.refresh_token)
        # Keep the fresh access token: the next run needs no token request (10 per 10 min).
        cache = self.session.token_cache()
        with cache.lock():
            previous = cache.read()
            cache.write(
                CacheState(
                    access_token=tokens.access_token,
                    expires_at=tokens.expires_at,
                    accounts_url=accounts.accounts_url,
                    owner=fingerprint(tokens.refresh_token),
                    token_requests=previous.token_requests,
                )
            )

    # -- choices -------------------------------------------------------------------------
    def desk(self) -> DeskClient:
        if self._desk is None:
            self._desk = self.session.desk(require_org=False)
        return self._desk

    def organizations(self) -> list[dict[str, Any]]:
        orgs = self.desk().accessible_organizations()
        if not orgs:
            raise AuthError("this Zoho sign-in can reach no Zoho Desk organization")
        return orgs

    def choose_org(self, orgs: list[dict[str, Any]], ref: str | None) -> dict[str, Any]:
        chosen = _pick(orgs, ref or self.settings.get("zoho.org_id"), ("id", "portalName"))
        if chosen is None:
            if ref:
                raise UsageError(
                    f"organization {ref!r} is not accessible with this sign-in",
                    hint="one of: " + _names(orgs, "companyName"),
                )
            if len(orgs) == 1:
                chosen = orgs[0]
            else:
                raise UsageError(
                    "several organizations are accessible",
                    hint="pass --org ID, one of: " + _names(orgs, "companyName"),
                )
        self.settings.set("zoho.org_id", str(chosen["id"]))
        if chosen.get("portalName"):  # `ringodesk log` links records to the web UI with it
            self.settings.set("zoho.portal", str(chosen["portalName"]))
        self.desk().org_id = str(chosen["id"])
        return chosen

    def departments(self) -> list[dict[str, Any]]:
        return [d for d in self.desk().departments() if d.get("isEnabled", True) is not False]

    def choose_department(
        self, departments: list[dict[str, Any]], ref: str | None
    ) -> dict[str, Any]:
        chosen = _pick(departments, ref or self.settings.get("zoho.department_id"), ("id", "name"))
        if chosen is None:
            if ref:
                raise UsageError(
                    f"department {ref!r} not found",
                    hint="one of: " + _names(departments, "name"),
                )
            defaults = [d for d in departments if d.get("isDefault")]
            if len(departments) == 1 or defaults:
                chosen = (defaults or departments)[0]
            else:
                raise UsageError("no department chosen", hint="pass --department ID or name")
        self.settings.set("zoho.department_id", str(chosen["id"]))
        return chosen

    def agents(self) -> list[dict[str, Any]]:
        return self.desk().agents()

    def choose_senior_manager(
        self, agents: list[dict[str, Any]], ref: str | None
    ) -> dict[str, Any]:
        ref = ref or self.settings.get("integration.senior_manager")
        if not ref:
            raise UsageError(
                "no senior manager chosen",
                hint="pass --senior-manager AGENT (id or e-mail; see `ringodesk agents list`)",
            )
        agent = resolve_agent(str(ref), agents)
        self.settings.set("integration.senior_manager", str(agent["id"]))
        return agent

    def set_task_deadline(self, value: str | None) -> str:
        if value:
            try:
                parse_duration(value)
            except ValueError as exc:
                raise UsageError(f"--task-deadline: {exc}") from None
            self.settings.set("integration.task_deadline", value)
        return str(self.settings.get("integration.task_deadline"))

    def choose_timezone(self, talk: Conversation, given: bool) -> tuple[str, str]:
        """``ringostat.timezone`` and why it is that: given by flag, kept from the profile,
        or suggested (the system zone; Kyiv on a UTC system), asked when interactive."""
        if given:
            return str(self.settings.get(TIMEZONE_KEY)), "--timezone"
        kept = self.settings.raw(TIMEZONE_KEY)
        if kept is not None:
            return str(kept), "kept from the profile"
        zone, reason = suggested_timezone(self.settings.env)
        while talk.interactive:
            answer = talk.ask("Time zone of Ringostat's call times", default=zone).strip()
            if answer == zone:
                break
            try:
                KEYS[TIMEZONE_KEY].check(answer)
            except ValueError as exc:
                talk.tell(str(exc))
                continue
            self.settings.set(TIMEZONE_KEY, answer)
            return answer, "answered"
        self.settings.set(TIMEZONE_KEY, zone)
        return zone, reason

    def save(self) -> None:
        self.settings.save()

    def active_agents(self, agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in agents if is_active(a)]


def _invalid_scope(exc: AuthError) -> bool:
    """Zoho Accounts' ``invalid_scope``: from the token or device endpoint (its error code),
    or from the browser's redirect (in the message)."""
    if isinstance(exc, ZohoError) and exc.error_code:
        return exc.error_code == "invalid_scope"
    return "invalid_scope" in exc.message


def _scope_refused(refused: list[Scope], asked: str) -> AuthError:
    """Zoho named what it refused (``refused``), or named nothing and no optional scope is
    left to drop: then every scope still asked for is listed with its use."""
    listed = refused or [s for s in SCOPES if s.name in asked.split(",")]
    names = "; ".join(describe(s) for s in listed)
    what = "the scope" if refused else "one of the scopes"
    keep = ",".join(n for n in asked.split(",") if n not in {s.name for s in refused if s.optional})
    return AuthError(
        f"Zoho Accounts refused {what} {names} (invalid_scope)",
        hint="ringodesk asks only for scopes of Zoho's documented list; check the client in "
        "api-console.zoho.com, or make a Self Client code with these scopes: " + keep,
    )


def _pick(items: list[dict[str, Any]], ref: object, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if ref in (None, ""):
        return None
    wanted = str(ref).casefold()
    for item in items:
        for key in keys:
            if str(item.get(key, "")).casefold() == wanted:
                return item
    return None


def _names(items: list[dict[str, Any]], label: str) -> str:
    return ", ".join(f"{i.get('id')} ({i.get(label, '')})" for i in items)


# -- the wizard ---------------------------------------------------------------------------

MANAGER_KEY = "integration.senior_manager"
DEADLINE_KEY = "integration.task_deadline"
TIMEZONE_KEY = "ringostat.timezone"


@dataclass
class ActivationRequest:
    """What the flags chose; None means: keep the profile's value, or ask."""

    region: str | None = None
    accounts_url: str | None = None
    desk_url: str | None = None
    client_id: str | None = None
    redirect_port: int | None = None
    device: bool = False
    org: str | None = None
    department: str | None = None
    senior_manager: str | None = None
    task_deadline: str | None = None
    timezone: str | None = None
    attach_recordings: bool | None = None  # recordings.attach


class Conversation(Protocol):
    """The person's side of the wizard. When ``interactive`` is False nothing is asked."""

    interactive: bool

    def ask(self, question: str, default: str | None = None) -> str:
        """A free-text answer."""
        ...

    def tell(self, message: str) -> None:
        """Say something to the person (e.g. why an answer was refused)."""
        ...

    def choose(
        self,
        title: str,
        items: list[dict[str, Any]],
        key: str,
        label: Callable[[dict[str, Any]], str] | None = None,
    ) -> str:
        """The id of one of ``items``, each shown by ``label`` (default: its ``key``)."""
        ...

    def grant_code(self) -> str | None:
        """The Self Client grant code given, if any."""
        ...

    def client_secret(self, stored: bool) -> str | None:
        """A client secret to store, or None to keep the ``stored`` one."""
        ...

    def ringostat_key(self) -> str | None:
        """A Ringostat Auth-key to check and store, if one was given."""
        ...

    def show_device_code(self, code: DeviceCode) -> None: ...

    def open_consent_page(self, url: str) -> None: ...
