"""The HTTP retry policy on its own: delays, Retry-After, which requests may be resent, the loop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests

from ringodesk_cli.http_retry import (
    RetryableFailure,
    RetryPolicy,
    may_resend,
    never_sent,
    retry_after_seconds,
    retryable_status,
)

log = logging.getLogger("ringodesk.test")
NOW = 1_715_677_200.0  # Tue, 14 May 2024 09:00:00 GMT


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(sleeps: Sleeps, rng: float = 1.0, **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, rng=lambda: rng, clock=lambda: NOW, **kwargs)


def failing(outcomes: list[Any]) -> Callable[[], Any]:
    """An attempt that raises or returns the next outcome each time it is called."""
    calls = iter(outcomes)

    def attempt() -> Any:
        outcome = next(calls)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt


# ------------------------------------------------------------------------ delays


def test_backoff_doubles_from_the_base_up_to_the_cap_with_rng_at_its_top() -> None:
    p = policy(Sleeps(), backoff_base=0.5, backoff_cap=3.0)
    assert [p.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_scales_the_ceiling_by_the_random_draw() -> None:
    draws = iter([0.0, 0.25, 0.5])
    p = RetryPolicy(backoff_base=1.0, backoff_cap=60.0, rng=lambda: next(draws))
    assert [p.delay(3), p.delay(3), p.delay(3)] == [0.0, 1.0, 2.0]


def test_retry_after_replaces_the_backoff_but_is_capped_and_never_negative() -> None:
    p = policy(Sleeps(), rng=0.0, backoff_cap=30.0)
    assert p.delay(1, retry_after=7.0) == 7.0
    assert p.delay(1, retry_after=3600.0) == 30.0
    assert p.delay(1, retry_after=-5.0) == 0.0


# ------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("Tue, 14 May 2024 09:00:12 GMT", 12.0),
        ("Tue, 14 May 2024 08:59:50 GMT", -10.0),
        (None, None),
        ("", None),
        ("soon", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def test_the_policy_reads_an_http_date_against_its_injected_clock() -> None:
    p = RetryPolicy(clock=lambda: NOW + 2)
    assert p.retry_after("Tue, 14 May 2024 09:00:12 GMT") == 10.0


# ---------------------------------------------------------------- what is resent


@pytest.mark.parametrize(
    ("status", "worth"),
    [(429, True), (500, True), (503, True), (400, False), (404, False), (422, False)],
)
def test_only_429_and_5xx_are_worth_another_try(status: int, worth: bool) -> None:
    assert retryable_status(status) is worth


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "get"])
def test_methods_that_repeat_safely_may_always_be_resent(method: str) -> None:
    assert may_resend(method, status=500)
    assert may_resend(method, exc=requests.ReadTimeout("no answer"))


def test_a_post_is_resent_only_when_the_server_certainly_did_not_act() -> None:
    assert may_resend("POST", status=429)
    assert may_resend("POST", status=503)
    assert not may_resend("POST", status=500)
    assert not may_resend("POST", status=502)
    assert not may_resend("POST", exc=requests.ReadTimeout("sent, no answer"))
    assert may_resend("POST", exc=requests.ConnectTimeout("never connected"))
    assert not may_resend("POST")


def test_a_read_timeout_is_not_never_sent_but_a_connect_timeout_is() -> None:
    assert never_sent(requests.ConnectTimeout("x"))
    assert not never_sent(requests.ReadTimeout("x"))
    assert not never_sent(requests.ConnectionError("dropped mid-answer"))


# ---------------------------------------------------------------------- the loop


def test_run_retries_until_success_sleeping_the_backoff_between_tries() -> None:
    sleeps = Sleeps()
    attempt = failing(
        [RetryableFailure(ValueError("a")), RetryableFailure(ValueError("b"), 4.0), "done"]
    )
    assert policy(sleeps, backoff_base=1.0).run(attempt, label="GET /x", logger=log) == "done"
    assert sleeps == [1.0, 4.0]  # backoff for the first, Retry-After for the second


def test_run_gives_up_after_max_attempts_with_the_last_error() -> None:
    sleeps = Sleeps()
    errors = [ValueError(f"try {n}") for n in range(1, 4)]
    attempt = failing([RetryableFailure(e) for e in errors])
    with pytest.raises(ValueError, match="try 3"):
        policy(sleeps, max_attempts=3).run(attempt, label="GET /x", logger=log)
    assert len(sleeps) == 2  # no sleep after the last try


def test_other_exceptions_pass_through_at_once() -> None:
    sleeps = Sleeps()
    attempt = failing([RetryableFailure(ValueError("a")), KeyError("fatal")])
    with pytest.raises(KeyError):
        policy(sleeps).run(attempt, label="GET /x", logger=log)
    assert len(sleeps) == 1


def test_give_up_stops_early_and_on_retry_sees_each_retry() -> None:
    sleeps = Sleeps()
    seen: list[str] = []
    attempt = failing([RetryableFailure(ValueError(name)) for name in ("a", "b", "stop", "c")])
    with pytest.raises(ValueError, match="stop"):
        policy(sleeps, max_attempts=10).run(
            attempt,
            label="GET /x",
            logger=log,
            give_up=lambda f: str(f.error) == "stop",
            on_retry=lambda f: seen.append(str(f.error)),
        )
    assert seen == ["a", "b"]
    assert len(sleeps) == 2


def test_max_attempts_is_at_least_one() -> None:
    assert RetryPolicy(max_attempts=0).max_attempts == 1
    attempt = failing([RetryableFailure(ValueError("once"))])
    with pytest.raises(ValueError, match="once"):
        RetryPolicy(max_attempts=0, sleep=Sleeps()).run(attempt, label="x", logger=log)


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    from ringodesk_cli.redact import register_secret

    register_secret("tok-SECRET-123456")
    caplog.set_level(logging.DEBUG, logger="ringodesk.test")
    attempt = failing([RetryableFailure(ValueError("refused tok-SECRET-123456")), "ok"])
    policy(Sleeps()).run(attempt, label="GET /x", logger=log)
    assert "GET /x" in caplog.text and "retry 1" in caplog.text
    assert "tok-SECRET-123456" not in caplog.text


def test_new_sessions_never_retry_in_the_adapter() -> None:
    from ringodesk_cli.http_retry import new_session

    session = new_session(pool_maxsize=64)
    for prefix in ("https://", "http://"):
        adapter = session.get_adapter(prefix + "desk.zoho.eu/api/v1/x")
        assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
        assert adapter._pool_maxsize == 64  # type: ignore[attr-defined]
