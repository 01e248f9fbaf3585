"""What a run takes from the process it runs in, read once: environment variables, whether
stdin is a terminal, the clock, and the folders of settings and state.

The console entry point builds one :class:`Environment` from the process and passes it
down; library code takes it (or its ``vars``) as an argument instead of reading
``os.environ`` or ``sys.stdin`` itself. A derived copy runs something in another home
without touching the process (the demo's throw-away profile does).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from ringodesk_cli.errors import ConfigError, UsageError

HOME_VAR = "RINGODESK_HOME"
PROFILE_VAR = "RINGODESK_PROFILE"

APP_NAME = "ringodesk"
DEFAULT_PROFILE = "default"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def process_vars() -> Mapping[str, str]:
    """The process's variables, for code given no Environment (scripts, tests): the one
    place besides ``Environment.from_process`` that reads ``os.environ``."""
    return os.environ


@dataclass(frozen=True)
class Paths:
    """Where a profile's settings and state live."""

    config_dir: Path
    state_root: Path
    # The variables the paths were found with: the settings read theirs from here.
    env: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def discover(cls, env: Mapping[str, str] | None = None) -> Paths:
        """Under ``RINGODESK_HOME`` of ``env`` (default: the process's) if set, else the
        platform's config and state folders."""
        variables = process_vars() if env is None else env
        home = variables.get("RINGODESK_HOME")
        if home:
            base = Path(home).expanduser()
            return cls(config_dir=base / "config", state_root=base / "state", env=variables)
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            state_root=Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
            env=variables,
        )

    def __reduce__(self) -> tuple[type[Paths], tuple[Path, Path, dict[str, str]]]:
        # Sent to the worker process (serve): the variables as a plain dict.
        return Paths, (self.config_dir, self.state_root, dict(self.env))

    def config_file(self, profile: str) -> Path:
        return self.config_dir / f"{profile}.toml"

    def state_dir(self, profile: str) -> Path:
        return self.state_root / profile


def resolve_profile(name: str | None, env: Mapping[str, str] | None = None) -> str:
    """``name``, else ``RINGODESK_PROFILE`` of ``env`` (default: the process's), else default."""
    variables = process_vars() if env is None else env
    profile = name or variables.get("RINGODESK_PROFILE") or DEFAULT_PROFILE
    if not PROFILE_NAME.match(profile):
        raise ConfigError(
            f"profile name {profile!r} may use only letters, digits, '.', '_' and '-'"
        )
    return profile


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def utc_now() -> datetime:
    return datetime.now(UTC)


def _stdin_is_tty() -> bool:
    isatty = getattr(sys.stdin, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stdin
        return False


@dataclass(frozen=True, eq=False)
class Environment:
    """A read-only view of the process a run belongs to."""

    vars: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    stdin_is_tty: bool = False
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_process(cls) -> Environment:
        """Read ``os.environ`` and ``sys.stdin`` now, once."""
        return cls(vars=MappingProxyType(dict(os.environ)), stdin_is_tty=_stdin_is_tty())

    # -- reading -------------------------------------------------------------------------
    def get(self, name: str) -> str | None:
        """The variable's value, or None when it is unset or blank."""
        value = self.vars.get(name, "").strip()
        return value or None

    def flag(self, name: str) -> bool:
        """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case); unset is no."""
        value = self.get(name)
        if value is None:
            return False
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise UsageError(f"{name}={value!r} is not one of 1/0, true/false, yes/no, on/off")

    def count(self, name: str) -> int:
        """A level like ``-vv``: a whole number, or a yes/no word (yes = 1)."""
        value = self.get(name)
        if value is not None and value.isdigit():
            return int(value)
        return int(self.flag(name))

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def paths(self) -> Paths:
        """Settings and state folders: under ``RINGODESK_HOME`` if set, else the platform's."""
        return Paths.discover(self.vars)

    def profile(self, name: str | None = None) -> str:
        """The profile to use: ``name``, else ``RINGODESK_PROFILE``, else ``default``."""
        return resolve_profile(name, self.vars)

    # -- deriving ------------------------------------------------------------------------
    def derive(
        self, *, home: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> Environment:
        """A copy with ``RINGODESK_HOME`` set to ``home`` and ``env`` applied on top of the
        variables (a None value removes the variable). The process is left untouched."""
        updated = dict(self.vars)
        if home is not None:
            updated[HOME_VAR] = str(home)
        for name, value in (env or {}).items():
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        return Environment(
            vars=MappingProxyType(updated), stdin_is_tty=self.stdin_is_tty, clock=self.clock
        )
