"""The access-token cache and the provider the Desk client asks for a token.

Token requests are throttled: Zoho allows 10 token requests per 10 minutes per refresh
token and answers the 11th with HTTP 200 "Access Denied" (ACC token-limits.html). So
the access token is cached in the profile's state dir (0600) across runs -- a cron run every
minute reuses it until shortly before expiry -- two processes never refresh at once (an
exclusive file lock, and the cache is re-read after taking it), and the cache keeps the
times of our own token requests so that an 11th in 10 minutes is refused here, before
anything is sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ringodesk_cli.config.settings import write_atomic
from ringodesk_cli.errors import BusyError, RateLimitedError, ZohoAuthError
from ringodesk_cli.redact import register_secret
from ringodesk_cli.zoho.accounts import AccountsClient

CACHE_FILE_NAME = "zoho-token.json"
# ACC token-limits.html: at most 10 token requests in 10 minutes.
TOKEN_REQUEST_LIMIT = 10
TOKEN_REQUEST_WINDOW = 600.0
# A token this close to expiry is still handed out when refreshing is impossible (local limit
# or Zoho's throttle): a request that starts now finishes well inside it.
_LAST_RESORT_MARGIN = 30.0
# Waiting longer than this for another process's refresh means it hung: report busy.
_LOCK_WAIT = 90.0


@dataclass(frozen=True)
class CacheState:
    """The cache file's content. ``owner`` is a short hash of the refresh token the access
    token was made from, so a re-activated profile never reuses another token's output."""

    access_token: str | None = None
    expires_at: float = 0.0
    accounts_url: str | None = None
    owner: str | None = None
    token_requests: tuple[float, ...] = ()
    # Fingerprint of a refresh token Zoho refused (revoked, password changed): asking again
    # only burns the 10-per-10-minutes allowance, so every later run fails at once with the
    # re-activate hint until `activate` stores a new refresh token.
    refused: str | None = None


def fingerprint(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()[:16]


class TokenCache:
    """A JSON file in the profile state dir, mode 0600, plus a sibling lock file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        # The last state read and the file identity it was read from (see ``current``).
        self._memo: tuple[tuple[int, int, int, int], CacheState] | None = None
        self._memo_lock = threading.Lock()

    def current(self) -> CacheState:
        """The cached state, re-read only when the file changed since the last read.

        Every write replaces the file (a new inode), so another process's refresh or
        invalidation is seen at the next call; one ``stat`` instead of a read and a JSON
        parse per Desk request."""
        try:
            st = os.stat(self.path)
        except OSError:
            return self.read()
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._memo_lock:
            memo = self._memo
        if memo is not None and memo[0] == stamp:
            return memo[1]
        # Stamped before reading: a change between the stat and the read is re-read next time.
        state = self.read()
        with self._memo_lock:
            self._memo = (stamp, state)
        return state

    def read(self) -> CacheState:
        """The cached state; a missing or damaged file reads as empty (a corrupt cache must
        not stop cron -- the worst case is one extra token request)."""
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return CacheState()
        if not isinstance(raw, dict):
            return CacheState()
        token = raw.get("access_token")
        if isinstance(token, str) and token:
            register_secret(token)
        else:
            token = None
        listed = raw.get("token_requests")
        stamps = tuple(
            float(t)
            for t in (listed if isinstance(listed, list) else [])
            if isinstance(t, int | float) and not isinstance(t, bool)
        )
        expires = raw.get("expires_at")
        return CacheState(
            access_token=token,
            expires_at=float(expires) if isinstance(expires, int | float) else 0.0,
            accounts_url=_str_or_none(raw.get("accounts_url")),
            owner=_str_or_none(raw.get("owner")),
            token_requests=stamps,
            refused=_str_or_none(raw.get("refused")),
        )

    def write(self, state: CacheState) -> None:
        data = {
            "access_token": state.access_token,
            "expires_at": state.expires_at,
            "accounts_url": state.accounts_url,
            "owner": state.owner,
            "refused": state.refused,
            "token_requests": list(state.token_requests),
        }
        write_atomic(self.path, json.dumps(data, indent=2) + "\n", mode=0o600)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @contextlib.contextmanager
    def lock(self, wait: float = _LOCK_WAIT) -> Iterator[None]:
        """An exclusive lock across processes (POSIX ``flock``; ``msvcrt`` on Windows)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _acquire(fd, wait, self.lock_path)
            try:
                yield
            finally:
                _release(fd)
        finally:
            os.close(fd)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


if sys.platform == "win32":  # pragma: no cover - the CI runs on Linux
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _release(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _acquire(fd: int, wait: float, path: Path) -> None:
    deadline = time.monotonic() + wait
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise BusyError(f"another ringodesk process has held {path} for {wait:.0f} s")
        time.sleep(0.05)


class TokenProvider:
    """Hands the Desk client a valid access token, refreshing as rarely as possible."""

    def __init__(
        self,
        accounts: AccountsClient,
        refresh_token: str,
        cache: TokenCache,
        *,
        clock: Callable[[], float] = time.time,
        skew: float = 300.0,
        request_limit: int = TOKEN_REQUEST_LIMIT,
        request_window: float = TOKEN_REQUEST_WINDOW,
    ) -> None:
        register_secret(refresh_token)
        self._accounts = accounts
        self._refresh_token = refresh_token
        self._owner = fingerprint(refresh_token)
        self._cache = cache
        self._clock = clock
        self._skew = skew
        self._limit = request_limit
        self._window = request_window
        # Threads of one process share the provider; the file lock covers other processes.
        self._thread_lock = threading.Lock()

    def access_token(self) -> str:
        """The cached token unless it is within ``skew`` of expiry; else a refreshed one."""
        state = self._cache.current()
        if self._fresh(state) and state.access_token:
            return state.access_token
        self._check_refused(state)
        with self._thread_lock, self._cache.lock():
            # Another process (or thread) may have refreshed while we waited for the lock.
            state = self._cache.read()
            if self._fresh(state) and state.access_token:
                return state.access_token
            self._check_refused(state)
            return self._refresh(state)

    def _check_refused(self, state: CacheState) -> None:
        if state.refused is not None and state.refused == self._owner:
            raise ZohoAuthError(
                "Zoho refused this profile's refresh token earlier (revoked, or the password "
                "changed); no token request was sent",
                error_code="invalid_code",
            )

    def invalidate(self, token: str) -> None:
        """Zoho rejected ``token`` (INVALID_OAUTH / 401): the next call refreshes. Only the
        token that failed is dropped, so several threads reporting the same failure cause
        one refresh, not one each."""
        with self._thread_lock, self._cache.lock():
            state = self._cache.read()
            if state.access_token == token:
                self._cache.write(replace(state, access_token=None, expires_at=0.0))

    def clear(self) -> None:
        with self._thread_lock, self._cache.lock():
            self._cache.clear()

    # -----------------------------------------------------------------------------------
    def _ours(self, state: CacheState) -> bool:
        return (
            state.access_token is not None
            and state.owner == self._owner
            and state.accounts_url == self._accounts.accounts_url
        )

    def _fresh(self, state: CacheState) -> bool:
        return self._ours(state) and state.expires_at - self._skew > self._clock()

    def _alive(self, state: CacheState) -> bool:
        return self._ours(state) and state.expires_at - _LAST_RESORT_MARGIN > self._clock()

    def _refresh(self, state: CacheState) -> str:
        now = self._clock()
        recent = sorted(t for t in state.token_requests if now - self._window < t <= now)
        if len(recent) >= self._limit:
            if self._alive(state) and state.access_token:
                return state.access_token
            wait = math.ceil(recent[-self._limit] + self._window - now)
            raise RateLimitedError(
                f"ringodesk already made {len(recent)} token requests in the last "
                f"{self._window / 60:.0f} minutes; this one was not sent",
                hint=f"Zoho allows {self._limit} per {self._window / 60:.0f} minutes per "
                f"refresh token and blocks the client when exceeded; try again in {wait} s",
            )
        recent.append(now)
        # Counted before sending: Zoho counts the request whether or not it succeeds.
        self._cache.write(replace(state, token_requests=tuple(recent)))
        try:
            tokens = self._accounts.refresh(self._refresh_token)
        except ZohoAuthError as exc:
            if exc.error_code == "invalid_code":  # the refresh token itself is dead
                self._cache.write(replace(state, token_requests=tuple(recent), refused=self._owner))
            raise
        except RateLimitedError:
            if self._alive(state) and state.access_token:
                return state.access_token
            raise
        self._cache.write(
            CacheState(
                access_token=tokens.access_token,
                expires_at=tokens.expires_at,
                accounts_url=self._accounts.accounts_url,
                owner=self._owner,
                token_requests=tuple(recent),
            )
        )
        return tokens.access_token
