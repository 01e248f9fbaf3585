"""Settings mistakes through the installed `ringodesk` against the sandbox: each is exit 3
naming what is wrong (the key, the profile), never a misleading sign-in hint; `auth status`
keeps the exit code its help gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e import Call, Desk, ago, write_export
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    d.setup()
    return d


def test_concurrency_above_zohos_limit_is_refused_by_config_set_and_in_the_file(
    desk: Desk,
) -> None:
    refused = desk.run("config", "set", "zoho.concurrency", "10000")
    assert refused.code == 3, refused
    assert "zoho.concurrency: 10000 is not 1-25" in refused.stderr
    assert desk.run("config", "get", "zoho.concurrency").stdout.strip() == "5"  # unchanged
    assert desk.run("config", "set", "zoho.concurrency", "25").code == 0
    path = Path(desk.run("config", "path").stdout.strip())
    path.write_text(path.read_text().replace("concurrency = 25", "concurrency = 26"))
    synced = desk.sync()
    assert synced.code == 3, synced
    assert "zoho.concurrency: 26 is not 1-25" in synced.stderr and str(path) in synced.stderr


def test_an_unknown_profile_is_named_with_the_existing_ones(desk: Desk) -> None:
    export = write_export(desk.tmp / "calls.csv", [Call("u1.1", "+380671112201", ago(30))])
    for args, env in (
        (("--profile", "nosuch", "sync", str(export)), {}),
        (("sync", "--profile", "nosuch", str(export)), {}),
        (("agents", "list"), {"RINGODESK_PROFILE": "nosuch"}),
        (("--profile", "nosuch", "auth", "status"), {}),
        (("--profile", "nosuch", "fields", "check"), {}),
    ):
        result = Desk(desk.sb, desk.env | env, desk.tmp).run(*args)
        assert result.code == 3, (args, result)
        assert "no profile named nosuch (profiles: default)" in result.stderr, args
        assert "senior_manager" not in result.stderr
    assert not (Path(desk.env["RINGODESK_HOME"]) / "config" / "nosuch.toml").exists()
    assert desk.creating() == 0
    # activate is how a profile comes to exist: it is not refused.
    made = desk.run(
        "--profile", "nosuch", "activate", "--no-input", "--accounts-url", desk.sb.url,
        "--desk-url", desk.sb.url, "--client-id", desk.sb.client_id, "--client-secret-file",
        str(desk.secret), "--grant-code", desk.sb.mint_grant_code(), "--senior-manager",
        "olena@sandbox.example",
    )  # fmt: skip
    assert made.code == 0, made
    assert desk.run("--profile", "nosuch", "agents", "list").code == 0


def test_a_missing_required_setting_is_exit_3_naming_the_key(desk: Desk) -> None:
    export = write_export(desk.tmp / "calls.csv", [Call("u2.1", "+380671112202", ago(30))])
    assert desk.run("config", "unset", "zoho.org_id").code == 0
    for args in (("sync", str(export)), ("agents", "list"), ("fields", "check")):
        result = desk.run(*args)
        assert result.code == 3, (args, result)
        assert "zoho.org_id not set in" in result.stderr, args
        assert "password" not in result.stderr  # not the sign-in hint
    assert desk.creating() == 0


def test_auth_status_exits_4_when_not_signed_in_or_the_store_is_broken(desk: Desk) -> None:
    assert desk.run("auth", "status").code == 0
    no_keyring = Desk(
        desk.sb, desk.env | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}, desk.tmp
    )
    broken = no_keyring.run("auth", "status", "--json")
    assert broken.code == 4, broken
    assert broken.json()["token"] == "broken"
    assert desk.run("auth", "logout").code == 0
    signed_out = desk.run("auth", "status")
    assert signed_out.code == 4, signed_out
    assert "token        broken" in signed_out.stdout
