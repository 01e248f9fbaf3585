"""`ringodesk employees list|link|unlink`: Ringostat employees -> Zoho Desk agents."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ExitCode
from ringodesk_cli.setup.employees import TABLE, agent_label, link, link_statuses, unlink

app = typer.Typer(
    help="Link Ringostat employees (name, number or SIP) to Zoho Desk agents.",
    no_args_is_help=True,
)

KeyArg = Annotated[
    str,
    typer.Argument(
        metavar="KEY",
        help="The employee as the call log names them: full name, employee number or SIP "
        "login (write sip:LOGIN to match SIP logins only).",
    ),
]


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """List the links, each checked against the live agents (exit 3 if one is broken)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    links = session.settings.table(TABLE)
    statuses = link_statuses(links, session.desk().agents()) if links else []
    if app_ctx.json_mode:
        app_ctx.output.json([asdict(s) for s in statuses])
    elif not statuses:
        app_ctx.output.info(
            "no employee links: every call goes to the senior manager "
            "(add one with `ringodesk employees link KEY AGENT`)"
        )
    else:
        app_ctx.output.table(
            ["employee", "agent id", "agent", "state"],
            [(s.key, s.agent_id, s.agent, s.state) for s in statuses],
            title=f"[{TABLE}] in {session.settings.path}",
        )
    if any(s.state != "ok" for s in statuses):
        raise typer.Exit(ExitCode.CONFIG)


@app.command("link")
def link_cmd(
    ctx: typer.Context,
    key: KeyArg,
    agent_ref: Annotated[str, typer.Argument(metavar="AGENT", help="Agent id or e-mail.")],
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Link an employee to an active Zoho Desk agent (by id or e-mail)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    agents = session.desk().agents()
    agent_id = link(session.settings, key, agent_ref, agents)
    session.settings.save()
    label = next((agent_label(a) for a in agents if str(a.get("id")) == agent_id), agent_id)
    if app_ctx.json_mode:
        app_ctx.output.json({"key": key.strip(), "agent_id": agent_id, "agent": label})
    else:
        app_ctx.output.info(f"{key.strip()} -> {label} ({agent_id})")


@app.command("unlink")
def unlink_cmd(
    ctx: typer.Context,
    key: KeyArg,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Remove an employee's link (their calls then go to the senior manager)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    removed = unlink(settings, key)
    settings.save()
    if app_ctx.json_mode:
        app_ctx.output.json({"removed": removed})
    else:
        app_ctx.output.info(f"unlinked {removed}")
