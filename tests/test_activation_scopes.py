"""Scopes Zoho Accounts refuses with ``invalid_scope`` although they are in Zoho's documented
list, in-process against the sandbox: the browser sign-in (the error comes back on the
redirect, naming nothing) drops the optional scope and asks again; a Self Client code that
Zoho refuses for a scope ends activation naming it and the scope string for a new code."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.errors import AuthError, ZohoAuthError
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.session import Session
from ringodesk_cli.setup.activation import Activator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sandbox(refused: tuple[str, ...]) -> Sandbox:
    cfg = SandboxConfig(port=0, token_requests_per_10min=10_000, refused_scopes=refused)
    return start_sandbox(cfg)


@pytest.fixture
def search_refused() -> Iterator[Sandbox]:
    sb = _sandbox(("Desk.search.READ",))
    yield sb
    sb.stop()


def _activator(sb: Sandbox) -> Activator:
    act = Activator(Session.open("default", Paths.discover()))
    act.configure(
        region=None, accounts_url=sb.url, desk_url=sb.url, client_id=sb.client_id,
        redirect_port=_free_port(),
    )  # fmt: skip
    act.store_client_secret(sb.client_secret)
    return act


def test_the_browser_sign_in_asks_again_without_the_optional_scope(
    search_refused: Sandbox,
) -> None:
    opened: list[str] = []

    def browser(url: str) -> None:  # the person's browser: follows Zoho's redirect
        opened.append(url)
        requests.get(url, timeout=10)

    act = _activator(search_refused)
    act.sign_in_with_browser(browser)
    assert len(opened) == 2
    assert "Desk.search.READ" in requests.utils.unquote(opened[0])
    assert "Desk.search.READ" not in requests.utils.unquote(opened[1])
    (granted,) = [t["scopes"] for t in search_refused.accounts.refresh_tokens.values()]
    assert "Desk.search.READ" not in granted and "Desk.tickets.ALL" in granted
    (warning,) = act.scope_warnings
    assert warning.startswith("Zoho Accounts refused the scope Desk.search.READ (optional:")
    assert act.has_refresh_token()


def test_a_browser_sign_in_refused_for_a_required_scope_lists_what_each_is_for() -> None:
    sb = _sandbox(("Desk.contacts.ALL",))
    try:
        act = _activator(sb)
        with pytest.raises(AuthError) as refused:
            act.sign_in_with_browser(lambda url: requests.get(url, timeout=10).close())
    finally:
        sb.stop()
    # Nothing named on the redirect: the optional scope was dropped first, then every scope
    # still asked for is listed with its use.
    assert "Desk.contacts.ALL (required: finding and creating contacts)" in refused.value.message
    assert "Desk.search.READ" not in refused.value.message
    assert not act.has_refresh_token()


def test_a_self_client_code_refused_for_a_scope_names_it_and_the_scopes_to_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb = _sandbox(())
    try:
        act = _activator(sb)
        accounts = act.accounts()

        def refuse(code: str, redirect_uri: str | None = None) -> None:
            raise ZohoAuthError(
                "Zoho Accounts refused the request (invalid_scope): Invalid scope: "
                "Desk.search.READ",
                error_code="invalid_scope",
            )

        monkeypatch.setattr(type(accounts), "exchange_code", lambda self, *a, **k: refuse(*a))
        with pytest.raises(AuthError) as refused:
            act.sign_in_with_code("1000.code")
    finally:
        sb.stop()
    assert "Desk.search.READ (optional:" in refused.value.message
    assert refused.value.hint is not None
    assert refused.value.hint.endswith(
        "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
        "Desk.calls.ALL,Desk.tasks.ALL"
    )
