"""The registry of a profile's settings: every key with its checker, default, description and
environment variable, and the free-form tables. :mod:`ringodesk_cli.config.settings` reads and
writes the file against it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringodesk_cli.config.durations import parse_duration

REGIONS = ("com", "eu", "in", "com.au", "jp", "ca", "sa", "uk", "com.cn")
TICKET_POLICIES = ("new-caller", "every-inbound", "never", "reuse-open")
SOURCE_KINDS = ("files", "inbox", "api")
LANGUAGES = ("uk", "ru", "en")  # the shipped template sets (rules/templates.py)
RECORDING_FORMATS = ("mp3", "wav")
CREATE_RECORDS = ("after-call", "before-call")


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


# Zoho Desk's concurrent calls per organization: Free 5, Express and Standard 10,
# Professional 15, Enterprise 25 (Zoho Desk's "Working with API credits").
MAX_CONCURRENCY = 25


def _check_concurrency(value: Any) -> int:
    number = _check_int(value)
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ValueError(
            f"{number} is not 1-{MAX_CONCURRENCY}: Zoho Desk serves at most {MAX_CONCURRENCY} "
            "requests of one organization at once (Enterprise; Free 5, Standard 10, "
            "Professional 15)"
        )
    return number


def _check_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _check_port(value: Any) -> int:
    number = _check_int(value)
    if not 1 <= number <= 65535:
        raise ValueError(f"{number} is not a TCP port (1-65535)")
    return number


def _check_duration(value: Any) -> str:
    text = _check_str(value)
    parse_duration(text)
    return text


def _check_duration_or_off(value: Any) -> str:
    text = _check_str(value).strip().lower()
    if text != "off":
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


def _check_hosts(value: Any) -> list[str]:
    """``recordings.hosts``: a list of domains and origins. From the command line it comes
    as the text of a TOML array (``'["ringostat.com", "http://127.0.0.1:9000"]'``)."""
    from ringodesk_cli.config.hosts import check_entry

    if isinstance(value, str):
        try:
            value = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError(
                f'{value!r} is not a TOML array like \'["ringostat.com", "http://127.0.0.1:9000"]\''
            ) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'{value!r} is not a list of hosts like ["ringostat.com"]')
    return [check_entry(v) for v in value]


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


def system_timezone(env: Mapping[str, str]) -> str:
    """The system's zone: ``TZ`` of ``env`` (the run's Environment), else /etc/localtime."""
    tz = env.get("TZ", "")
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


# Ringostat projects in Ukraine write call times in Kyiv time; a server's UTC is almost
# never the zone of its exports.
RINGOSTAT_TIMEZONE = "Europe/Kyiv"
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                        "Etc/Zulu", "Zulu", "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0",
                        "Etc/GMT-0", "Etc/Greenwich", "Greenwich"})  # fmt: skip


def suggested_timezone(env: Mapping[str, str]) -> tuple[str, str]:
    """The zone to offer for ``ringostat.timezone`` and why: the system zone (``env``: the
    run's variables), or Europe/Kyiv when the system runs on UTC."""
    system = system_timezone(env)
    if system in _UTC_NAMES:
        why = f"the system zone is {system}; Ringostat projects keep Kyiv time"
        return RINGOSTAT_TIMEZONE, why
    return system, "the system zone"


# ---- team rules: [rules], [rules.<call type>], reuse of the open ticket, deadlines ---------
MISSED_TASK_FOR = ("inbound", "inbound+callback", "all")
RULE_CALL_TYPES = ("in", "out", "callback")
DEADLINE_MODES = ("calendar", "business-hours")


def _check_seconds(value: Any) -> int:
    number = _check_int(value)
    if number < 0:
        raise ValueError(f"{number} must be 0 or more")
    return number


def _rule_keys() -> list[Key]:
    """``rules.KEY`` and its per call type overrides ``rules.<type>.KEY`` (default: unset,
    i.e. the ``[rules]`` value)."""
    base = (
        ("min_talk_seconds", _check_seconds, 0, "int",
         "Answered calls shorter than this get a call activity only (no ticket, no task)"),
        ("skip_voicemail", _check_bool, False, "bool",
         "Calls that ended in voicemail get a call activity only"),
        ("missed_task_for", _choice(MISSED_TASK_FOR), "inbound+callback", "str",
         "Missed calls that get a call-back task: " + ", ".join(MISSED_TASK_FOR)),
        ("ticket_for_missed", _check_bool, True, "bool",
         "Whether a missed call opens a ticket (it may still join an open one)"),
    )  # fmt: skip
    keys = [Key(f"rules.{n}", c, d, text, kind=k) for n, c, d, k, text in base]
    for call_type in RULE_CALL_TYPES:
        keys += [
            Key(f"rules.{call_type}.{n}", c, None, f"{text} ({call_type} calls)", kind=k)
            for n, c, _, k, text in base
        ]
    return keys


RULE_KEYS = (
    *_rule_keys(),
    Key(
        "integration.reuse_window",
        _check_duration,
        "7d",
        "tickets = reuse-open: a ticket counts as open this long after its last call",
        kind="duration",
    ),
    Key(
        "integration.deadline_in",
        _choice(DEADLINE_MODES),
        "calendar",
        "Task due dates count calendar time, or only the department's business hours",
    ),
    Key(
        "integration.business_hours",
        _check_str,
        None,
        "Business-hours set (id or name) for deadline_in = business-hours; "
        "default: the only active one",
    ),
)


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
        Key("zoho.portal", _check_str, None, "Zoho Desk portal name, for links to its web UI"),
        Key(
            "zoho.concurrency",
            _check_concurrency,
            5,
            f"Requests in flight at once, 1-{MAX_CONCURRENCY} (Free edition allows 5)",
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
        *RULE_KEYS,
        Key(
            "integration.language",
            _choice(LANGUAGES),
            "en",
            "Language of the texts written into Zoho Desk: "
            + ", ".join(LANGUAGES)
            + " (activate sets uk for new profiles)",
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
        Key(
            "contacts.index_max",
            _check_positive_int,
            50_000,
            "Above this many Zoho contacts, callers are found by search, not the local index",
            kind="int",
        ),
        Key(
            "integration.create_records",
            _choice(CREATE_RECORDS),
            "after-call",
            "When `serve` creates records: after-call, or before-call (contact and a new "
            "caller's ticket at the before event, owned by the senior manager)",
        ),
        Key("serve.host", _check_str, "127.0.0.1", "Address `ringodesk serve` listens on"),
        Key("serve.port", _check_port, 8790, "Port `ringodesk serve` listens on", kind="int"),
        Key(
            "serve.catch_up_every",
            _check_duration_or_off,
            "10m",
            "With source.kind = api: how often `serve` fetches Ringostat's calls/list for "
            "what no webhook brought (`off`: never)",
        ),
        Key(
            "serve.public_url",
            _check_url,
            None,
            "The address Ringostat reaches `ringodesk serve` at (https://..., a reverse proxy)",
        ),
        Key(
            "contacts.shared_max",
            _check_positive_int,
            5,
            "A number shared by more contacts is a switchboard: listed, never merged",
            kind="int",
        ),
        Key(
            "recordings.attach",
            _check_bool,
            False,
            "Attach each call's recording to its Zoho Desk call activity",
            kind="bool",
        ),
        Key(
            "recordings.format",
            _choice(RECORDING_FORMATS),
            "mp3",
            "mp3 (Ringostat's recording link) or wav (its recording_wav link)",
        ),
        Key(
            "recordings.max_mb",
            _check_positive_int,
            20,
            "Recordings larger than this many MB are not attached (counted, the link stays)",
            kind="int",
        ),
        Key(
            "recordings.hosts",
            _check_hosts,
            ["ringostat.com", "ringostat.net"],
            "Where recordings may be downloaded from (and the Auth-key sent): domains with "
            'their subdomains over https, or exact origins like "http://127.0.0.1:9000"',
            kind="list",
        ),
        Key(
            "recordings.retry_days",
            _check_positive_int,
            3,
            "Days a missing recording is looked for again by later runs before it is given up",
            kind="int",
        ),
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
    "templates": "text key -> template overriding the language's (see config.example.toml)",
    "serve.params": "webhook parameter name -> the calls/list name it stands for",
}

# Arrays of tables, each entry checked by ringodesk_cli.config.arrays.
ARRAYS: dict[str, str] = {
    "routing": "routes: dst, pool or ringostat_department -> department, senior_manager, tickets",
}
