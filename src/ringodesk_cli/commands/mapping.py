"""`ringodesk mapping list|set|unset|check`: Ringostat parameter -> Zoho Desk field (R10-R12)."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ExitCode
from ringodesk_cli.ringostat.catalogue import PARAMETERS
from ringodesk_cli.setup.fields import FieldSource
from ringodesk_cli.setup.mappings import (
    MODULE_OF,
    TABLE_OF,
    TARGETS,
    check_mappings,
    mapping_rows,
    set_mapping,
    unset_mapping,
)

app = typer.Typer(
    help="Send more Ringostat parameters to ticket and contact custom fields.",
    no_args_is_help=True,
)


class TargetChoice(StrEnum):
    ticket = "ticket"
    contact = "contact"


TargetArg = Annotated[
    TargetChoice, typer.Argument(metavar="ticket|contact", help="Which mapping to edit.")
]
ParamArg = Annotated[
    str, typer.Argument(metavar="PARAM", help="Ringostat call-log parameter, e.g. landing.")
]


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    parameters: Annotated[
        bool, typer.Option("--parameters", help="Also list every Ringostat parameter.")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Show the default parameters (fixed, R10) and both user mappings (R11)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    rows = mapping_rows(app_ctx.settings())
    if app_ctx.json_mode:
        data: dict[str, object] = {"mappings": [asdict(r) for r in rows]}
        if parameters:
            data["parameters"] = PARAMETERS
        app_ctx.output.json(data)
        return
    app_ctx.output.table(
        ["mapping", "parameter", "field", "editable"],
        [(r.target, r.parameter, r.field, "yes" if r.editable else "no") for r in rows],
        title="parameter mappings",
    )
    if parameters:
        app_ctx.output.table(
            ["parameter", "meaning"], sorted(PARAMETERS.items()), title="Ringostat parameters"
        )


@app.command("set")
def set_cmd(
    ctx: typer.Context,
    target: TargetArg,
    param: ParamArg,
    field_ref: Annotated[
        str, typer.Argument(metavar="FIELD", help="Custom field apiName (or display label).")
    ],
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Map a parameter to a single-line text custom field, checked against live fields."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    fields = FieldSource(session.desk()).list(MODULE_OF[target.value])
    name, api_name = set_mapping(session.settings, target.value, param, field_ref, fields=fields)
    session.settings.save()
    if app_ctx.json_mode:
        app_ctx.output.json({"mapping": target.value, "parameter": name, "field": api_name})
    else:
        app_ctx.output.info(f"[{TABLE_OF[target.value]}] {name} -> {api_name}")


@app.command("unset")
def unset_cmd(
    ctx: typer.Context,
    target: TargetArg,
    param: ParamArg,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Remove a parameter's mapping."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    removed = unset_mapping(settings, target.value, param)
    settings.save()
    if app_ctx.json_mode:
        app_ctx.output.json({"mapping": target.value, "removed": removed})
    else:
        app_ctx.output.info(f"[{TABLE_OF[target.value]}] {removed} removed")


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Re-check every mapping against the live fields (exit 3 when one is broken)."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    source = FieldSource(session.desk())
    used = [t for t in TARGETS if session.settings.table(TABLE_OF[t])]
    fields = {MODULE_OF[t]: source.list(MODULE_OF[t]) for t in used}
    problems = check_mappings(session.settings, fields)
    if app_ctx.json_mode:
        app_ctx.output.json({"ok": not problems, "problems": [asdict(p) for p in problems]})
    elif problems:
        for problem in problems:
            app_ctx.output.result(problem.message)
    else:
        app_ctx.output.result("every mapping targets a usable single-line text field")
    if problems:
        raise typer.Exit(ExitCode.CONFIG)
