"""The TOML settings of a profile: one registry of keys, load, validate, atomic save.

Reading uses ``tomllib`` (fast, strict); writing re-parses with ``tomlkit`` so the user's
comments and key order survive every edit. Secrets never live here (see ``credentials``).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringodesk_cli.durations import parse_duration
from ringodesk_cli.errors import ConfigError

if TYPE_CHECKING:
    import tomlkit

APP_NAME = "ringodesk"
DEFAULT_PROFILE = "default"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

REGIONS = ("com", "eu", "in", "com.au", "jp", "ca", "sa", "uk", "com.cn")
TICKET_POLICIES = ("new-caller", "every-inbound", "never")
SOURCE_KINDS = ("files", "inbox", "api")

# Keys that look like secrets are refused in the file: they belong in the keyring.
_SECRET_WORDS = ("secret", "token", "password", "auth_key", "api_key")


def _check_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _check_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
    return int(value)


def _check_positive_int(value: Any) -> int:
    number = _check_int(value)
    if number < 1:
        raise ValueError(f"{number} must be 1 or more")
    return number


def _check_port(value: Any) -> int:
    number = _check_int(value)
    if not 1 <= number <= 65535:
        raise ValueError(f"{number} is not a TCP port (1-65535)")
    return number


def _check_duration(value: Any) -> str:
    text = _check_str(value)
    parse_duration(text)
    return text


def _check_url(value: Any) -> str:
    text = _check_str(value).rstrip("/")
    if not re.match(r"^https?://[^\s/]+", text):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return text


def _check_timezone(value: Any) -> str:
    text = _check_str(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not an IANA time zone like Europe/Kyiv") from None
    return text


def _check_region_code(value: Any) -> str:
    text = _check_str(value).upper()
    if not re.match(r"^[A-Z]{2}$", text):
        raise ValueError(f"{value!r} is not a two-letter country code like UA")
    return text


def _check_id(value: Any) -> str:
    # Zoho ids are 64-bit numbers; TOML users may write them unquoted.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _check_str(value)
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a Zoho id (digits only)")
    return text


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _check_str(value)
        if text not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text

    return check


@dataclass(frozen=True)
class Key:
    """One setting: its dotted name, checker, default, description and environment variable."""

    name: str
    check: Callable[[Any], Any]
    default: Any
    description: str
    env: str | None = None
    kind: str = "str"


def _system_timezone() -> str:
    tz = os.environ.get("TZ", "")
    if tz and not tz.startswith(":"):
        try:
            ZoneInfo(tz)
            return tz
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            ZoneInfo(name)
            return name
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return "UTC"


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("zoho.region", _choice(REGIONS), "com", "Zoho data center: " + ", ".join(REGIONS)),
        Key("zoho.client_id", _check_str, None, "OAuth client id from api-console.zoho.com"),
        Key(
            "zoho.accounts_url",
            _check_url,
            None,
            "Zoho Accounts server; default: the region's",
            env="RINGODESK_ACCOUNTS_URL",
        ),
        Key(
            "zoho.desk_url",
            _check_url,
            None,
            "Zoho Desk host root (the client adds /api/v1); default: the region's",
            env="RINGODESK_DESK_URL",
        ),
        Key("zoho.org_id", _check_id, None, "Zoho Desk organization id"),
        Key("zoho.department_id", _check_id, None, "Department that tickets, calls, tasks go to"),
        Key(
            "zoho.concurrency",
            _check_positive_int,
            5,
            "Requests in flight at once (Free edition allows 5)",
            kind="int",
        ),
        Key(
            "zoho.redirect_port",
            _check_port,
            8765,
            "Port of http://127.0.0.1:PORT/callback registered in Zoho's API console",
            kind="int",
        ),
        Key(
            "integration.senior_manager",
            _check_id,
            None,
            "Agent id of the senior manager (owner of missed-call work)",
        ),
        Key(
            "integration.task_deadline",
            _check_duration,
            "4h",
            "Task processing deadline: missed-call task due = call time + this",
            kind="duration",
        ),
        Key(
            "integration.tickets",
            _choice(TICKET_POLICIES),
            "new-caller",
            "When a ticket is created: " + ", ".join(TICKET_POLICIES),
        ),
        Key(
            "ringostat.timezone",
            _check_timezone,
            None,
            "IANA zone of calldate in exports; default: the system zone",
        ),
        Key(
            "ringostat.default_region",
            _check_region_code,
            "UA",
            "Country assumed for numbers written without a country code",
        ),
        Key("ringostat.api_url", _check_url, "https://api.ringostat.net", "Ringostat API root"),
        Key("source.kind", _choice(SOURCE_KINDS), "files", "Where sync reads calls from"),
        Key("source.inbox", _check_str, None, "Folder of export files for kind = inbox"),
    )
}

# Tables whose keys are free (user data), each value a string.
TABLES: dict[str, str] = {
    "source.columns": "export header -> call-log field name, for headers ringodesk does not know",
    "fields.tickets": "rs_* label -> ticket field apiName as Zoho returned it",
    "fields.contacts": "rs_* label -> contact field apiName as Zoho returned it",
    "employees": "Ringostat employee name, number or SIP -> Zoho Desk agent id",
    "mapping.ticket": "Ringostat parameter -> ticket custom field apiName",
    "mapping.contact": "Ringostat parameter -> contact custom field apiName",
}


@dataclass(frozen=True)
class Paths:
    """Where a profile's settings and state live."""

    config_dir: Path
    state_root: Path

    @classmethod
    def discover(cls) -> Paths:
        home = os.environ.get("RINGODESK_HOME")
        if home:
            base = Path(home).expanduser()
            return cls(config_dir=base / "config", state_root=base / "state")
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            state_root=Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
        )

    def config_file(self, profile: str) -> Path:
        return self.config_dir / f"{profile}.toml"

    def state_dir(self, profile: str) -> Path:
        return self.state_root / profile


def resolve_profile(name: str | None) -> str:
    profile = name or os.environ.get("RINGODESK_PROFILE") or DEFAULT_PROFILE
    if not _PROFILE_NAME.match(profile):
        raise ConfigError(
            f"profile name {profile!r} may use only letters, digits, '.', '_' and '-'"
        )
    return profile


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

    def __init__(self, profile: str, path: Path, text: str) -> None:
        self.profile = profile
        self.path = path
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
        return cls(profile, path, text)

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

    # -- reading -------------------------------------------------------------------------
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
        if key.env and os.environ.get(key.env):
            try:
                return key.check(os.environ[key.env])
            except ValueError as exc:
                raise ConfigError(f"{key.env}: {exc}") from None
        value = self.raw(name)
        if value is None:
            if name == "ringostat.timezone":
                return _system_timezone()
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
        if key.env and os.environ.get(key.env):
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
