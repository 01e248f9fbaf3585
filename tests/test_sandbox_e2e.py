"""End to end: the installed `ringodesk` as a subprocess against the sandbox on 127.0.0.1
(issue 3 "Must show"): activate with a Self Client code minted by the sandbox, then
`agents list --json` and `manager set`."""

# The fixture is imported (not yet in conftest), so using it as a parameter reads as F811.
# ruff: noqa: F811

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

RINGODESK = str(Path(sys.executable).parent / "ringodesk")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGODESK, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_installed_cli_activates_lists_agents_and_sets_the_manager(
    sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text(sandbox.client_secret + "\n")
    activated = _run(
        subprocess_env, "activate", "--accounts-url", sandbox.url, "--desk-url", sandbox.url,
        "--client-id", sandbox.client_id, "--client-secret-file", str(secret),
        "--grant-code", sandbox.mint_grant_code(), "--senior-manager", "olena@sandbox.example",
        "--no-input",
    )  # fmt: skip
    assert activated.returncode == 0, activated.stderr
    assert sandbox.request_counts()["POST /oauth/v2/token"] == 1

    listed = _run(subprocess_env, "agents", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    agents = json.loads(listed.stdout)
    assert {a["id"] for a in agents} == {a["id"] for a in sandbox.records("agents")}

    taras = next(a for a in sandbox.records("agents") if a["emailId"] == "taras@sandbox.example")
    managed = _run(subprocess_env, "manager", "set", "taras@sandbox.example")
    assert managed.returncode == 0, managed.stderr
    stored = _run(subprocess_env, "config", "get", "integration.senior_manager")
    assert stored.stdout.strip() == taras["id"], stored.stderr
    # Every Desk request carried the orgId header (DeskDoc), none relied on the query form.
    desk = [e for e in sandbox.request_log() if e["path"].startswith("/api/v1/")]
    assert desk and all(e["status"] in (200, 204) for e in desk)
    org_scoped = [e for e in desk if "Organizations" not in e["path"]]
    assert all(e["orgIdHeader"] == sandbox.org_id for e in org_scoped)
