"""`ringodesk auth status|logout`."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ExitCode, RingodeskError

app = typer.Typer(help="Sign-in state: where secrets live, whether the token works.")


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Say which secret store is used and whether the Zoho token works.

    Exit codes: 0 the token works, 4 not signed in or the token (or the store that keeps it)
    does not work, 5 Zoho cannot be reached, 3 the profile named by --profile does not exist.
    """
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    store = session.credentials.describe()
    data: dict[str, Any] = {
        "profile": session.profile,
        "store": store,
        "client_id": session.settings.get("zoho.client_id"),
        "org_id": session.settings.get("zoho.org_id"),
        "token": "unknown",
    }
    code = ExitCode.OK
    try:
        accounts_url, desk_url = session.urls()
        data["accounts_url"], data["desk_url"] = accounts_url, desk_url
        desk = session.desk(require_org=False)
        orgs = desk.accessible_organizations()
        data["token"] = "works"
        data["organizations"] = [str(o.get("id")) for o in orgs]
    except RingodeskError as exc:
        data["token"] = "broken"
        data["error"] = str(exc)
        data["hint"] = exc.hint
        # Anything that keeps the token from working means "not signed in" (a keyring that
        # cannot be read, a setting activate writes), except Zoho being out of reach.
        unreachable = exc.exit_code == ExitCode.UNAVAILABLE
        code = ExitCode.UNAVAILABLE if unreachable else ExitCode.AUTH
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    else:
        out = app_ctx.output
        out.result(f"profile      {data['profile']}")
        out.result(f"secrets in   {store.get('store')}")
        secrets = store.get("secrets")
        if isinstance(secrets, dict):
            for name, source in secrets.items():
                out.result(f"  {name:<14}{source or 'not set'}")
        if store.get("problem"):
            out.result(f"  problem: {store['problem']}")
        out.result(f"token        {data['token']}")
        if data.get("error"):
            out.result(f"  {data['error']}")
            if data.get("hint"):
                out.result(f"  hint: {data['hint']}")
    if code:
        raise typer.Exit(int(code))


@app.command("logout")
def logout_cmd(
    ctx: typer.Context,
    forget_client: Annotated[
        bool, typer.Option("--forget-client", help="Also delete the stored client secret.")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Revoke the refresh token at Zoho, then delete it and the cached access token."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    revoked = False
    error = None
    refresh_token = session.credentials.get("refresh_token")
    if refresh_token:
        try:
            session.accounts().revoke(refresh_token)
            revoked = True
        except RingodeskError as exc:
            error = str(exc)
    session.credentials.delete("refresh_token")
    if forget_client:
        session.credentials.delete("client_secret")
    with contextlib.suppress(FileNotFoundError):
        session.token_cache().clear()
    data = {"revoked_at_zoho": revoked, "deleted_locally": True, "revoke_error": error}
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    else:
        if error:
            app_ctx.output.warn(f"could not revoke at Zoho: {error}")
        app_ctx.output.info(
            "signed out" + (" (revoked at Zoho)" if revoked else "") + "; deleted locally"
        )
