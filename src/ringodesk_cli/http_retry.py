"""The one retry policy of ringodesk's HTTP clients (Zoho Desk and Ringostat's calls/list).

Library code: never prints. The policy answers three questions and runs the loop:

* Which answers are worth another try: 429, any 5xx, and a failed connection
  (:func:`retryable_status`; the client turns a transport error into :class:`RetryableFailure`).
  Every other 4xx fails at once.
* Whether a request may be sent again (:func:`may_resend`). GET, PUT, DELETE and PATCH may:
  each reads, or sets fields to the values it carries, so a second copy changes nothing
  more. A POST creates a record, so it is resent only when the server certainly did not act
  on it: it answered 429 or 503 (it refused the request), or the connection was never made
  (:func:`never_sent`). Any other unanswered POST has an unknown outcome (a dropped answer, a
  read timeout, an answer cut short), which the client reports instead of retrying.
* How long to wait (:meth:`RetryPolicy.delay`): the server's ``Retry-After`` when it sent one
  (seconds or an HTTP date), else exponential backoff with full jitter, always capped.

Retries live in the clients, not in a urllib3 adapter: requests-mock replaces the adapter, so
adapter retries would never run under test. Sleep, random source and clock are injectable.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProxyError, SSLError
from urllib3.util.ssl_match_hostname import CertificateError

from ringodesk_cli.redact import redact

__all__ = [
    "RetryPolicy",
    "RetryableFailure",
    "may_resend",
    "never_sent",
    "new_adapter",
    "new_session",
    "retry_after_seconds",
    "retryable_status",
]

T = TypeVar("T")

# Methods whose second copy may do what the first did once more (create a second record).
UNSAFE_METHODS = frozenset({"POST"})
# Answers that say "not processed": a POST that got one of these may be sent again.
REFUSED_STATUSES = frozenset({429, 503})


class RetryableFailure(Exception):
    """One attempt failed in a way worth another try. ``error`` is what the caller gets if no
    try succeeds; ``retry_after`` is the server's wish in seconds, when it said one."""

    def __init__(self, error: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def new_adapter(pool_maxsize: int = 10) -> HTTPAdapter:
    """An adapter that never retries (the policy does; :func:`never_sent` relies on it), with
    room for ``pool_maxsize`` idle connections per host: as many as the threads sharing it,
    so none is opened only to be discarded."""
    return HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)


def new_session(pool_maxsize: int = 10) -> requests.Session:
    """A ``requests.Session`` over one :func:`new_adapter` for http and https."""
    session = requests.Session()
    adapter = new_adapter(pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def retryable_status(status: int) -> bool:
    """429 (slow down) and every 5xx: the same request may succeed later."""
    return status == 429 or status >= 500


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly never reached the server: the connection was never
    made (a connect timeout, refused, DNS, the proxy or its tunnel, a certificate refused).

    With ``max_retries=0`` (:func:`new_session`) urllib3 reraises a failure once the request
    was being written or answered (``ProtocolError``, a read timeout), which requests turns
    into ``ConnectionError``, ``ReadTimeout`` or, for an answer cut short (fewer bytes than
    its ``Content-Length``, a broken chunk), ``ChunkedEncodingError``: the outcome is open.
    Only a failure to connect reaches requests as urllib3's ``MaxRetryError``, whose reason
    says which: a connect error (``NewConnectionError`` and ``NameResolutionError`` are
    ``ConnectTimeoutError`` subclasses), a ``ProxyError`` (raised only before the proxy
    connection was made), or a TLS error; a TLS error may also come mid-answer, so only a
    refused certificate (checked in the handshake) counts.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    wrapped = exc.args[0] if exc.args else None
    if not isinstance(wrapped, MaxRetryError):
        return False
    reason = wrapped.reason
    if isinstance(reason, ConnectTimeoutError | ProxyError):
        return True
    if isinstance(reason, SSLError):
        cause = reason.args[0] if reason.args else None
        return isinstance(cause, ssl.SSLCertVerificationError | CertificateError)
    return False


def may_resend(method: str, *, status: int | None = None, exc: BaseException | None = None) -> bool:
    """Whether ``method`` may be sent again after it got ``status`` or failed with ``exc``."""
    if method.upper() not in UNSAFE_METHODS:
        return True
    if status is not None:
        return status in REFUSED_STATUSES
    return exc is not None and never_sent(exc)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (a Unix time): delta-seconds or an HTTP date
    (RFC 9110 section 10.2.3). ``None`` when absent or unreadable; negative for a past date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now


@dataclass
class RetryPolicy:
    """How often and how patiently one client retries. ``max_attempts`` counts every try,
    the first included. ``clock`` is Unix time, used to read an HTTP-date ``Retry-After``."""

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.max_attempts = max(1, self.max_attempts)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failed try (1 for the first)."""
        if retry_after is not None:
            return max(0.0, min(self.backoff_cap, retry_after))
        # Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads the
        # retries of parallel threads instead of having them return in step.
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (failures - 1))
        return max(0.0, self.rng() * ceiling)

    def retry_after(self, header: str | None) -> float | None:
        """A ``Retry-After`` header value as seconds from now."""
        return retry_after_seconds(header, self.clock())

    def run(
        self,
        attempt: Callable[[], T],
        *,
        label: str,
        logger: logging.Logger,
        give_up: Callable[[RetryableFailure], bool] | None = None,
        on_retry: Callable[[RetryableFailure], None] | None = None,
    ) -> T:
        """``attempt()`` until it returns, raises anything but :class:`RetryableFailure`, or
        fails ``max_attempts`` times (or ``give_up`` says so): then its ``error`` is raised."""
        failures = 0
        while True:
            try:
                return attempt()
            except RetryableFailure as failure:
                failures += 1
                if failures >= self.max_attempts or (give_up is not None and give_up(failure)):
                    raise failure.error from None
                delay = self.delay(failures, failure.retry_after)
                if on_retry is not None:
                    on_retry(failure)
                logger.debug(
                    "%s: %s; retry %d in %.2fs", label, redact(failure.error), failures, delay
                )
                self.sleep(delay)
