"""`ringodesk contacts index|status|duplicates`: the local index of Zoho Desk's contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from ringodesk_cli.contacts.duplicates import DuplicateGroup
    from ringodesk_cli.contacts.index import IndexStatus

app = typer.Typer(
    help="The local index of Zoho Desk contacts that callers are matched against.",
    no_args_is_help=True,
)


@app.command("index")
def index_cmd(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Forget the index and list every contact again.")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Build the index (an interrupted build resumes), or bring it up to date.

    Every sync does this by itself before it looks callers up; run it ahead of the first
    sync of a large help desk to watch its progress."""
    from ringodesk_cli.contacts.index_service import update_index

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    with app_ctx.output.progress("Indexing Zoho Desk contacts") as bar:
        done, status = update_index(
            app_ctx.session(), rebuild=rebuild, progress=bar.advance, total=bar.total
        )
    if app_ctx.json_mode:
        app_ctx.output.json({"done": done, **status.as_dict()})
        return
    if done == "search":
        app_ctx.output.result(f"not indexed: {status.reason}; callers are found by search")
    else:
        app_ctx.output.result(f"index {done}: {_status_line(status)}")


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Contacts indexed, last refresh, numbers indexed, contacts without a number."""
    from ringodesk_cli.contacts.index_service import index_status

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    status = index_status(app_ctx.session())
    if app_ctx.json_mode:
        app_ctx.output.json(status.as_dict())
        return
    app_ctx.output.table(
        ["", ""],
        [
            ("state", _mode_text(status)),
            ("contacts", status.contacts),
            ("numbers indexed", status.numbers),
            ("contacts without a number", status.without_number),
            ("built", status.built_at or "never"),
            ("last refresh", status.refreshed_at or "never"),
        ],
    )


@app.command("duplicates")
def duplicates_cmd(
    ctx: typer.Context,
    merge: Annotated[
        bool, typer.Option("--merge", help="Merge each group into its oldest contact.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Merge without asking.")] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """List Zoho contacts that share a phone number, with links to them in Zoho Desk.

    Dry by default. With --merge each group is merged into its oldest contact (asking
    first unless --yes); a number shared by more than contacts.shared_max contacts is a
    switchboard: listed, never merged. Exit 6 if a merge failed."""
    from ringodesk_cli.contacts.index_service import find_duplicates

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if merge and not yes and (app_ctx.json_mode or not app_ctx.interactive):
        raise UsageError("--merge without a terminal to ask on needs --yes")

    def approve(groups: list[DuplicateGroup]) -> bool:
        if yes:
            return True
        _show_groups(app_ctx, groups)
        return typer.confirm("Merge each group above (not switchboards) into its oldest contact?")

    groups, merged = find_duplicates(app_ctx.session(), merge=approve if merge else None)
    failed = [m for m in merged if m.error]
    if app_ctx.json_mode:
        app_ctx.output.json(
            {"groups": [g.as_dict() for g in groups], "merged": [m.as_dict() for m in merged]}
        )
    else:
        if not merge or yes:
            _show_groups(app_ctx, groups)
        for m in merged:
            verdict = f"failed: {m.error}" if m.error else f"merged {', '.join(m.merged)}"
            app_ctx.output.result(f"{m.number}: into {m.survivor}: {verdict}")
    if failed:
        raise typer.Exit(ExitCode.PARTIAL)


def _show_groups(app_ctx: AppContext, groups: list[DuplicateGroup]) -> None:
    if not groups:
        app_ctx.output.result("no two contacts share a number")
        return
    rows = [
        (
            g.number + (" (switchboard: never merged)" if g.switchboard else ""),
            c.contact_id + (" (oldest)" if n == 0 and not g.switchboard else ""),
            c.name,
            c.web_url or "",
        )
        for g in groups
        for n, c in enumerate(g.contacts)
    ]
    app_ctx.output.table(["number", "contact", "name", "link"], rows)


def _mode_text(status: IndexStatus) -> str:
    if status.building:
        return "build interrupted: it resumes on the next sync or `contacts index`"
    return {
        "index": "in use",
        "search": f"not used ({status.reason}): callers are found by search",
        "none": "not built yet: the next sync builds it",
    }.get(status.mode, status.mode)


def _status_line(status: IndexStatus) -> str:
    return (
        f"{status.contacts} contacts, {status.numbers} numbers, "
        f"{status.without_number} without a number"
    )
