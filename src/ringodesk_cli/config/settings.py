"""The TOML settings of a profile: load, validate against the key registry
(:mod:`ringodesk_cli.config.keys`), read, edit, atomic save.

Reading uses ``tomllib`` (fast, strict); writing re-parses with ``tomlkit`` so the user's
comments and key order survive every edit. Secrets never live here (see ``credentials``).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringodesk_cli.config.arrays import CHECKERS as ARRAY_CHECKERS
from ringodesk_cli.config.arrays import EntryError, entry_line
from ringodesk_cli.config.keys import KEYS as KEYS  # KEYS, TABLES: also imported from here
from ringodesk_cli.config.keys import TABLES as TABLES
from ringodesk_cli.config.keys import system_timezone
from ringodesk_cli.environment import PROFILE_NAME, process_vars
from ringodesk_cli.environment import Paths as Paths  # also imported from here
from ringodesk_cli.environment import resolve_profile as resolve_profile
from ringodesk_cli.errors import AuthError, ConfigError

if TYPE_CHECKING:
    import tomlkit

# Keys that look like secrets are refused in the file: they belong in the keyring.
_SECRET_WORDS = ("secret", "token", "password", "auth_key", "api_key")


def profiles(paths: Paths) -> list[str]:
    """The names of the profiles that have a settings file, sorted."""
    try:
        files = paths.config_dir.glob("*.toml")
        return sorted(p.stem for p in files if PROFILE_NAME.match(p.stem) and p.is_file())
    except OSError:
        return []


def require_profile(profile: str, paths: Paths, *, named: bool = True) -> None:
    """Nothing when ``profile`` has a settings file. Else a ``ConfigError`` (exit 3) naming
    the existing profiles when the profile was ``named`` (a mistyped ``--profile`` must not
    read as an empty profile), or an ``AuthError`` (exit 4: run activate) for the default
    profile of a machine where it was never activated."""
    if paths.config_file(profile).is_file():
        return
    known = profiles(paths)
    message = f"no profile named {profile} (profiles: {', '.join(known) or 'none yet'})"
    create = f"`ringodesk activate --profile {profile}` creates it"
    if not named:
        raise AuthError(
            message,
            hint="pass --profile NAME, or run `ringodesk activate` to create this one"
            if known
            else "run `ringodesk activate`",
        )
    hint = f"use --profile with one of them, or {create}" if known else create
    raise ConfigError(message, hint=hint)


def line_of(text: str, dotted: str) -> int | None:
    """Best-effort line number (1-based) of ``dotted`` in TOML ``text``."""
    parts = dotted.split(".")
    table: list[str] = []
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    assign = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-]+)\s*=""")
    for number, raw in enumerate(text.splitlines(), start=1):
        match = header.match(raw)
        if match:
            table = [p.strip().strip("\"'") for p in match.group(1).split(".")]
            if table == parts:
                return number
            continue
        match = assign.match(raw)
        if match:
            key = [
                p.strip().strip("\"'")
                for p in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", match.group(1))
            ]
            if table + key == parts:
                return number
    return None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name not in TABLES:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


class Settings:
    """A profile's settings file: validated on load and before every save."""

    def __init__(
        self, profile: str, path: Path, text: str, env: Mapping[str, str] | None = None
    ) -> None:
        """``env``: the variables of the run's Environment (``Paths.env``); without, the
        process's (``environment.process_vars``)."""
        self.profile = profile
        self.path = path
        self.env = process_vars() if env is None else env
        self._text = text
        try:
            self._data: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise ConfigError(
                f"not valid TOML: {exc}",
                path=str(path),
                line=int(match.group(1)) if match else None,
            ) from None
        self._doc: tomlkit.TOMLDocument | None = None
        self.validate()

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, profile: str, paths: Paths) -> Settings:
        path = paths.config_file(profile)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", path=str(path)) from None
        return cls(profile, path, text, paths.env)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    # -- validation ----------------------------------------------------------------------
    def _error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(
            message, path=str(self.path), line=line_of(self._text, key), key=key, hint=hint
        )

    def validate(self) -> None:
        for name, value in _flatten(self._data).items():
            lowered = name.lower()
            if any(word in lowered.rsplit(".", 1)[-1] for word in _SECRET_WORDS) and (
                name not in KEYS and not any(name.startswith(t + ".") for t in TABLES)
            ):
                raise self._error(
                    name,
                    "secrets do not belong in the settings file",
                    hint="remove the line; `ringodesk activate` keeps secrets in the keyring",
                )
            if name in ARRAY_CHECKERS:
                self._check_array(name, value)
                continue
            if name in TABLES:
                if not isinstance(value, Mapping):
                    raise self._error(name, "must be a table")
                for sub, item in value.items():
                    if not isinstance(item, str | int) or isinstance(item, bool):
                        raise self._error(f"{name}.{sub}", f"{item!r} must be a string")
                continue
            key = KEYS.get(name)
            if key is None:
                close = difflib.get_close_matches(name, [*KEYS, *TABLES], n=1)
                raise self._error(
                    name,
                    "unknown setting",
                    hint=f"did you mean {close[0]}?" if close else "see `ringodesk config show`",
                )
            try:
                key.check(value)
            except ValueError as exc:
                raise self._error(name, str(exc)) from None

    def _check_array(self, name: str, value: Any) -> list[dict[str, str]]:
        try:
            return ARRAY_CHECKERS[name](value)
        except EntryError as exc:
            line = entry_line(self._text, name, exc.index, exc.key)
            raise ConfigError(
                str(exc), path=str(self.path), line=line, key=exc.dotted(name)
            ) from None

    # -- reading -------------------------------------------------------------------------
    def array(self, name: str) -> list[dict[str, str]]:
        """The entries of an array of tables (``[[routing]]``), checked; [] when absent."""
        value = self.raw(name)
        return [] if value is None else self._check_array(name, value)

    def raw(self, name: str) -> Any:
        node: Any = self._data
        for part in name.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def get(self, name: str) -> Any:
        """The effective value: environment variable, else the file, else the default."""
        key = KEYS.get(name)
        if key is None:
            raise ConfigError(f"unknown setting {name!r}")
        if key.env and self.env.get(key.env):
            try:
                return key.check(self.env[key.env])
            except ValueError as exc:
                raise ConfigError(f"{key.env}: {exc}") from None
        value = self.raw(name)
        if value is None:
            if name == "ringostat.timezone":
                return system_timezone(self.env)
            return key.default
        return key.check(value)

    def require(self, name: str) -> str:
        """The value of a setting that must be set (see :meth:`require_all`)."""
        self.require_all((name,))
        return str(self.get(name))

    def require_all(self, names: Iterable[str]) -> None:
        """A ``ConfigError`` (exit 3) naming every one of ``names`` that has no value (unset,
        or an empty string) and this file; nothing when all are set."""
        missing = [name for name in names if self.get(name) in (None, "")]
        if not missing:
            return
        what = missing[0] if len(missing) == 1 else "KEY"
        raise ConfigError(
            f"{', '.join(missing)} not set in {self.path}",
            hint=f"run `ringodesk activate` (or `ringodesk config set {what} VALUE`)",
        )

    def source_of(self, name: str) -> str:
        key = KEYS[name]
        if key.env and self.env.get(key.env):
            return f"env {key.env}"
        if self.raw(name) is not None:
            return "file"
        return "default"

    def table(self, name: str) -> dict[str, str]:
        if name not in TABLES:
            raise ConfigError(f"unknown table {name!r}")
        value = self.raw(name) or {}
        return {str(k): str(v) for k, v in value.items()}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.get(name) for name in KEYS}
        for name in TABLES:
            out[name] = self.table(name)
        return out

    # -- editing -------------------------------------------------------------------------
    def _document(self) -> tomlkit.TOMLDocument:
        # tomlkit only when editing: reading uses tomllib, and cron only reads.
        import tomlkit

        if self._doc is None:
            self._doc = tomlkit.parse(self._text)
        return self._doc

    def _container(self, dotted: str, create: bool = True) -> Any:
        import tomlkit

        node: Any = self._document()
        for part in dotted.split("."):
            if part not in node:
                if not create:
                    return None
                node[part] = tomlkit.table()
            node = node[part]
        return node

    def set(self, name: str, value: Any) -> None:
        """Set a registered key (value checked now; file validated again on save)."""
        key = KEYS.get(name)
        if key is None:
            close = difflib.get_close_matches(name, list(KEYS), n=1)
            raise ConfigError(
                f"unknown setting {name!r}",
                hint=f"did you mean {close[0]}?" if close else "see `ringodesk config show`",
            )
        try:
            checked = key.check(value)
        except ValueError as exc:
            raise ConfigError(
                str(exc), path=str(self.path), line=line_of(self._text, name), key=name
            ) from None
        section, _, leaf = name.rpartition(".")
        container = self._container(section)
        container[leaf] = checked
        self._refresh()

    def unset(self, name: str) -> bool:
        section, _, leaf = name.rpartition(".")
        container = self._container(section, create=False)
        if container is None or leaf not in container:
            return False
        del container[leaf]
        self._refresh()
        return True

    def set_array(self, name: str, entries: list[dict[str, str]]) -> None:
        """Replace an array of tables (``[[routing]]``) with ``entries`` (checked now)."""
        import tomlkit

        self._check_array(name, entries)
        array = tomlkit.aot()
        for entry in entries:
            array.append(tomlkit.item(dict(entry)))
        self._document()[name] = array
        self._refresh()

    def set_table_entry(self, table: str, key: str, value: str) -> None:
        if table not in TABLES:
            raise ConfigError(f"unknown table {table!r}")
        container = self._container(table)
        container[key] = value
        self._refresh()

    def remove_table_entry(self, table: str, key: str) -> bool:
        container = self._container(table, create=False)
        if container is None or key not in container:
            return False
        del container[key]
        self._refresh()
        return True

    def _refresh(self) -> None:
        import tomlkit

        self._text = tomlkit.dumps(self._document())
        self._data = tomllib.loads(self._text)

    def text(self) -> str:
        return self._text

    def save(self) -> None:
        """Validate, then write atomically (temp file in the same folder, fsync, replace)."""
        self.validate()
        write_atomic(self.path, self._text)


def write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
