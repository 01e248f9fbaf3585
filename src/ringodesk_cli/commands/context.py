"""What every command shares: the root options, the output, the profile, and option types."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from ringodesk_cli.render import Output
from ringodesk_cli.settings import Paths, Settings, resolve_profile

if TYPE_CHECKING:
    from ringodesk_cli.session import Session

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile", "-p", help="Profile name (env RINGODESK_PROFILE).", show_default=False
    ),
]


@dataclass
class AppContext:
    """Root options and lazily built objects, passed to commands as ``ctx.obj``."""

    profile_name: str | None = None
    verbose: int = 0
    quiet: bool = False
    json_mode: bool = False
    no_input: bool = False
    output: Output = field(default_factory=Output)
    insecure_storage: bool = False
    storage_warnings: bool = True  # the demo's throw-away profile needs no plain-file warning

    @property
    def profile(self) -> str:
        return resolve_profile(self.profile_name)

    @property
    def paths(self) -> Paths:
        return Paths.discover()

    @property
    def interactive(self) -> bool:
        return not self.no_input and sys.stdin.isatty()

    def settings(self) -> Settings:
        return Settings.load(self.profile, self.paths)

    def session(self) -> Session:
        from ringodesk_cli.session import Session

        warn = self.output.warn if self.storage_warnings else None
        return Session.open(self.profile, self.paths, insecure=self.insecure_storage, warn=warn)


def use(
    ctx: typer.Context,
    *,
    json_mode: bool = False,
    quiet: bool = False,
    profile: str | None = None,
) -> AppContext:
    """Merge a command's own --json/--quiet/--profile into the root options."""
    app: AppContext = ctx.find_root().obj
    if json_mode:
        app.json_mode = True
    if quiet:
        app.quiet = True
    if profile:
        app.profile_name = profile
    app.output.json_mode = app.json_mode
    app.output.quiet = app.quiet
    app.output.verbose = app.verbose
    return app
