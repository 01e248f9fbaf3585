"""The `sandbox` pytest fixture: a started local Zoho Desk sandbox on an ephemeral 127.0.0.1
port, stopped afterwards. Token-request limits are raised so repeated activations in a test
never trip them. Import it in a test module with
``from sandbox_fixture import sandbox  # noqa: F401``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

READINGS = ("strict", "lenient")
# A module whose tests pass under every reading runs each of them once per preset:
# ``pytestmark = both_readings``.
both_readings = pytest.mark.parametrize("sandbox", READINGS, indirect=True)


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """The sandbox under the preset the test is parametrised with (``both_readings``), else
    lenient: contact look-ups by number before the local contact index need the lenient
    search."""
    readings = getattr(request, "param", "lenient")
    cfg = SandboxConfig(port=0, token_requests_per_10min=10_000, readings=readings)
    sb = start_sandbox(cfg)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(params=READINGS, name="sb")
def kyiv_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """``sb``: the sandbox under each reading in turn, its calls/list stand-in reading
    calldate/from/to in Europe/Kyiv (as we assume Ringostat does). Import it with
    ``from sandbox_fixture import kyiv_sandbox  # noqa: F401``."""
    cfg = SandboxConfig(
        port=0,
        token_requests_per_10min=10_000,
        ringostat_timezone="Europe/Kyiv",
        readings=request.param,
    )
    sb = start_sandbox(cfg)
    try:
        yield sb
    finally:
        sb.stop()


def exchange_code(sb: Sandbox, code: str) -> dict[str, Any]:
    """Trade a grant code at the sandbox's token endpoint (form body)."""
    answer: dict[str, Any] = requests.post(
        f"{sb.url}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            "code": code,
        },
        timeout=5,
    ).json()
    return answer


def desk_session(sb: Sandbox, scopes: str | None = None) -> requests.Session:
    """A requests session carrying a fresh access token and the orgId header."""
    token = exchange_code(sb, sb.mint_grant_code(scopes))["access_token"]
    session = requests.Session()
    session.headers.update({"Authorization": f"Zoho-oauthtoken {token}", "orgId": sb.org_id})
    return session


@pytest.fixture(params=["strict", "lenient"])
def people_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox seeded with contacts typed by people and extra custom fields, once under
    each readings preset (``sb.cfg.readings`` says which)."""
    cfg = SandboxConfig(
        port=0,
        token_requests_per_10min=10_000,
        readings=request.param,
        seed_people=True,
        seed_custom_fields=True,
    )
    sb = start_sandbox(cfg)
    try:
        yield sb
    finally:
        sb.stop()
