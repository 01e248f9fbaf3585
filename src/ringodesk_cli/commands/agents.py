"""`ringodesk agents list`."""

from __future__ import annotations

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.render import agent_row

app = typer.Typer(help="Zoho Desk agents.", no_args_is_help=True)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """List every agent (all pages): id, name, e-mail, status."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    rows = [agent_row(a) for a in session.desk().agents()]
    manager = session.settings.get("integration.senior_manager")
    for row in rows:
        row["senior_manager"] = row["id"] == manager
    if app_ctx.json_mode:
        app_ctx.output.json(rows)
        return
    app_ctx.output.table(
        ["id", "name", "e-mail", "status", "senior manager"],
        [
            (r["id"], r["name"], r["email"], r["status"], "yes" if r["senior_manager"] else "")
            for r in rows
        ],
        title=f"{len(rows)} agents",
    )
