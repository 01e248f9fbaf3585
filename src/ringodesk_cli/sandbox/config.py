"""Settings of one sandbox instance. Every limit Zoho enforces is a knob here, so that tests
can trip it on purpose (or raise it so that repeated runs never do)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# The scope set ringodesk asks for (zoho-desk-api.md §1.7 "Suggested set"); a Self Client code
# minted without an explicit scope string carries these.
DEFAULT_SCOPES = (
    "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
    "Desk.calls.ALL,Desk.tasks.ALL,Desk.search.READ"
)


@dataclass(frozen=True)
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: int = 0
    fail_rate: float = 0.0
    # Zoho's concurrency limit per portal (Express/Standard: 10; zoho-desk-api.md §8).
    concurrency: int = 10
    daily_credits: int | None = None
    token_lifetime: int = 3600
    # zoho-desk-api.md §1.4: 10 token requests per 10 minutes.
    token_requests_per_10min: int = 10
    search_lag_seconds: float = 0.0
    state_file: Path | None = None
    client_id: str = "1000.SANDBOXCLIENT"
    client_secret: str = "sandbox-client-secret"
    auto_approve: bool = True
    seed: int = 1
    # Self Client codes live 3 minutes by default (zoho-desk-api.md §1.3 item 2).
    grant_code_lifetime: int = 180
    # Device flow: user code valid 5 minutes, poll at most every 30 s (§1.3 item 4).
    device_code_lifetime: int = 300
    device_poll_interval: int = 30
    # §1.4: at most 10 live access tokens per refresh token, 20 refresh tokens per client.
    max_access_tokens_per_refresh: int = 10
    max_refresh_tokens_per_client: int = 20
    # Enterprise limit on string custom fields per module (§3 "Field limits").
    custom_field_limit: int = 100
    # Empty: any http loopback redirect URI is accepted; else exact match (§1.3 item 1).
    redirect_uris: tuple[str, ...] = ()
    fault_kinds: tuple[str, ...] = ("429", "500", "drop")
    # The calls/list stand-in (ringostat_api.py): its Auth-key, the zone its calldate/from/to
    # are written in (undocumented by Ringostat, ringostat.md §7) and the 6,500-call cap (§2).
    ringostat_key: str = "sandbox-ringostat-key"
    ringostat_timezone: str = "UTC"
    ringostat_cap: int = 6500
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)
