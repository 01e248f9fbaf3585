"""`ringodesk retry`: re-attempt failed calls now, with the same once-only rules as sync."""

from __future__ import annotations

from typing import Annotated

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use


def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[RINGOSTAT_ID]...", help="Calls to re-attempt (see `log`)."),
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Every call Zoho refused (`log --status failed`).")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Send failed (or pending) calls again now, e.g. after fixing what Zoho refused.

    What was already created for a call is reused, never created twice. Reads no export.

    Exit codes as sync: 0 ok, 3 config, 4 auth, 5 Zoho unavailable (calls stay pending),
    6 some calls failed again, 7 another run is busy.
    """
    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.sync.service import SyncOptions, run_sync

    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if not ids and not failed:
        raise UsageError("name the calls to retry, or --failed for every failed call")
    options = SyncOptions(retry=tuple(ids or ()), retry_failed=failed)
    with app.interrupts.graceful() as stop:
        result = run_sync(app.session(), [], options, stop=stop, clock=app.env.clock)
    data = result.as_dict()
    out = app.output
    for line in data["failures"]:
        out.error(f"failed: {line}")
    for line in data["notices"]:
        out.warn(line)
    if app.json_mode:
        out.json(data)
    else:
        if data["stopped"]:
            out.error(f"stopped: {data['stopped']}", data.get("hint"))
        out.result(
            f"retry done: delivered {data['delivered']}, updated {data['updated']}, "
            f"failed {data['failed']}, pending {data['pending']}"
        )
    code = app.interrupts.exit_code if result.summary.interrupted else result.exit_code
    if code:
        raise typer.Exit(code)
