"""Settings of one sandbox instance. Every limit Zoho enforces is a knob here, so that tests
can trip it on purpose (or raise it so that repeated runs never do)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The scope set ringodesk asks for (the Desk scopes of Zoho's OAuth documentation); a Self
# Client code minted without an explicit scope string carries these.
DEFAULT_SCOPES = (
    "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
    "Desk.calls.ALL,Desk.tasks.ALL,Desk.search.READ"
)


# Readings of Zoho that its documentation leaves open (docs/zoho-readings.md): each is a
# setting whose first value is the strictest reading and whose second is the lenient one.
READINGS: dict[str, tuple[str, str]] = {
    # How a search value matches: the whole field text unless `*` wildcards are given, no
    # digit normalisation (exact); or digits found inside formatted numbers (digits).
    "search": ("exact", "digits"),
    # `sortBy` on the module lists GET /contacts, /calls, /tasks, /tickets: the OAS enums
    # list plain names only (oas: `-` and names outside the enum refused); a `-` form and the
    # names createdTime/modifiedTime everywhere (free). A record's own lists
    # (/tickets/{id}/calls|tasks, /contacts/{id}/tickets) document `-` under either value.
    "list_sort": ("oas", "free"),
    # `viewId` on GET /contacts/count: Contact.json marks it required.
    "count_view": ("required", "optional"),
    # cf values: the OAS caps them at 100 characters and excludes `= & % + # ( ) ;`.
    "cf_values": ("oas", "free"),
    # `description` on calls and tasks: absent from the older OAS.
    "call_task_description": ("refused", "accepted"),
    # GET /contacts/{id}/calls: in no OAS version.
    "contact_calls": ("absent", "present"),
    # departmentId on GET /tasks and GET /contacts/{id}/tickets: required in the older OAS.
    "department_required": ("yes", "no"),
    # GET /calls/{id}/attachments: in no OAS version (CallAttachment.json has POST and DELETE).
    "call_attachments": ("absent", "present"),
    # Zoho Accounts and a scope outside the scope list of Zoho's OAS (Common.json) and its
    # `.ALL` forms, such as `Desk.activities.calls.UPDATE`: `invalid_scope` (documented) or
    # granted (any).
    "scopes": ("documented", "any"),
}
STRICT: dict[str, str] = {name: values[0] for name, values in READINGS.items()}
LENIENT: dict[str, str] = {name: values[1] for name, values in READINGS.items()}
READING_PRESETS: dict[str, dict[str, str]] = {"strict": STRICT, "lenient": LENIENT}


def resolve_readings(
    values: Mapping[str, str] | str | None = None, *, preset: str = "strict"
) -> dict[str, str]:
    """The full set of readings: ``preset`` with ``values`` laid over it (``values`` may also
    be a preset's name). Unknown names or values raise ValueError with the accepted ones."""
    if isinstance(values, str):
        preset, values = values, None
    if preset not in READING_PRESETS:
        raise ValueError(
            f"unknown readings preset {preset!r}; use one of: {', '.join(READING_PRESETS)}"
        )
    out = dict(READING_PRESETS[preset])
    for name, value in (values or {}).items():
        if name not in READINGS:
            raise ValueError(f"unknown reading {name!r}; known readings: {', '.join(READINGS)}")
        if value not in READINGS[name]:
            allowed = "|".join(READINGS[name])
            raise ValueError(f"reading {name} takes {allowed}, not {value!r}")
        out[name] = value
    return out


def parse_reading(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value), checked against READINGS."""
    name, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    name, value = name.strip(), value.strip()
    resolve_readings({name: value})
    return name, value


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: int = 0
    # Answer times vary around latency_ms by this much (latency.py): "uniform" draws from
    # latency_ms ± spread, "lognormal" from a log-normal of mean latency_ms and standard
    # deviation spread (a long tail, as real services have). 0: every answer takes latency_ms.
    latency_spread_ms: int = 0
    latency_shape: str = "uniform"
    fail_rate: float = 0.0
    # Zoho's concurrency limit per portal (Express/Standard: 10; Zoho Desk's API credits page).
    concurrency: int = 10
    daily_credits: int | None = None
    token_lifetime: int = 3600
    # Zoho Accounts: 10 token requests per 10 minutes.
    token_requests_per_10min: int = 10
    search_lag_seconds: float = 0.0
    state_file: Path | None = None
    client_id: str = "1000.SANDBOXCLIENT"
    client_secret: str = "sandbox-client-secret"
    auto_approve: bool = True
    seed: int = 1
    # Self Client codes live 3 minutes by default (Zoho's Self Client documentation).
    grant_code_lifetime: int = 180
    # Device flow: user code valid 5 minutes, poll at most every 30 s (Zoho device flow).
    device_code_lifetime: int = 300
    device_poll_interval: int = 30
    # Zoho Accounts: at most 10 live access tokens per refresh token, 20 refresh tokens per client.
    max_access_tokens_per_refresh: int = 10
    max_refresh_tokens_per_client: int = 20
    # Enterprise limit on string custom fields per module (Zoho Desk field limits).
    custom_field_limit: int = 100
    # Empty: any http loopback redirect URI is accepted; else exact match.
    redirect_uris: tuple[str, ...] = ()
    fault_kinds: tuple[str, ...] = ("429", "500", "drop")
    # The calls/list stand-in (ringostat_api.py): its Auth-key, the zone its calldate/from/to
    # are written in (undocumented by Ringostat) and the 6,500-call cap of calls/list.
    ringostat_key: str = "sandbox-ringostat-key"
    ringostat_timezone: str = "UTC"
    ringostat_cap: int = 6500
    # A preset's name ("strict", "lenient") or readings laid over the strict preset (a
    # partial mapping is fine). Checked when the sandbox starts.
    readings: Mapping[str, str] | str = "strict"
    # Contacts typed by people (spaces, brackets, national formats, duplicates, a switchboard)
    # and custom fields beyond ringodesk's own; off by default so a test starts empty.
    seed_people: bool = False
    seed_custom_fields: bool = False
    # Scopes Zoho Accounts answers `invalid_scope` for whatever the reading `scopes` (a
    # documented scope a portal or client may still be refused), matched case-insensitively.
    refused_scopes: tuple[str, ...] = ()
    # The largest call attachment accepted (CallAttachment.json states no limit).
    attachment_max_mb: int = 20
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)
