"""`ringodesk agents list` and `ringodesk manager show|set`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.setup.employees import agent_label, agent_name, find_agent, resolve_agent

app = typer.Typer(help="Zoho Desk agents.", no_args_is_help=True)
manager_app = typer.Typer(help="The senior manager (R4): owner of missed-call work.")


def agent_row(agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(agent.get("id")),
        "name": agent_name(agent),
        "email": agent.get("emailId"),
        "status": str(agent.get("status") or "ACTIVE").upper(),
    }


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


@manager_app.command("show")
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


@manager_app.command("set")
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
