"""Scopes, end to end: `ringodesk activate --device` through the installed command against a
sandbox whose Zoho Accounts refuses every scope outside Zoho's documented scope list (the
strict reading ``scopes=documented``). ringodesk asks only for documented scopes; a
documented one refused anyway is dropped when optional (activation says what it costs) and
ends activation, named with its use, when required."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e import RINGODESK, SENIOR, Result

from ringodesk_cli.errors import ExitCode
from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

# Written out by hand: what a profile asks for, each in Zoho's scope list (Common.json) or
# the .ALL form of a stem in it.
ASKED = [
    "Desk.basic.READ", "Desk.settings.ALL", "Desk.tickets.ALL", "Desk.contacts.ALL",
    "Desk.calls.ALL", "Desk.tasks.ALL", "Desk.search.READ",
]  # fmt: skip


def _sandbox(refused: tuple[str, ...] = ()) -> Sandbox:
    cfg = SandboxConfig(
        port=0, token_requests_per_10min=10_000, readings="strict", device_poll_interval=1,
        device_code_lifetime=30, refused_scopes=refused,
    )  # fmt: skip
    return start_sandbox(cfg)


@pytest.fixture
def strict_sb() -> Iterator[Sandbox]:
    sb = _sandbox()
    yield sb
    sb.stop()


def _activate_device(sb: Sandbox, env: dict[str, str], tmp: Path) -> Result:
    """`activate --device --json`, approving the code it shows as a person would."""
    secret = tmp / "client-secret.txt"
    secret.write_text(sb.client_secret + "\n")
    args = [
        str(RINGODESK), "--json", "activate", "--no-input", "--device",
        "--accounts-url", sb.url, "--desk-url", sb.url, "--client-id", sb.client_id,
        "--client-secret-file", str(secret), "--senior-manager", SENIOR,
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # The person: opens the verification page with the code the command showed (read here
    # from the sandbox, as --json keeps the terminal quiet) and accepts.
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        with sb.accounts.lock:
            codes = [d["user_code"] for d in sb.accounts.devices.values()]
        if codes:
            requests.get(f"{sb.url}/oauth/v3/device", params={"user_code": codes[0]}, timeout=5)
            break
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    return Result(proc.returncode, out, err)


def _granted(sb: Sandbox) -> list[list[str]]:
    return [list(t["scopes"]) for t in sb.accounts.refresh_tokens.values()]


def test_the_device_flow_activates_asking_only_documented_scopes(
    strict_sb: Sandbox, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    result = _activate_device(strict_sb, subprocess_env, tmp_path)
    assert result.code == 0, result
    assert _granted(strict_sb) == [ASKED]
    assert result.json()["signed_in"] == "device"
    assert not any("scope" in w for w in result.json()["warnings"])


def test_an_optional_scope_refused_anyway_is_dropped_and_its_cost_told(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    sb = _sandbox(("Desk.search.READ",))
    try:
        result = _activate_device(sb, subprocess_env, tmp_path)
        granted = _granted(sb)
    finally:
        sb.stop()
    assert result.code == 0, result
    assert granted == [ASKED[:-1]]
    (warning,) = [w for w in result.json()["warnings"] if "Desk.search.READ" in w]
    assert "optional" in warning and "contact index" in warning
    assert "activated without it" in warning


def test_a_required_scope_refused_ends_activation_naming_it_and_its_use(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    sb = _sandbox(("Desk.tickets.ALL",))
    try:
        result = _activate_device(sb, subprocess_env, tmp_path)
        granted = _granted(sb)
    finally:
        sb.stop()
    assert result.code == ExitCode.AUTH, result
    assert granted == []
    assert "Desk.tickets.ALL" in result.stderr
    assert "creating and updating tickets" in result.stderr
    assert "Traceback" not in result.stderr


def _device_code(sb: Sandbox, scope: str) -> dict[str, Any]:
    answer = requests.post(
        f"{sb.url}/oauth/v3/device/code",
        data={"grant_type": "device_request", "client_id": sb.client_id, "scope": scope},
        timeout=5,
    )
    body: dict[str, Any] = answer.json()
    return body


def test_the_strict_sandbox_refuses_an_undocumented_scope_and_the_lenient_grants_it() -> None:
    strict, lenient = _sandbox(), start_sandbox(SandboxConfig(port=0, readings="lenient"))
    try:
        refused = _device_code(strict, "Desk.tickets.ALL,Desk.activities.calls.UPDATE")
        assert refused["error"] == "invalid_scope"
        assert "Desk.activities.calls.UPDATE" in refused["error_description"]
        assert "user_code" in _device_code(strict, "Desk.tickets.ALL,desk.Calls.all")
        assert "user_code" in _device_code(lenient, "Desk.activities.calls.UPDATE")
        query = {
            "response_type": "code",
            "client_id": strict.client_id,
            "state": "s1",
            "scope": "Desk.activities.calls.UPDATE",
            "redirect_uri": "http://127.0.0.1:9/callback",
        }
        consent = requests.get(
            f"{strict.url}/oauth/v2/auth", params=query, allow_redirects=False, timeout=5
        )
        assert consent.status_code == 302
        location = consent.headers["Location"]
        assert location.startswith("http://127.0.0.1:9/callback?error=invalid_scope")
        assert "state=s1" in location and "code=" not in location
    finally:
        strict.stop()
        lenient.stop()
