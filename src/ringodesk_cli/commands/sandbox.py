"""`ringodesk sandbox serve`: a local Zoho Desk stand-in to rehearse a configuration on."""

from __future__ import annotations

import json
import shlex
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt
from ringodesk_cli.config.settings import write_atomic

if TYPE_CHECKING:
    from ringodesk_cli.sandbox import Sandbox

app = typer.Typer(
    help="A local Zoho Desk sandbox (Accounts + Desk API) to rehearse fields, mappings and "
    "a day of calls before touching the real help desk.",
    no_args_is_help=True,
)


ReadingsOpt = Annotated[
    str,
    typer.Option(
        "--readings",
        help="Preset for the readings of Zoho its docs leave open: strict (the strictest "
        "reading of each) or lenient.",
    ),
]
ReadingOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--reading",
        metavar="NAME=VALUE",
        # Spelled out here: importing the sandbox package for its table pulls in
        # jsonschema, which every other command's start-up would pay for.
        help="One reading over the preset (repeatable): search=exact|digits, "
        "list_sort=oas|free, count_view=required|optional, cf_values=oas|free, "
        "call_task_description=refused|accepted, contact_calls=absent|present, "
        "department_required=yes|no, call_attachments=absent|present, "
        "scopes=documented|any "
        "(first value: strict). See docs/zoho-readings.md.",
    ),
]
SeedPeopleOpt = Annotated[
    bool,
    typer.Option(
        help="Seed contacts typed by people (spaces, brackets, national formats, "
        "duplicates, a switchboard) and custom fields a help desk already has."
    ),
]


def _json_mode(ctx: typer.Context, json_mode: bool) -> bool:
    root = ctx.find_root().obj
    return json_mode or (isinstance(root, AppContext) and root.json_mode)


RingostatZoneOpt = Annotated[
    str | None,
    typer.Option(
        help="Zone the calls/list stand-in reads and writes calldate in; default the "
        "system's, as a new profile's ringostat.timezone."
    ),
]


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8800,
    latency_ms: Annotated[int, typer.Option(help="Delay added to every Desk request.")] = 0,
    latency_spread: Annotated[
        str,
        typer.Option(
            metavar="MS[:SHAPE]",
            help="How much the delay varies: uniform within latency ± MS, or MS:lognormal "
            "(mean latency, standard deviation MS). 0: fixed.",
        ),
    ] = "0",
    fail_rate: Annotated[
        float, typer.Option(help="Share of Desk requests failing with 429/500/drop (0-1).")
    ] = 0.0,
    concurrency: Annotated[
        int, typer.Option(help="Concurrent Desk requests allowed; beyond: 429.")
    ] = 10,
    daily_credits: Annotated[
        int | None, typer.Option(help="Desk requests allowed per day; beyond: 429.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="JSON file the state is loaded from and saved to."),
    ] = None,
    readings: ReadingsOpt = "strict",
    reading: ReadingOpt = None,
    seed_people: SeedPeopleOpt = True,
    ringostat_timezone: RingostatZoneOpt = None,
    json_mode: JsonOpt = False,
    serve_seconds: Annotated[float | None, typer.Option(hidden=True)] = None,
) -> None:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C, printing how to point a profile at it."""
    # Imported here: the sandbox pulls in jsonschema, which cron's `sync` never needs.
    from ringodesk_cli.sandbox import SandboxConfig, start_sandbox

    as_json = _json_mode(ctx, json_mode)
    if not 0.0 <= fail_rate <= 1.0:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--fail-rate")
    spread_ms, shape = _spread(latency_spread)
    cfg = SandboxConfig(
        host="127.0.0.1",  # never another interface: the sandbox has no real security
        port=port,
        latency_ms=latency_ms,
        latency_spread_ms=spread_ms,
        latency_shape=shape,
        fail_rate=fail_rate,
        concurrency=concurrency,
        daily_credits=daily_credits,
        state_file=state,
        readings=_readings(readings, reading or []),
        seed_people=seed_people,
        seed_custom_fields=seed_people,
        ringostat_timezone=_zone(ringostat_timezone, _env_vars(ctx)),
    )
    _serve(start_sandbox(cfg), as_json=as_json, state=state, serve_seconds=serve_seconds)


def _env_vars(ctx: typer.Context) -> Mapping[str, str]:
    root = ctx.find_root().obj
    return root.env.vars if isinstance(root, AppContext) else {}


def _zone(name: str | None, env: Mapping[str, str]) -> str:
    """The calls/list stand-in's zone: as given, else the system's (what `activate` writes
    into a new profile), so that a rehearsal's calls are not shifted by hours."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from ringodesk_cli.config.keys import system_timezone

    zone = name or system_timezone(env)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(
            f"unknown zone {zone!r}", param_hint="--ringostat-timezone"
        ) from None
    return zone


def _spread(text: str) -> tuple[int, str]:
    from ringodesk_cli.sandbox.latency import parse_spread

    try:
        return parse_spread(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--latency-spread") from exc


def _readings(preset: str, overrides: list[str]) -> dict[str, str]:
    from ringodesk_cli.sandbox.config import parse_reading, resolve_readings

    chosen: dict[str, str] = {}
    try:
        for text in overrides:
            name, value = parse_reading(text)
            chosen[name] = value
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reading") from exc
    try:
        return resolve_readings(chosen, preset=preset)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--readings") from exc


def _serve(sb: Sandbox, *, as_json: bool, state: Path | None, serve_seconds: float | None) -> None:
    secret_file = Path(tempfile.mkdtemp(prefix="ringodesk-sandbox-")) / "client-secret"
    try:
        write_atomic(secret_file, sb.client_secret + "\n")
        _print_connection(_connection(sb, secret_file), as_json=as_json, state=state)
        deadline = None if serve_seconds is None else time.monotonic() + serve_seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1 if deadline else 1.0)
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
        secret_file.unlink(missing_ok=True)
        secret_file.parent.rmdir()


def _connection(sb: Sandbox, secret_file: Path) -> dict[str, Any]:
    """How to reach the sandbox and point a profile at it (a fresh grant code included)."""
    code = sb.mint_grant_code()
    agents = [
        {"id": str(a["id"]), "email": a["emailId"], "name": a.get("name", "")}
        for a in sb.records("agents")
        if a.get("status") == "ACTIVE"
    ]
    # Runs as printed: a senior manager is required without prompts, and the sandbox's
    # throw-away secrets may go to a file on a machine without a keyring.
    activate = [
        "ringodesk", "activate", "--accounts-url", sb.url, "--desk-url", sb.url,
        "--client-id", sb.client_id, "--client-secret-file", str(secret_file),
        "--grant-code", code, "--senior-manager", agents[0]["email"],
        "--insecure-storage", "--no-input",
    ]  # fmt: skip
    return {
        "accounts_url": sb.url,
        "desk_url": sb.url,
        "api_root": f"{sb.url}/api/v1",
        "admin_url": f"{sb.url}/__sandbox__",
        "client_id": sb.client_id,
        "client_secret": sb.client_secret,
        "client_secret_file": str(secret_file),
        "org_id": sb.org_id,
        "department_id": sb.department_id,
        "agents": agents,
        "grant_code": code,
        "activate": shlex.join(activate),
        # The calls/list stand-in (source.kind = "api") lives on the same root.
        "ringostat_api_url": sb.url,
        "ringostat_key": sb.cfg.ringostat_key,
        "readings": sb.readings,
    }


def _print_connection(info: dict[str, Any], *, as_json: bool, state: Path | None) -> None:
    # Printed with typer.echo, not render.Output: Output redacts anything shaped like a Zoho
    # token, and these are the sandbox's own throw-away credentials the user must paste.
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    url = info["desk_url"]
    typer.echo(f"Zoho Desk sandbox on {url}  (Accounts and Desk share this root)")
    typer.echo(f"  client id      {info['client_id']}")
    typer.echo(f"  client secret  {info['client_secret']}  (also in {info['client_secret_file']})")
    typer.echo(f"  organization   {info['org_id']}, department {info['department_id']}")
    typer.echo("  agents         " + ", ".join(a["email"] for a in info["agents"]))
    typer.echo(
        f"  Ringostat      calls/list on {url}, Auth-key {info['ringostat_key']}"
        f" (ringodesk config set ringostat.api_url {url})"
    )
    typer.echo(
        "  readings       "
        + " ".join(f"{k}={v}" for k, v in info["readings"].items())
        + "  (docs/zoho-readings.md)"
    )
    typer.echo("Point a profile at it (the grant code expires in 3 minutes; a new one:")
    typer.echo(f"  curl -X POST {url}/__sandbox__/grant-code):")
    typer.echo(f"  {info['activate']}")
    typer.echo("Press Ctrl-C to stop" + (f"; state is saved to {state}" if state else "."))


@app.command("webhooks")
def webhooks_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An export with calls/list column names.")],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="The webhook URL `ringodesk serve setup` printed (with its key=)."
        ),
    ],
    rate: Annotated[float, typer.Option(help="Webhooks per second at most.")] = 10.0,
    form: Annotated[bool, typer.Option("--form", help="Form-encoded bodies, not JSON.")] = False,
    json_mode: JsonOpt = False,
) -> None:
    """Replay an export as Ringostat webhooks: before and after events, in call order."""
    from ringodesk_cli.sandbox.webhooks import read_calls, send, webhooks

    hooks = webhooks(read_calls(file))
    result = send(hooks, to, rate=rate, form=form)
    summary = result.as_dict()
    # typer.echo: the URL's key is the user's own, and nothing here prints it.
    if _json_mode(ctx, json_mode):
        typer.echo(json.dumps(summary, indent=2))
    else:
        answers = ", ".join(f"{k}: {v}" for k, v in summary["statuses"].items())
        typer.echo(f"sent {summary['sent']} webhooks ({answers})")
        for line in summary["errors"]:
            typer.echo(f"  {line}")
    if set(result.statuses) - {200}:
        raise typer.Exit(6)
