"""`ringodesk ringostat login|status`: the Ringostat Auth-key for `[source] kind = "api"`.

The key comes from ``--key-file`` (``-`` = stdin), piped stdin, or a hidden prompt, never
from a flag value; it is checked, then kept with the other secrets (``ringostat.key``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import (
    AppContext,
    InsecureStorageOpt,
    JsonOpt,
    ProfileOpt,
    QuietOpt,
    use,
)
from ringodesk_cli.errors import ExitCode, RingodeskError, UsageError
from ringodesk_cli.redact import register_secret
from ringodesk_cli.setup import ringostat_key
from ringodesk_cli.setup.ringostat_key import ENV_VAR, SECRET, WHERE

app = typer.Typer(help="Ringostat API access: the Auth-key for fetching the call log.")


def _read_key(app_ctx: AppContext, key_file: Path | None) -> str:
    from ringodesk_cli.credentials import read_secret

    what = "Ringostat Auth-key"
    stdin_is_tty = app_ctx.env.stdin_is_tty
    if key_file is not None:
        return read_secret(key_file, sys.stdin, what=what, stdin_is_tty=stdin_is_tty)
    if not stdin_is_tty:
        return read_secret(None, sys.stdin, what=what, stdin_is_tty=False)
    if app_ctx.interactive:
        app_ctx.output.info(f"The key is in the {WHERE}.")
        value = str(typer.prompt("Ringostat Auth-key", hide_input=True)).strip()
        if not value:
            raise UsageError("the Ringostat Auth-key is empty")
        register_secret(value)
        return value
    raise UsageError(
        "no Ringostat Auth-key given",
        hint=f"pass --key-file FILE ('-' = stdin) or pipe it on stdin; for cron, {ENV_VAR} "
        "works without storing it",
    )


@app.command("login")
def login_cmd(
    ctx: typer.Context,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="File holding the Auth-key ('-' = stdin). Also: piped stdin, or a hidden "
            "prompt. Never a plain flag value.",
        ),
    ] = None,
    insecure_storage: InsecureStorageOpt = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Check a Ringostat Auth-key with one small calls/list request, then store it."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if insecure_storage:
        app_ctx.insecure_storage = True
    session = app_ctx.session()
    # A refused key raises (exit 4) before anything is stored.
    ringostat_key.store_checked_key(session, _read_key(app_ctx, key_file))
    data: dict[str, Any] = {
        "profile": session.profile,
        "api_url": session.settings.get("ringostat.api_url"),
        "key": "works",
        "stored_in": session.credentials.kind,
        "overridden_by_env": bool(session.credentials.source(SECRET) == f"env {ENV_VAR}"),
    }
    if data["overridden_by_env"]:
        app_ctx.output.warn(f"{ENV_VAR} is set and wins over the stored key in this shell")
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    else:
        app_ctx.output.info(
            f"Ringostat Auth-key works at {data['api_url']} (ringostat.api_url); stored in the "
            f"{data['stored_in']}"
        )


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Say whether a Ringostat Auth-key is set, where it comes from, and whether it works
    (exit 4 when it is missing or refused, 5 when Ringostat cannot be reached)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    source = session.credentials.source(SECRET)
    data: dict[str, Any] = {
        "profile": session.profile,
        "api_url": session.settings.get("ringostat.api_url"),
        "source_kind": session.settings.get("source.kind"),
        "key_from": source,
        "key": "not set",
    }
    code = ExitCode.OK
    if source is None:
        data["hint"] = "run `ringodesk ringostat login`"
        code = ExitCode.AUTH
    else:
        try:
            ringostat_key.check_key(session, session.credentials.get(SECRET) or "")
            data["key"] = "works"
        except RingodeskError as exc:
            data["key"] = "broken"
            data["error"] = str(exc)
            data["hint"] = exc.hint
            code = exc.exit_code if exc.exit_code != ExitCode.UNEXPECTED else ExitCode.AUTH
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    else:
        out = app_ctx.output
        out.result(f"profile      {data['profile']}")
        out.result(f"api url      {data['api_url']}")
        out.result(f"key from     {source or 'not set'}")
        out.result(f"key          {data['key']}")
        if data.get("error"):
            out.result(f"  {data['error']}")
        if data.get("hint"):
            out.result(f"  hint: {data['hint']}")
    if code:
        raise typer.Exit(int(code))
