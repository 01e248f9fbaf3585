"""`ringodesk sync`: deliver Ringostat calls to Zoho Desk, exactly once (cron-safe)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import AuthError, RingodeskError, UsageError


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

    Exit codes: 0 ok, 3 config, 4 auth (calls stay pending),
    5 Zoho unavailable or a create without an answer (pending),
    6 rows failed or quarantined, 7 another run is busy.
    """
    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if offline and not dry_run:
        raise UsageError("--offline only makes sense with --dry-run")
    summary = run_sync(
        app,
        files or [],
        replay=replay,
        dry_run=dry_run,
        offline=offline,
        since=since,
        until=until,
    )
    render_summary(app, summary)
    code = int(summary["exit_code"])
    if code:
        raise typer.Exit(code)


def run_sync(
    app: AppContext,
    files: list[Path],
    *,
    replay: str | None,
    dry_run: bool,
    offline: bool,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """The library call behind `sync` (also used by `demo`): returns the summary dict."""
    from zoneinfo import ZoneInfo

    from ringodesk_cli.durations import parse_duration
    from ringodesk_cli.locks import RunLock
    from ringodesk_cli.sync.ledger import LEDGER_FILE, Ledger
    from ringodesk_cli.sync.planner import policy_from_settings
    from ringodesk_cli.sync.runner import Runner
    from ringodesk_cli.sync.sources import plan_sources, read_all
    from ringodesk_cli.sync.window import replay_start

    if replay:
        try:
            parse_duration(replay)
        except ValueError as exc:
            raise UsageError(f"--replay: {exc}") from None
    session = app.session()
    settings = session.settings
    policy = policy_from_settings(settings)
    timezone = ZoneInfo(settings.get("ringostat.timezone"))
    # One "now" for the whole run: the replay window, the API window and the replay itself
    # must agree, even when the run straddles midnight.
    now = datetime.now(UTC)
    replay_from = replay_start(replay, timezone, now) if replay else None
    state_dir = session.state_dir
    ledger_path = state_dir / LEDGER_FILE
    lock = None
    if not dry_run:
        state_dir.mkdir(parents=True, exist_ok=True)
        lock = RunLock(state_dir, "sync")
        lock.__enter__()
    ledger = Ledger(ledger_path, readonly=dry_run)
    try:
        desk = None
        desk_error: RingodeskError | None = None
        if not offline:
            try:
                desk = session.desk()
            except AuthError as exc:
                desk_error = exc
        runner = Runner(
            desk=desk,
            ledger=ledger,
            policy=policy,
            default_region=settings.get("ringostat.default_region"),
            concurrency=int(settings.get("zoho.concurrency")),
            dry_run=dry_run,
            offline=offline,
            replay_since=replay_from.isoformat() if replay_from else None,
        )
        if dry_run and not app.json_mode and not app.quiet:
            runner.on_plan = lambda record, ops: app.output.result(
                f"would send for {record.ringostat_id} ({record.client_number}): "
                + (", ".join(ops) or "nothing")
            )
        sources = plan_sources(
            files,
            kind=settings.get("source.kind"),
            inbox=settings.get("source.inbox"),
            ledger=ledger,
            replay=bool(replay),
        )
        if (since or until) and not sources.api:
            raise UsageError("--since/--until need source.kind = api (files carry their own dates)")
        window = None
        if sources.api:
            window = _fetch_from_api(
                session,
                runner,
                ledger,
                timezone,
                now=now,
                replay_from=replay_from,
                since=since,
                until=until,
            )
        with app.output.progress("Reading exports") as bar:

            def counted() -> Any:
                for item in read_all(
                    sources.files,
                    timezone=timezone,
                    default_region=settings.get("ringostat.default_region"),
                    columns=settings.table("source.columns"),
                ):
                    bar.advance(1)
                    yield item

            runner.ingest(counted())
        if not dry_run:
            for path, digest in sources.digests.items():
                ledger.remember_file(str(path.resolve()), digest)
        if replay_from is not None:
            runner.add_replay(replay_from.isoformat())
        if desk_error is not None:
            runner.summary.stopped = str(desk_error)
            runner.summary.stop_code = int(desk_error.exit_code)
            runner.summary.stop_hint = desk_error.hint
            runner.summary.pending = runner.to_attempt
            summary = runner.summary
        else:
            with app.output.progress("Delivering to Zoho Desk", total=runner.to_attempt) as bar:
                runner.on_progress = bar.advance
                summary = runner.deliver()
        data = summary.as_dict()
        data["files"] = [str(p) for p in sources.files]
        data["unchanged_files"] = [str(p) for p in sources.unchanged]
        data["ledger"] = str(ledger_path)
        data["ringostat_window"] = window.as_dict() if window else None
        if window is not None and not dry_run:
            # The fetch itself succeeded and every call is in the ledger: the next plain run
            # starts here (minus the overlap), whatever happened at Zoho.
            from ringodesk_cli.sync.api_source import LAST_FETCH

            ledger.set_meta(LAST_FETCH, window.end.isoformat())
        if not dry_run:
            ledger.set_meta(
                "last_sync",
                json.dumps(
                    {"at": datetime.now(UTC).isoformat(), **{k: data[k] for k in _LAST_KEYS}}
                ),
            )
        return data
    finally:
        ledger.close()
        if lock is not None:
            lock.__exit__(None, None, None)


_LAST_KEYS = ("read", "new", "delivered", "failed", "quarantined", "pending", "exit_code")


def render_summary(app: AppContext, data: dict[str, Any]) -> None:
    out = app.output
    for line in data["bad_rows"]:
        out.error(f"quarantined: {line}") if app.quiet else out.warn(f"quarantined: {line}")
    for line in data["failures"]:
        out.error(f"failed: {line}")
    if app.json_mode:
        out.json(data)
        return
    if data["stopped"]:
        out.error(f"stopped: {data['stopped']}", data.get("hint"))
    elif data["unknown_outcomes"]:
        out.error(f"{data['unknown_outcomes']} create(s) got no answer from Zoho", data.get("hint"))
    head = "dry run: nothing sent, nothing written" if data["dry_run"] else "sync done"
    out.result(
        f"{head}: read {data['read']}, new {data['new']}, delivered {data['delivered']}, "
        f"updated {data['updated']}, already delivered {data['already_delivered']}, "
        f"failed {data['failed']}, quarantined {data['quarantined']}, "
        f"pending {data['pending']}, in progress {data['waiting_in_progress']}"
    )
    if data["planned"]:
        out.result("would send: " + ", ".join(f"{k} × {v}" for k, v in data["planned"].items()))
    if data["requests"]:
        out.result("requests: " + ", ".join(f"{k} × {v}" for k, v in data["requests"].items()))


def _fetch_from_api(
    session: Any,
    runner: Any,
    ledger: Any,
    timezone: Any,
    *,
    now: datetime,
    replay_from: datetime | None,
    since: str | None,
    until: str | None,
) -> Any:
    from ringodesk_cli.sync.api_source import fetch_records, parse_moment, plan_window

    settings = session.settings
    window = plan_window(
        ledger,
        now=now,
        timezone=timezone,
        replay_since=replay_from,
        since=parse_moment(since, timezone, "--since") if since else None,
        until=parse_moment(until, timezone, "--until") if until else None,
    )
    items = fetch_records(
        api_url=settings.get("ringostat.api_url"),
        key=session.credentials.get("ringostat_key"),
        window=window,
        timezone=timezone,
        default_region=settings.get("ringostat.default_region"),
        mappings={**settings.table("mapping.ticket"), **settings.table("mapping.contact")},
    )
    runner.ingest(items)
    return window
