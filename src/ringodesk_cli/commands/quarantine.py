"""`ringodesk quarantine list|drop`: export rows that could not become calls."""

from __future__ import annotations

from typing import Annotated

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use

app = typer.Typer(help="Rows that could not become calls: list them, drop them once fixed.")


@app.command("list")
def quarantine_list(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """List the quarantined rows: id, file, line, field, reason and when first seen.

    A row stays here until dropped, also after the export was fixed and read again.
    """
    from ringodesk_cli.sync.quarantine import list_quarantined

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    rows = list_quarantined(app_ctx.paths.state_dir(app_ctx.profile))
    out = app_ctx.output
    if app_ctx.json_mode:
        out.json([row.as_dict() for row in rows])
        return
    if not rows:
        out.result("no quarantined rows")
        return
    out.table(
        ("id", "file", "line", "call", "field", "reason", "first seen"),
        [
            (str(r.id), r.source, str(r.line), r.ringostat_id, r.field, r.reason, r.first_seen)
            for r in rows
        ],
    )
    out.result(
        f"{len(rows)} quarantined row(s): fix them in the export and sync it again, then "
        "`ringodesk quarantine drop ID` (or --all)"
    )


@app.command("drop")
def quarantine_drop(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID...", help="Ids from `quarantine list`.")
    ] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Drop every quarantined row.")] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Forget quarantined rows (a row still wrong in an export read again comes back)."""
    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.sync.quarantine import drop_quarantined

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if bool(ids) == all_rows:
        raise UsageError("give the ids to drop, or --all (not both)")
    dropped = drop_quarantined(app_ctx.paths.state_dir(app_ctx.profile), None if all_rows else ids)
    if app_ctx.json_mode:
        app_ctx.output.json({"dropped": dropped})
    else:
        app_ctx.output.result(f"dropped {dropped} quarantined row(s)")
