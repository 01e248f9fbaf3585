"""`ringodesk log [show ID]`: what happened to each call, from the ledger (no Zoho request)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt, ProfileOpt, QuietOpt, use

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.ledger.history import CallStory, LogEntry

app = typer.Typer(
    help="What happened to each call: its status and what it became in Zoho Desk.",
    invoke_without_command=True,
)

_ARROWS = {"inbound": "←", "outbound": "→"}


@app.callback()
def log(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            help="Calls from this window on: 3d = today and the two previous days (profile "
            "time zone), 12h = the last 12 hours, or a date such as 2026-12-01."
        ),
    ] = "3d",
    number: Annotated[
        str | None, typer.Option(help="Only this client number (any format).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only delivered, pending, failed, quarantined or in-progress calls."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first (0: all).")] = 0,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """One line per call, newest first: time, direction, client number, employee, Ringostat
    outcome, status, and the Zoho Desk records it became with links to open them.

    --json prints an array, one object per call: ringostat_id, time (UTC), status,
    direction, client_number, employee, outcome, error, attempts and zoho (contact, ticket,
    call: {id, url}; tasks: [{id, url}]).
    """
    if ctx.invoked_subcommand is not None:
        return
    from ringodesk_cli.ledger.history import LogQuery, WebLinks, list_calls

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    query = LogQuery(
        since=_since(since, settings),
        number=_number(number, settings) if number else None,
        status=status,
        limit=limit,
    )
    entries = list_calls(app_ctx.paths.state_dir(app_ctx.profile), query, WebLinks.of(settings))
    out = app_ctx.output
    if app_ctx.json_mode:
        out.json_rows(e.as_dict() for e in entries)
        return
    if not entries:
        out.result("no calls match" + _older_hint(app_ctx, query.since))
        return
    zone = _zone(settings)
    out.result("\n".join(_line(e, zone) for e in entries))
    if not settings.get("zoho.portal") and any(_unlinked(e) for e in entries):
        # Older records have no webUrl from Zoho: their links are built from the portal name.
        out.info("no links: the portal name is unknown (ringodesk config set zoho.portal NAME)")


@app.command("show")
def show(
    ctx: typer.Context,
    ringostat_id: Annotated[str, typer.Argument(metavar="RINGOSTAT_ID")],
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """The call's story: read from where, each request intended, done (with Zoho's id),
    failed (with Zoho's error) or reconciled, and how each run settled it."""
    from ringodesk_cli.ledger.history import WebLinks, call_story

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    story = call_story(
        app_ctx.paths.state_dir(app_ctx.profile), ringostat_id, WebLinks.of(settings)
    )
    if app_ctx.json_mode:
        app_ctx.output.json(story.as_dict())
        return
    _render_story(app_ctx, story, _zone(settings))


def _render_story(app_ctx: AppContext, story: CallStory, zone: str) -> None:
    out = app_ctx.output
    entry = story.entry
    lines = [_line(entry, zone), *_story_links(entry)]
    if story.source:
        lines.append(f"  read from {story.source}:{story.line}")
    if entry.error:
        lines.append(f"  error: {entry.error}")
    for event in story.events:
        what = " ".join(p for p in (event.kind, event.op, event.zoho_id) if p)
        lines.append(
            f"  {_local(event.at, zone)}  {what}" + (f": {event.detail}" if event.detail else "")
        )
    for bad in story.quarantine:
        lines.append(f"  quarantined {bad['file']}:{bad['line']}: {bad['reason']}")
    out.result("\n".join(lines))


def _line(entry: LogEntry, zone: str) -> str:
    """One call: the ids it became and a link to its main record (the ticket, else the call
    activity, else the contact); `log show` and --json give every link."""
    arrow = _ARROWS.get(entry.direction or "", " ")
    zoho = entry.zoho
    made = [f"{op} {zoho[op]['id']}" for op in ("contact", "ticket", "call") if op in zoho]
    made += [f"task {t['id']}" for t in zoho.get("tasks", [])]
    main = zoho.get("ticket") or zoho.get("call") or zoho.get("contact")
    tail = f" ({entry.error})" if entry.error and entry.status != "delivered" else ""
    return (
        f"{_local(entry.time, zone)}  {arrow} {entry.client_number or '-'}  "
        f"{entry.employee or '-'}  {entry.outcome or '-'}  {entry.ringostat_id or '-'}  "
        f"{entry.status}{tail}"
        + (f"  [{', '.join(made)}]" if made else "")
        + (f"  {main['url']}" if main and main.get("url") else "")
    )


def _unlinked(entry: LogEntry) -> bool:
    zoho = entry.zoho or {}
    found = [zoho[op] for op in ("contact", "ticket", "call") if op in zoho]
    return any(not link.get("url") for link in [*found, *zoho.get("tasks", [])])


def _story_links(entry: LogEntry) -> list[str]:
    zoho = entry.zoho
    links = [(op, zoho[op]) for op in ("contact", "ticket", "call") if op in zoho]
    links += [("task", t) for t in zoho.get("tasks", [])]
    return [
        f"  {op} {link['id']}: {link['url'] or '(no link: zoho.portal unset)'}"
        for op, link in links
    ]


def _zone(settings: Settings) -> str:
    from ringodesk_cli.config.keys import system_timezone

    return str(settings.get("ringostat.timezone") or system_timezone(settings.env))


def _local(iso: str, zone: str) -> str:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def _since(text: str, settings: Settings) -> str:
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.sync.window import replay_start

    zone = ZoneInfo(_zone(settings))
    try:
        return replay_start(text, zone, datetime.now(UTC)).isoformat()
    except ValueError:
        pass
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: give a window (3d, 12h) or a date (2026-12-01)"
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC).isoformat()


def _number(text: str, settings: Settings) -> str:
    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.ringostat.phones import to_e164

    try:
        return to_e164(text, str(settings.get("ringostat.default_region")))
    except ValueError as exc:
        raise UsageError(f"--number {text!r}: {exc}") from None


def _older_hint(app_ctx: AppContext, since: str | None) -> str:
    """The window counts each call's own date: say so when older calls are in the ledger
    (e.g. right after a sync of last month's export)."""
    from ringodesk_cli.ledger.history import older_calls

    if since is None:
        return ""
    count, newest = older_calls(app_ctx.paths.state_dir(app_ctx.profile), since)
    if not count:
        return ""
    return (
        f" (the window counts each call's own date; {count} older call(s) in the ledger, "
        f"the newest from {str(newest)[:10]}: try --since {str(newest)[:10]} or --since 30d)"
    )
