"""What every command shares: the root options, the output, the profile, and option types.

The root options (``--json``, ``--quiet``, ``--no-input``, ``-v``, ``--profile``) are declared
once here; each also comes from an environment variable (``ROOT_ENV_VARS``). Commands that
cron runs repeat ``--json``/``--quiet``/``--profile`` after their own name with the same types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ringodesk_cli.config.settings import Paths, Settings, require_profile
from ringodesk_cli.environment import PROFILE_VAR, Environment
from ringodesk_cli.interrupts import Interrupts
from ringodesk_cli.render import Output

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ringodesk_cli.session import Session

JSON_VAR = "RINGODESK_JSON"
QUIET_VAR = "RINGODESK_QUIET"
NO_INPUT_VAR = "RINGODESK_NO_INPUT"
VERBOSE_VAR = "RINGODESK_VERBOSE"
ROOT_ENV_VARS = {
    "--json": JSON_VAR,
    "--quiet": QUIET_VAR,
    "--no-input": NO_INPUT_VAR,
    "--verbose": VERBOSE_VAR,
    "--profile": PROFILE_VAR,
}

JsonOpt = Annotated[
    bool, typer.Option("--json", help=f"Print one JSON document on stdout (env {JSON_VAR}).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help=f"Print nothing but errors (env {QUIET_VAR}).")
]
NoInputOpt = Annotated[
    bool,
    typer.Option(
        "--no-input",
        help=f"Never prompt; implied when stdin is not a terminal (env {NO_INPUT_VAR}).",
    ),
]
VerboseOpt = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help=f"Show debug logs and tracebacks (env {VERBOSE_VAR}=1).",
    ),
]
InsecureStorageOpt = Annotated[
    bool,
    typer.Option("--insecure-storage", help="Keep secrets in a 0600 file when no keyring works."),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help=f"Profile name (env {PROFILE_VAR}).", show_default=False),
]


@dataclass
class AppContext:
    """Root options and lazily built objects, passed to commands as ``ctx.obj``."""

    env: Environment
    profile_name: str | None = None
    verbose: int = 0
    quiet: bool = False
    json_mode: bool = False
    no_input: bool = False
    output: Output = field(default_factory=Output)
    insecure_storage: bool = False
    storage_warnings: bool = True  # the demo's throw-away profile needs no plain-file warning
    # SIGINT/SIGTERM of the process (installed by the entry point; inert otherwise).
    interrupts: Interrupts = field(default_factory=Interrupts)

    def apply_root_options(
        self, *, profile: str | None, verbose: int, quiet: bool, json_mode: bool, no_input: bool
    ) -> None:
        """Take the root flags; a flag not given falls back to its environment variable."""
        self.profile_name = profile
        self.verbose = verbose or self.env.count(VERBOSE_VAR)
        self.quiet = quiet or self.env.flag(QUIET_VAR)
        self.json_mode = json_mode or self.env.flag(JSON_VAR)
        self.no_input = no_input or self.env.flag(NO_INPUT_VAR)
        self.output = Output(json_mode=self.json_mode, quiet=self.quiet, verbose=self.verbose)

    @property
    def profile(self) -> str:
        return self.env.profile(self.profile_name)

    @property
    def paths(self) -> Paths:
        return self.env.paths

    @property
    def interactive(self) -> bool:
        return not self.no_input and self.env.stdin_is_tty

    def settings(self) -> Settings:
        return Settings.load(self.profile, self.paths)

    def session(self, *, new_profile: bool = False) -> Session:
        """The profile's session; unless ``new_profile`` (``activate`` creates profiles), a
        profile without a settings file is a ``ConfigError`` naming the existing ones."""
        from ringodesk_cli.session import Session

        if not new_profile:
            named = bool(self.profile_name or self.env.get(PROFILE_VAR))
            require_profile(self.profile, self.paths, named=named)
        warn = self.output.warn if self.storage_warnings else None
        return Session.open(
            self.profile,
            self.paths,
            insecure=self.insecure_storage,
            warn=warn,
            env=self.env.vars,
        )

    def derive(
        self, *, home: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> AppContext:
        """A copy whose environment has another home and/or other variables
        (see ``Environment.derive``); the options and the output are shared."""
        return dataclasses.replace(self, env=self.env.derive(home=home, env=env))


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
