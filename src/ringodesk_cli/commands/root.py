"""Builds the Typer app: the root options and every command group.

Kept apart from ``main`` so that ``ringodesk --version`` answers without importing Typer
and the command modules (cron and scripts start the tool often).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from ringodesk_cli import __version__
from ringodesk_cli.commands import activate as activate_cmd
from ringodesk_cli.commands import agents as agents_cmd
from ringodesk_cli.commands import auth as auth_cmd
from ringodesk_cli.commands import config as config_cmd
from ringodesk_cli.commands import contacts as contacts_cmd
from ringodesk_cli.commands import demo as demo_cmd
from ringodesk_cli.commands import doctor as doctor_cmd
from ringodesk_cli.commands import employees as employees_cmd
from ringodesk_cli.commands import fields as fields_cmd
from ringodesk_cli.commands import log as log_cmd
from ringodesk_cli.commands import manager as manager_cmd
from ringodesk_cli.commands import mapping as mapping_cmd
from ringodesk_cli.commands import quarantine as quarantine_cmd
from ringodesk_cli.commands import retry as retry_cmd
from ringodesk_cli.commands import ringostat as ringostat_cmd
from ringodesk_cli.commands import routing as routing_cmd
from ringodesk_cli.commands import sandbox as sandbox_cmd
from ringodesk_cli.commands import serve as serve_cmd
from ringodesk_cli.commands import sync as sync_cmd
from ringodesk_cli.commands.context import (
    AppContext,
    JsonOpt,
    NoInputOpt,
    ProfileOpt,
    QuietOpt,
    VerboseOpt,
)
from ringodesk_cli.environment import Environment
from ringodesk_cli.redact import RedactingFilter


class _Group(TyperGroup):
    """The root group. Its help, and every subcommand's, lists a plain flag without a value
    type: `--quiet`, not Typer's `--quiet <bool>`."""

    def get_params(self, ctx: Any) -> list[Any]:
        _untype_flags(self, ctx)
        return super().get_params(ctx)


def _untype_flags(command: Any, ctx: Any) -> None:
    for param in [*command.params, command.get_help_option(ctx)]:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            param.metavar = ""  # an empty metavar: nothing after the flag's name
    for sub in getattr(command, "commands", {}).values():
        _untype_flags(sub, ctx)


app = typer.Typer(
    name="ringodesk",
    cls=_Group,
    help="Push Ringostat calls into Zoho Desk: contacts, tickets, call activities, tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("activate")(activate_cmd.activate)
app.add_typer(auth_cmd.app, name="auth")
app.add_typer(agents_cmd.app, name="agents")
app.add_typer(manager_cmd.app, name="manager")
app.add_typer(config_cmd.app, name="config")
app.add_typer(fields_cmd.app, name="fields")
app.add_typer(employees_cmd.app, name="employees")
app.add_typer(mapping_cmd.app, name="mapping")
app.add_typer(contacts_cmd.app, name="contacts")
app.command("sync")(sync_cmd.sync)
app.command("demo")(demo_cmd.demo)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(serve_cmd.app, name="serve")
app.add_typer(ringostat_cmd.app, name="ringostat")
app.add_typer(quarantine_cmd.app, name="quarantine")
app.add_typer(routing_cmd.app, name="routing")
app.add_typer(log_cmd.app, name="log")
app.command("retry")(retry_cmd.retry)


def _version(value: bool) -> None:
    if value:
        print(f"ringodesk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    json_mode: JsonOpt = False,
    no_input: NoInputOpt = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """ringodesk: Ringostat call logs into Zoho Desk, exactly once."""
    if not isinstance(ctx.obj, AppContext):
        # Invoked without the console entry point (a test runner): read the process now.
        ctx.obj = AppContext(Environment.from_process())
    app_ctx: AppContext = ctx.obj
    app_ctx.apply_root_options(
        profile=profile, verbose=verbose, quiet=quiet, json_mode=json_mode, no_input=no_input
    )
    _configure_logging(app_ctx.verbose)


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
