"""`ringodesk routing check`."""

from __future__ import annotations

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ConfigError
from ringodesk_cli.rules.routing import routing_report

app = typer.Typer(help="Routes: which department and senior manager a call goes to.",
                  no_args_is_help=True)  # fmt: skip


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Check every [[routing]] entry against Zoho Desk's departments and agents."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    report = routing_report(session.settings, session.desk())
    if app_ctx.json_mode:
        app_ctx.output.json({"routes": report})
    else:
        app_ctx.output.table(
            ["route", "match", "department", "senior manager", "tickets", "check"],
            [
                (
                    str(r["route"]),
                    r["match"],
                    r["department"],
                    r["senior_manager"] or "",
                    r["tickets"],
                    "ok" if r["ok"] else "; ".join(r["problems"]),
                )
                for r in report
            ],
            title=f"{len(report)} routes (first match wins; others: the profile's settings)",
        )
    bad = [r for r in report if not r["ok"]]
    if bad:
        raise ConfigError(
            f"{len(bad)} of {len(report)} routes do not resolve",
            hint="fix the [[routing]] entries named above in the settings file",
        )
