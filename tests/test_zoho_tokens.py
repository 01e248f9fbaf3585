"""Token cache and provider: reuse across runs, refresh before expiry, local request limit."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests_mock as rm

from ringodesk_cli.errors import RateLimitedError
from ringodesk_cli.redact import redact
from ringodesk_cli.zoho.accounts import AccountsClient
from ringodesk_cli.zoho.tokens import CACHE_FILE_NAME, CacheState, TokenCache, TokenProvider

ACCOUNTS = "https://accounts.zoho.com"
TOKEN_URL = ACCOUNTS + "/oauth/v2/token"
REFRESH = "refresh-token-of-profile"
THROTTLED = {"error": "Access Denied", "status": "failure", "error_description": "too many"}


class Clock:
    def __init__(self, now: float = 2_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(isolated_home: Path) -> TokenCache:
    return TokenCache(isolated_home / "state" / "default" / CACHE_FILE_NAME)


def numbered_tokens(requests_mock: rm.Mocker) -> Any:
    """Each refresh answers a new token: access-1, access-2, ..."""
    counter = {"n": 0}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        counter["n"] += 1
        return {"access_token": f"access-{counter['n']}", "expires_in": 3600}

    return requests_mock.post(TOKEN_URL, json=answer)


def provider(
    cache: TokenCache,
    clock: Clock,
    refresh_token: str = REFRESH,
    accounts_url: str = ACCOUNTS,
) -> TokenProvider:
    """A new provider with a new client: what each cron run builds from scratch."""
    accounts = AccountsClient(accounts_url, "client-id", "client-secret", clock=clock)
    return TokenProvider(accounts, refresh_token, cache, clock=clock, skew=300.0)


def test_first_call_refreshes_and_caches_in_a_0600_file(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    numbered_tokens(requests_mock)
    assert provider(cache, clock).access_token() == "access-1"
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    saved = json.loads(cache.path.read_text())
    assert saved["access_token"] == "access-1"
    assert saved["expires_at"] == clock.now + 3600
    assert saved["accounts_url"] == ACCOUNTS
    assert saved["token_requests"] == [clock.now]
    assert REFRESH not in cache.path.read_text()


def test_cached_token_is_reused_by_the_next_run_without_a_request(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    assert provider(cache, clock).access_token() == "access-1"
    clock.now += 60  # the next minute's cron run
    assert provider(cache, clock).access_token() == "access-1"
    clock.now += 3000
    assert provider(cache, clock).access_token() == "access-1"
    assert token_calls.call_count == 1


def test_token_is_refreshed_once_within_skew_of_expiry(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    tokens = provider(cache, clock)
    tokens.access_token()
    clock.now += 3600 - 299  # less than 300 s left
    assert tokens.access_token() == "access-2"
    assert tokens.access_token() == "access-2"
    assert token_calls.call_count == 2


def test_cached_token_is_registered_as_a_secret(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    cache.write(
        CacheState("cached-access-token", clock.now + 3600, ACCOUNTS, _owner(), (clock.now,))
    )
    assert provider(cache, clock).access_token() == "cached-access-token"
    assert "cached-access-token" not in redact("header cached-access-token")


def _owner(refresh_token: str = REFRESH) -> str:
    from ringodesk_cli.zoho.tokens import fingerprint

    return fingerprint(refresh_token)


def test_invalidate_refreshes_once_even_when_reported_twice(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    tokens = provider(cache, clock)
    old = tokens.access_token()
    tokens.invalidate(old)
    assert tokens.access_token() == "access-2"
    tokens.invalidate(old)  # a second thread reporting the same 401 late
    assert tokens.access_token() == "access-2"
    assert token_calls.call_count == 2


def test_local_limit_refuses_an_eleventh_request_in_ten_minutes_without_sending(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    tokens = provider(cache, clock)
    for _ in range(10):
        tokens.invalidate(tokens.access_token())
        clock.now += 30
    assert token_calls.call_count == 10
    with pytest.raises(RateLimitedError) as caught:
        tokens.access_token()
    assert token_calls.call_count == 10
    assert caught.value.hint is not None and "try again in 300 s" in caught.value.hint
    clock.now += 301  # the oldest request leaves the 10-minute window
    assert tokens.access_token() == "access-11"


def test_local_limit_hands_out_a_still_valid_token_instead_of_failing(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    stamps = tuple(clock.now - 10 * i for i in range(10))
    cache.write(CacheState("nearly-expired", clock.now + 200, ACCOUNTS, _owner(), stamps))
    assert provider(cache, clock).access_token() == "nearly-expired"
    assert token_calls.call_count == 0


def test_zoho_throttle_with_no_usable_token_is_rate_limited_and_counted(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, json=THROTTLED)
    with pytest.raises(RateLimitedError):
        provider(cache, clock).access_token()
    assert cache.read().token_requests == (clock.now,)


def test_zoho_throttle_falls_back_to_the_still_valid_token(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    requests_mock.post(TOKEN_URL, json=THROTTLED)
    cache.write(CacheState("still-valid", clock.now + 120, ACCOUNTS, _owner(), ()))
    assert provider(cache, clock).access_token() == "still-valid"


def test_token_of_another_refresh_token_or_server_is_not_reused(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    token_calls = numbered_tokens(requests_mock)
    cache.write(CacheState("old-profile-token", clock.now + 3600, ACCOUNTS, _owner("other"), ()))
    assert provider(cache, clock).access_token() == "access-1"
    requests_mock.post("https://accounts.zoho.eu/oauth/v2/token", json={"access_token": "eu-1"})
    assert provider(cache, clock, accounts_url="https://accounts.zoho.eu").access_token() == "eu-1"
    assert token_calls.call_count == 1


def test_damaged_cache_file_reads_as_empty(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    numbered_tokens(requests_mock)
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text("{not json")
    assert cache.read() == CacheState()
    assert provider(cache, clock).access_token() == "access-1"


def test_clear_deletes_the_cache(cache: TokenCache, clock: Clock, requests_mock: rm.Mocker) -> None:
    numbered_tokens(requests_mock)
    tokens = provider(cache, clock)
    tokens.access_token()
    tokens.clear()
    assert not cache.path.exists()
    tokens.clear()  # idempotent


def test_two_runs_at_once_refresh_only_once(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    calls: list[float] = []

    def slow_answer(request: Any, context: Any) -> dict[str, Any]:
        calls.append(time.monotonic())
        time.sleep(0.2)  # long enough for the other run to reach the lock
        return {"access_token": f"access-{len(calls)}", "expires_in": 3600}

    requests_mock.post(TOKEN_URL, json=slow_answer)
    # Separate providers (separate thread locks): only the file lock keeps them apart.
    runs = [provider(cache, clock), provider(cache, clock)]
    got: list[str] = []
    threads = [threading.Thread(target=lambda p=p: got.append(p.access_token())) for p in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert got == ["access-1", "access-1"]
    assert len(calls) == 1


def test_a_refused_refresh_token_is_remembered_so_later_runs_send_no_token_request(
    tmp_path: Path, requests_mock: Any
) -> None:
    from ringodesk_cli.errors import ZohoAuthError
    from ringodesk_cli.zoho.accounts import AccountsClient
    from ringodesk_cli.zoho.tokens import TokenCache, TokenProvider

    url = "https://accounts.zoho.eu"
    requests_mock.post(f"{url}/oauth/v2/token", json={"error": "invalid_code"})
    cache = TokenCache(tmp_path / "zoho-token.json")
    first = TokenProvider(AccountsClient(url, "1000.C", "s3cret-value"), "1000.dead", cache)
    with pytest.raises(ZohoAuthError):
        first.access_token()
    assert requests_mock.call_count == 1
    # Another thread, and the next cron run: refused at once, nothing sent.
    for provider in (
        first,
        TokenProvider(AccountsClient(url, "1000.C", "s3cret-value"), "1000.dead", cache),
    ):
        with pytest.raises(ZohoAuthError) as info:
            provider.access_token()
        assert "no token request was sent" in str(info.value)
        assert "ringodesk activate" in (info.value.hint or "")
    assert requests_mock.call_count == 1
    # A re-activation brings a new refresh token: that one is asked for normally.
    requests_mock.post(
        f"{url}/oauth/v2/token", json={"access_token": "1000.new", "expires_in": 3600}
    )
    fresh = TokenProvider(AccountsClient(url, "1000.C", "s3cret-value"), "1000.alive", cache)
    assert fresh.access_token() == "1000.new"


class StuckClock:
    """Stands in for the `time` module inside tokens.py: `sleep` moves `monotonic` on, so
    a 90-second wait for the lock takes no real time."""

    def __init__(self, step: float | None = None) -> None:
        self.now = 5_000.0
        self.slept = 0.0
        self.step = step  # each sleep takes this long instead (a loaded machine)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        seconds = self.step or seconds
        self.slept += seconds
        self.now += seconds

    def time(self) -> float:
        return time.time()


def hold_lock(path: Path) -> int:
    """Another holder of ``path``'s flock (a second open file description conflicts with the
    first even inside one process, as another process's would)."""
    import fcntl
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_token_lock_held_past_the_wait_gives_busy_exit_7_and_sends_nothing(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from ringodesk_cli.errors import BusyError, ExitCode
    from ringodesk_cli.zoho import tokens

    numbered_tokens(requests_mock)
    stuck = StuckClock()
    monkeypatch.setattr(tokens, "time", stuck)
    fd = hold_lock(cache.lock_path)
    try:
        with pytest.raises(BusyError) as caught:
            provider(cache, clock).access_token()
    finally:
        os.close(fd)
    assert caught.value.exit_code == ExitCode.BUSY == 7
    assert str(caught.value) == (f"another ringodesk process has held {cache.lock_path} for 90 s")
    assert 89.9 < stuck.slept < 90.2  # it waited the whole 90 s, polling, then gave up
    assert requests_mock.call_count == 0
    # Once the holder is gone the next run refreshes as usual.
    assert provider(cache, clock).access_token() == "access-1"


def test_the_token_lock_file_is_private_and_taking_it_leaks_no_descriptor(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker
) -> None:
    import os

    numbered_tokens(requests_mock)
    assert provider(cache, clock).access_token() == "access-1"
    assert stat.S_IMODE(cache.lock_path.stat().st_mode) == 0o600
    # `ringodesk serve` takes the lock for as long as it runs: every time must give back
    # its descriptor, or the process runs out of them.
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with cache.lock(wait=1):
            pass
    assert len(os.listdir("/proc/self/fd")) == before


def test_the_token_lock_wait_ends_as_soon_as_its_90_seconds_have_passed(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from ringodesk_cli.errors import BusyError
    from ringodesk_cli.zoho import tokens

    numbered_tokens(requests_mock)
    stuck = StuckClock(step=30.0)  # three sleeps reach the deadline exactly
    monkeypatch.setattr(tokens, "time", stuck)
    fd = hold_lock(cache.lock_path)
    try:
        with pytest.raises(BusyError):
            provider(cache, clock).access_token()
    finally:
        os.close(fd)
    assert stuck.slept == 90.0


def test_a_fresh_cached_token_or_a_refused_refresh_token_never_waits_for_the_lock(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process refreshing (holding the lock) must not hold up a run that needs no
    refresh, nor one that will fail anyway."""
    import os

    from ringodesk_cli.errors import ZohoAuthError
    from ringodesk_cli.zoho import tokens

    numbered_tokens(requests_mock)
    assert provider(cache, clock).access_token() == "access-1"
    stuck = StuckClock()
    monkeypatch.setattr(tokens, "time", stuck)
    fd = hold_lock(cache.lock_path)
    try:
        assert provider(cache, clock).access_token() == "access-1"
        assert stuck.slept == 0
        cache.write(CacheState(refused=tokens.fingerprint(REFRESH)))
        with pytest.raises(ZohoAuthError, match="refused this profile's refresh token"):
            provider(cache, clock).access_token()
        assert stuck.slept == 0
    finally:
        os.close(fd)
    assert requests_mock.call_count == 1


def test_the_cache_file_is_read_again_only_after_it_changed(
    cache: TokenCache, clock: Clock, requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbered_tokens(requests_mock)
    tokens = provider(cache, clock)
    assert tokens.access_token() == "access-1"
    reads: list[Path] = []
    real_read = TokenCache.read

    def counted(self: TokenCache) -> CacheState:
        reads.append(self.path)
        return real_read(self)

    monkeypatch.setattr(TokenCache, "read", counted)
    for _ in range(5):
        assert tokens.access_token() == "access-1"
    assert len(reads) <= 1  # the state written by the refresh is read once, then kept
    reads.clear()
    # Another process replaces the cached token: the next call sees it.
    other = TokenCache(cache.path)
    other.write(CacheState("from-another-run", clock.now + 3600, ACCOUNTS, _owner(), ()))
    assert tokens.access_token() == "from-another-run"
    assert tokens.access_token() == "from-another-run"
    assert len(reads) == 1
    # ... and when it invalidates it, the next call refreshes instead of using the old one.
    reads.clear()
    TokenProvider(
        AccountsClient(ACCOUNTS, "client-id", "client-secret", clock=clock), REFRESH, other
    ).invalidate("from-another-run")
    assert tokens.access_token() == "access-2"
