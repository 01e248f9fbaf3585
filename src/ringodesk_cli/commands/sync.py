"""`ringodesk sync`: deliver Ringostat calls to Zoho Desk, exactly once (cron-safe)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt, ProfileOpt, QuietOpt, use

if TYPE_CHECKING:
    from ringodesk_cli.ringostat.records import CallRecord
    from ringodesk_cli.sync.service import SyncHooks


def sync(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Ringostat call-log exports (CSV or JSON). Default: the inbox."),
    ] = None,
    replay: Annotated[
        str | None,
        typer.Option(
            help="Also re-attempt everything pending or failed in this window: 3d = today "
            "and the two previous days (profile time zone); 12h = the last 12 hours."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and plan; send and write nothing.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="With --dry-run: no read-only searches either.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="source.kind = api: fetch from this time (profile zone), a backfill."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="source.kind = api: fetch up to this time (default: now).")
    ] = None,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Read exports, then create contacts, tickets, call activities and tasks in Zoho Desk.

    Safe to re-run: what was delivered is never sent again.
    Cron: ringodesk sync --replay 3d --quiet

    Ctrl-C (or SIGTERM) stops cleanly: no new request starts, those in flight finish and
    are recorded, the summary is printed; a second one stops at once.

    Exit codes: 0 ok, 3 config, 4 auth (calls stay pending),
    5 Zoho unavailable or a create without an answer (pending),
    6 rows failed or quarantined, 7 another run is busy,
    130 interrupted by Ctrl-C, 143 by SIGTERM (what was not sent stays pending).
    """
    from ringodesk_cli.sync.service import SyncOptions, run_sync

    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    options = SyncOptions(replay=replay, dry_run=dry_run, offline=offline, since=since, until=until)
    hooks = hooks_for(app, dry_run=dry_run)
    with app.interrupts.graceful() as stop:
        result = run_sync(
            app.session(), files or [], options, hooks, stop=stop, clock=app.env.clock
        )
    data = result.as_dict()
    data["signal"] = app.interrupts.name if result.summary.interrupted else None
    render_summary(app, data)
    code = app.interrupts.exit_code if result.summary.interrupted else result.exit_code
    if code:
        raise typer.Exit(code)


def hooks_for(app: AppContext, *, dry_run: bool) -> SyncHooks:
    """Progress bars on a terminal and, for a dry run in text mode, a line per record."""
    from ringodesk_cli.sync.service import SyncHooks

    @contextmanager
    def progress(label: str, total: int | None) -> Iterator[Any]:
        with app.output.progress(label, total=total) as bar:
            yield bar.advance

    def plan_line(record: CallRecord, ops: list[str]) -> None:
        app.output.result(
            f"would send for {record.ringostat_id} ({record.client_number}): "
            + (", ".join(ops) or "nothing")
        )

    show_plan = dry_run and not app.json_mode and not app.quiet
    return SyncHooks(progress=progress, on_plan=plan_line if show_plan else None)


def render_summary(app: AppContext, data: dict[str, Any]) -> None:
    out = app.output
    for line in data["bad_rows"]:
        out.error(f"quarantined: {line}") if app.quiet else out.warn(f"quarantined: {line}")
    for line in data["failures"]:
        out.error(f"failed: {line}")
    for line in data["failed_files"]:
        out.error(f"file failed: {line}")
    for line in [*data["empty_files"], *data["notices"]]:
        out.error(line) if app.quiet else out.warn(line)
    if app.json_mode:
        out.json(data)
        return
    if data["stopped"]:
        out.error(f"stopped: {data['stopped']}", data.get("hint"))
    elif data["unknown_outcomes"]:
        out.error(f"{data['unknown_outcomes']} create(s) got no answer from Zoho", data.get("hint"))
    if data.get("interrupted"):
        out.error(
            f"interrupted by {data.get('signal') or 'a stop request'}"
            + ("" if data["dry_run"] else f": {data['pending']} call(s) stay pending"),
            None if data["dry_run"] else "the next `ringodesk sync` sends them, nothing twice",
        )
    state = "interrupted" if data.get("interrupted") else "done"
    head = "dry run: nothing sent, nothing written" if data["dry_run"] else f"sync {state}"
    out.result(
        f"{head}: read {data['read']}, new {data['new']}, delivered {data['delivered']}, "
        f"updated {data['updated']}, already delivered {data['already_delivered']}, "
        f"failed {data['failed']}, quarantined {data['quarantined']}, "
        f"pending {data['pending']}, in progress {data['waiting_in_progress']}, "
        f"files failed {len(data['failed_files'])}, empty files {len(data['empty_files'])}"
        + (
            ""
            if data["open_quarantine"] is None
            else f", open quarantine {data['open_quarantine']}"
        )
    )
    if data.get("quarantine_resolved"):
        out.result(
            f"{data['quarantine_resolved']} quarantined row(s) resolved: their calls were read"
            " complete"
        )
    if data.get("warnings"):
        out.warn(f"warnings: {data['warnings']} (delivered as read; listed above)")
    if data.get("cf_values_dropped"):
        out.warn(
            f"cf values dropped: {data['cf_values_dropped']} (refused by Zoho; each record was"
            " sent without it and the value kept in its description)"
        )
    if data.get("recordings"):
        _render_recordings(app, data["recordings"], dry_run=bool(data["dry_run"]))
    if data["planned"]:
        out.result("would send: " + ", ".join(f"{k} × {v}" for k, v in data["planned"].items()))
    if data["requests"]:
        out.result("requests: " + ", ".join(f"{k} × {v}" for k, v in data["requests"].items()))


def _render_recordings(app: AppContext, rec: dict[str, Any], *, dry_run: bool) -> None:
    out = app.output
    if dry_run:
        out.result(f"recordings: would attach up to {rec['planned']}")
        return
    waiting = ", ".join(f"{k} {v}" for k, v in rec["waiting_by_reason"].items())
    out.result(
        f"recordings: attached {rec['attached'] + rec['reconciled']}, "
        f"waiting {rec['waiting']}"
        + (f" ({waiting})" if waiting else "")
        + f", too large {rec['too_large']}, not allowed {rec.get('not_allowed', 0)}, "
        f"refused {rec['refused']}, "
        f"given up {rec['given_up']}, no answer {rec['unknown_outcomes']}, "
        f"unconfirmed {rec['unconfirmed']}"
    )
    for line in rec["reasons"]:
        out.error(line) if app.quiet else out.warn(line)
