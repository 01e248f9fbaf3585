"""`ringodesk fields create|list|check`: the six rs_* custom fields on each of tickets and
contacts (12 in all)."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ExitCode
from ringodesk_cli.setup.fields import (
    MODULES,
    FieldResult,
    Status,
    check_fields,
    ensure_fields,
    list_module_fields,
    record_fields,
)

app = typer.Typer(
    help="The rs_* custom fields: six on each of tickets and contacts (12 in all).",
    no_args_is_help=True,
)


class Module(StrEnum):
    tickets = "tickets"
    contacts = "contacts"


def result_row(result: FieldResult) -> dict[str, Any]:
    return {
        "module": result.module,
        "label": result.label,
        "status": result.status,
        "apiName": result.api_name,
        "id": result.field_id,
        "reason": result.reason,
        "request": result.request,
        "body": result.body,
    }


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List only; show the requests that would be sent.")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Create the six rs_* fields on each of tickets and contacts (12 in all).

    Existing ones are reused; their apiNames are recorded in the profile.
    """
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    report = ensure_fields(session.desk(), dry_run=dry_run)
    recorded = False
    if not dry_run and record_fields(session.settings, report):
        session.settings.save()
        recorded = True
    out = app_ctx.output
    statuses: tuple[Status, ...] = (
        "created",
        "already there",
        "conflict",
        "failed",
        "would create",
    )
    summary = {status: report.count(status) for status in statuses}
    if app_ctx.json_mode:
        out.json(
            {
                "dry_run": dry_run,
                "api": report.api,
                "recorded": recorded,
                "summary": summary,
                "fields": [result_row(r) for r in report.results],
            }
        )
    else:
        out.table(
            ["module", "field", "status", "apiName", "note"],
            [
                (r.module, r.label, r.status, r.api_name, r.reason or _request_text(r))
                for r in report.results
            ],
            title=f"custom fields ({report.api} API)" + (" - dry run" if dry_run else ""),
        )
        out.info(", ".join(f"{n} {status}" for status, n in summary.items() if n))
        if recorded:
            out.info(f"apiNames recorded in {session.settings.path}")
    if report.error is not None:
        raise report.error
    if not report.ok:
        raise typer.Exit(ExitCode.CONFIG)


def _request_text(result: FieldResult) -> str:
    if result.status != "would create" or result.request is None:
        return ""
    return f"{result.request} {json.dumps(result.body, separators=(',', ':'))}"


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    module: Annotated[
        Module | None, typer.Option("--module", "-m", help="Only this module.")
    ] = None,
    custom: Annotated[bool, typer.Option("--custom", help="Only custom fields.")] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """List the fields Zoho Desk has on tickets and contacts."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    client = app_ctx.session().desk()
    modules = [module.value] if module else list(MODULES)
    infos = [info for m in modules for info in list_module_fields(client, m, custom_only=custom)]
    if app_ctx.json_mode:
        app_ctx.output.json([asdict(i) for i in infos])
        return
    app_ctx.output.table(
        ["module", "apiName", "label", "type", "custom", "max length"],
        [
            (i.module, i.api_name, i.label, i.type, "yes" if i.custom else "", i.max_length)
            for i in infos
        ],
        title=f"{len(infos)} fields",
    )


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Check the 12 rs_* fields: six on each of tickets and contacts.

    Each must exist as single-line text and be recorded in the profile (exit 3 if not).
    """
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    problems = check_fields(session.desk(), session.settings)
    if app_ctx.json_mode:
        app_ctx.output.json({"ok": not problems, "problems": [asdict(p) for p in problems]})
    elif problems:
        for problem in problems:
            app_ctx.output.result(problem.message)
    else:
        app_ctx.output.result(
            "all 12 rs_* fields (six on each of tickets and contacts) exist as single-line "
            "text and are recorded"
        )
    if problems:
        raise typer.Exit(ExitCode.CONFIG)
