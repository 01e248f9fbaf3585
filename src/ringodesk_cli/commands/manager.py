"""`ringodesk manager show|set`: the senior manager, owner of missed-call work."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.render import agent_row
from ringodesk_cli.setup.employees import agent_label, find_agent, resolve_agent

app = typer.Typer(help="The senior manager: owner of missed-call work.")


@app.command("show")
def manager_show(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Show the senior manager, checked against the live agents."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    manager_id = session.require("integration.senior_manager")
    agent = find_agent(manager_id, session.desk().agents())
    data: dict[str, Any] = {"id": manager_id, "found": agent is not None}
    if agent is not None:
        data.update(agent_row(dict(agent)))
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    elif agent is None:
        app_ctx.output.result(f"{manager_id} (no such agent in Zoho Desk any more)")
    else:
        app_ctx.output.result(f"{agent_label(agent)}  id {manager_id}  {data['status']}")
    if agent is None or data.get("status") != "ACTIVE":
        raise typer.Exit(3)


@app.command("set")
def manager_set(
    ctx: typer.Context,
    agent_ref: Annotated[str, typer.Argument(metavar="AGENT", help="Agent id or e-mail.")],
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Choose the senior manager (an active agent, by id or e-mail)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    agent = resolve_agent(agent_ref, session.desk().agents())
    session.settings.set("integration.senior_manager", str(agent["id"]))
    session.settings.save()
    if app_ctx.json_mode:
        app_ctx.output.json(agent_row(agent))
    else:
        app_ctx.output.info(f"senior manager: {agent_label(agent)} ({agent['id']})")
