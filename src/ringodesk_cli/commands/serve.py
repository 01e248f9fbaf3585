"""`ringodesk serve`: receive Ringostat's webhooks live and deliver them to Zoho Desk."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ringodesk_cli.commands.context import (
    InsecureStorageOpt,
    JsonOpt,
    ProfileOpt,
    QuietOpt,
    use,
)

app = typer.Typer(
    help="Receive Ringostat's webhooks (Webhooks 2.0) and deliver each call to Zoho Desk "
    "as it ends; `serve setup` first. Deployment: docs/serve.md.",
    invoke_without_command=True,
)


@app.callback()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (setting serve.host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (setting serve.port, 8790).")
    ] = None,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Listen for POST /ringostat/webhook?event=before|after&key=KEY and GET /healthz.

    A webhook is stored in the ledger before it is answered 200; delivery runs from the
    ledger in the background, with the same rules and once-only guarantee as `sync`.
    One log line per webhook on stderr (JSON lines with --json); never the key.

    SIGTERM (or Ctrl-C) stops cleanly: no new connection, requests in flight finish,
    exit 0; what is not delivered yet stays in the ledger for the next start or `sync`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ringodesk_cli.serve.log_lines import LogFormat
    from ringodesk_cli.serve.server import serve as run_server

    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    session = app_ctx.session()
    settings = session.settings
    listen_host = host or str(settings.get("serve.host"))
    listen_port = int(port if port is not None else settings.get("serve.port"))
    # One line per event on stderr: JSON with --json, else key=value pairs (log_lines.py).
    log = LogFormat(json_mode=app_ctx.json_mode, quiet=app_ctx.quiet)
    with app_ctx.interrupts.graceful() as stop:
        result = run_server(
            session,
            host=listen_host,
            port=listen_port,
            stop=stop,
            log=log,
            on_ready=lambda url: log.emit({"serving": url}),
        )
    log.emit({"stopped": app_ctx.interrupts.name or "stop", **result.stats})


@app.command("setup")
def setup(
    ctx: typer.Context,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="The address Ringostat reaches this server at, e.g. https://calls.example.com "
            "(a reverse proxy in front of `serve`); default: setting serve.public_url."
        ),
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Make a new secret (the old URLs stop working).")
    ] = False,
    insecure_storage: InsecureStorageOpt = False,
    json_mode: JsonOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Create the webhook secret and print what to fill in Ringostat's Webhooks 2.0 form.

    --json prints {"before": URL, "after": URL, "parameters": [...]}.
    The URLs carry the secret: this is the one time it is printed.
    """
    from ringodesk_cli.errors import UsageError
    from ringodesk_cli.serve.setup import set_up

    app_ctx = use(ctx, json_mode=json_mode, profile=profile)
    if insecure_storage:
        app_ctx.insecure_storage = True
    session = app_ctx.session()
    url = public_url or session.settings.get("serve.public_url")
    if not url and app_ctx.interactive:
        url = typer.prompt("Public URL Ringostat will call (https://...)")
    if not url:
        raise UsageError(
            "no public URL", hint="pass --public-url https://... (or set serve.public_url)"
        )
    form = set_up(session, public_url=str(url), rotate=rotate)
    # Printed with typer.echo, not render.Output: Output hides every stored secret, and the
    # URLs must show it to be typed into Ringostat.
    if app_ctx.json_mode:
        typer.echo(json.dumps(form.as_dict(), indent=2))
        return
    state = "created a new webhook secret" if form.created else "kept the stored webhook secret"
    typer.echo(f"{state}; in Ringostat: Integration -> Webhooks 2.0, one webhook per moment:")
    for step in form.steps():
        typer.echo("")
        for name in ("moment", "url", "method", "format", "parameters"):
            typer.echo(f"  {name:<11}{step[name]}")
    typer.echo("")
    typer.echo("Then run `ringodesk serve` behind HTTPS (docs/serve.md). To rehearse on this")
    typer.echo(f"machine: ringodesk sandbox webhooks --to '{form.local['after']}' FILE")
