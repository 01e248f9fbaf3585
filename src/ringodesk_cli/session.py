"""Wires a profile's settings and credentials into ready Zoho clients.

The only module that knows where the token cache lives and which URL wins (flag > env >
settings > the region's default). Commands ask it for a Desk client and get one that
refreshes its own token, or an ``AuthError`` that says to run ``ringodesk activate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.credentials import CredentialStore
from ringodesk_cli.errors import AuthError

if TYPE_CHECKING:
    from ringodesk_cli.zoho.accounts import AccountsClient
    from ringodesk_cli.zoho.desk import DeskClient
    from ringodesk_cli.zoho.tokens import TokenCache, TokenProvider


@dataclass
class Session:
    profile: str
    paths: Paths
    settings: Settings
    credentials: CredentialStore

    @classmethod
    def open(
        cls,
        profile: str,
        paths: Paths,
        *,
        insecure: bool = False,
        warn: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Session:
        settings = Settings.load(profile, paths)
        credentials = CredentialStore(
            profile, paths.state_dir(profile), insecure=insecure, warn=warn, env=env
        )
        return cls(profile, paths, settings, credentials)

    @property
    def state_dir(self) -> Path:
        return self.paths.state_dir(self.profile)

    # -- URLs ----------------------------------------------------------------------------
    def urls(self) -> tuple[str, str]:
        """(accounts_url, desk_url): env or settings override the region's hosts."""
        from ringodesk_cli.zoho.regions import resolve_urls

        return resolve_urls(
            self.settings.get("zoho.region"),
            self.settings.get("zoho.accounts_url"),
            self.settings.get("zoho.desk_url"),
        )

    # -- clients -------------------------------------------------------------------------
    def client_id(self) -> str:
        return self.settings.require("zoho.client_id")

    def accounts(self, client_secret: str | None = None) -> AccountsClient:
        from ringodesk_cli.zoho.accounts import AccountsClient

        secret = client_secret or self.credentials.get("client_secret")
        if not secret:
            raise AuthError("no client secret is stored for this profile")
        accounts_url, _ = self.urls()
        return AccountsClient(accounts_url, self.client_id(), secret)

    def token_cache(self) -> TokenCache:
        from ringodesk_cli.zoho.tokens import CACHE_FILE_NAME, TokenCache

        return TokenCache(self.state_dir / CACHE_FILE_NAME)

    def token_provider(self) -> TokenProvider:
        from ringodesk_cli.zoho.tokens import TokenProvider

        refresh_token = self.credentials.get("refresh_token")
        if not refresh_token:
            raise AuthError("this profile is not signed in to Zoho")
        return TokenProvider(self.accounts(), refresh_token, self.token_cache())

    def desk(self, *, require_org: bool = True) -> DeskClient:
        from ringodesk_cli.zoho.desk import DeskClient

        # A missing setting is a configuration error (exit 3) naming the key, not a sign-in
        # problem: `config unset zoho.org_id` needs `config set`, not a new password.
        if require_org:
            self.settings.require("zoho.org_id")
        org_id = self.settings.get("zoho.org_id")
        from ringodesk_cli.zoho.answers import ANSWERS_FILE_NAME, KnownAnswers

        _, desk_url = self.urls()
        answers = KnownAnswers(self.state_dir / ANSWERS_FILE_NAME)
        return DeskClient(desk_url, self.token_provider(), org_id, answers=answers)

    def require(self, name: str) -> str:
        """The value of a setting that must be set (``Settings.require``)."""
        return self.settings.require(name)
