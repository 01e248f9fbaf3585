"""Builds the Typer app: the root options and every command group.

Kept apart from ``main`` so that ``ringodesk --version`` answers without importing Typer
and the command modules (cron and scripts start the tool often).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from ringodesk_cli import __version__
from ringodesk_cli.commands import activate as activate_cmd
from ringodesk_cli.commands import agents as agents_cmd
from ringodesk_cli.commands import auth as auth_cmd
from ringodesk_cli.commands import config as config_cmd
from ringodesk_cli.commands import demo as demo_cmd
from ringodesk_cli.commands import doctor as doctor_cmd
from ringodesk_cli.commands import employees as employees_cmd
from ringodesk_cli.commands import fields as fields_cmd
from ringodesk_cli.commands import mapping as mapping_cmd
from ringodesk_cli.commands import ringostat as ringostat_cmd
from ringodesk_cli.commands import sandbox as sandbox_cmd
from ringodesk_cli.commands import sync as sync_cmd
from ringodesk_cli.commands.context import AppContext
from ringodesk_cli.redact import RedactingFilter
from ringodesk_cli.render import Output

app = typer.Typer(
    name="ringodesk",
    help="Push Ringostat calls into Zoho Desk: contacts, tickets, call activities, tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("activate")(activate_cmd.activate)
app.add_typer(auth_cmd.app, name="auth")
app.add_typer(agents_cmd.app, name="agents")
app.add_typer(agents_cmd.manager_app, name="manager")
app.add_typer(config_cmd.app, name="config")
app.add_typer(fields_cmd.app, name="fields")
app.add_typer(employees_cmd.app, name="employees")
app.add_typer(mapping_cmd.app, name="mapping")
app.command("sync")(sync_cmd.sync)
app.command("demo")(demo_cmd.demo)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(ringostat_cmd.app, name="ringostat")

state = AppContext()


def _version(value: bool) -> None:
    if value:
        print(f"ringodesk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Profile name (env RINGODESK_PROFILE).")
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Show debug logs and tracebacks.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    json_mode: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    no_input: Annotated[
        bool,
        typer.Option("--no-input", help="Never prompt (implied when stdin is not a terminal)."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """ringodesk: Ringostat call logs into Zoho Desk, exactly once."""
    state.profile_name = profile
    state.verbose = verbose
    state.quiet = quiet
    state.json_mode = json_mode
    state.no_input = no_input
    state.output = Output(json_mode=json_mode, quiet=quiet, verbose=verbose)
    ctx.obj = state
    _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    root_logger = logging.getLogger("ringodesk")
    root_logger.handlers.clear()
    if verbose <= 0:
        root_logger.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    root_logger.propagate = False
