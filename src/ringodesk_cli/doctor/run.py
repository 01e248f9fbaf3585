"""Runs every check in order; a failure stands in for the checks that need what failed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ringodesk_cli.errors import ExitCode, RingodeskError

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.session import Session
    from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.doctor.local_checks import (
    check_credentials,
    check_inbox,
    check_last_sync,
    check_ledger,
    check_quarantine,
    check_settings,
    open_ledger,
)
from ringodesk_cli.doctor.results import (
    RERUN_FIX,
    CheckResult,
    _guard,
    blocked,
    failed,
    from_error,
)
from ringodesk_cli.doctor.zoho_checks import (
    CachedFields,
    ScopeReport,
    check_agents,
    check_fields,
    check_manager,
    check_mapping,
    check_organization,
    check_scopes,
    check_token,
)

# -- the run ---------------------------------------------------------------------------------

# fmt: off
CHECKS: tuple[str, ...] = (
    "settings", "credentials", "token", "organization", "scopes", "fields", "senior-manager",
    "agents", "mappings", "inbox", "ledger", "quarantine", "last-sync", "recordings",
)
# fmt: on


def run_doctor(
    open_session: Callable[[], Session],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] | None = None,
    max_attempts: int = 2,
    sleep: Callable[[float], None] | None = None,
) -> list[CheckResult]:
    """Every check in :data:`CHECKS` order. ``max_attempts`` caps the Desk client's retries: a
    doctor should answer in seconds, not back off for a minute when Zoho is down."""
    import time

    try:
        session = open_session()
    except RingodeskError as exc:  # the settings file does not parse or validate
        first = from_error("settings", exc)
        return [first, *(blocked(name, first) for name in CHECKS[1:])]
    results: dict[str, CheckResult] = {}
    results["settings"] = _guard("settings", lambda: check_settings(session))
    results["credentials"] = _guard("credentials", lambda: check_credentials(session))
    _zoho_checks(session, results, clock or time.time, max_attempts, sleep)
    settings = session.settings
    results["inbox"] = _guard("inbox", lambda: check_inbox(settings))
    _ledger_checks(session.state_dir, results, now(), settings)
    return [results[name] for name in CHECKS]


def _first_failure(results: Mapping[str, CheckResult], names: Iterable[str]) -> CheckResult | None:
    return next((results[n] for n in names if n in results and not results[n].ok), None)


def _zoho_checks(
    session: Session,
    results: dict[str, CheckResult],
    clock: Callable[[], float],
    max_attempts: int,
    sleep: Callable[[float], None] | None,
) -> None:
    later = ("organization", "scopes", "fields", "senior-manager", "agents", "mappings")
    blocker = _first_failure(results, ("settings", "credentials"))
    if blocker is None:
        results["token"] = _guard("token", lambda: check_token(session, clock))
        blocker = results["token"] if not results["token"].ok else None
    else:
        results["token"] = blocked("token", blocker)
    desk: DeskClient | None = None
    if blocker is None:
        try:
            desk = session.desk()
        except RingodeskError as exc:
            blocker = results["organization"] = from_error("organization", exc)
    if desk is None or blocker is not None:
        assert blocker is not None
        for name in later:
            results.setdefault(name, blocked(name, blocker))
        return
    desk.retry.max_attempts = max_attempts
    if sleep is not None:
        desk.retry.sleep = sleep
    settings = session.settings
    results["organization"] = _guard("organization", lambda: check_organization(desk, settings))
    if not results["organization"].ok and results["organization"].exit_code != ExitCode.CONFIG:
        # Unreachable, or the token is not this organization's: every later read fails alike.
        for name in later[1:]:
            results[name] = blocked(name, results["organization"])
        return
    fields = CachedFields(desk)
    try:
        report = check_scopes(desk, fields)
    except Exception as exc:  # see _guard
        crashed = failed(
            "scopes", f"unexpected {type(exc).__name__}: {exc}", RERUN_FIX, ExitCode.UNEXPECTED
        )
        report = ScopeReport(crashed, None, crashed)
    results["scopes"] = report.result
    _agent_checks(settings, report, results)
    if report.fields_error is not None:
        results["fields"] = blocked("fields", report.result)
        results["mappings"] = blocked("mappings", report.result)
    else:
        results["fields"] = _guard("fields", lambda: check_fields(fields, settings))
        results["mappings"] = _guard(
            "mappings", lambda: check_mapping(settings, fields.by_module())
        )


def _agent_checks(settings: Settings, report: ScopeReport, results: dict[str, CheckResult]) -> None:
    agents = report.agents
    if agents is None:
        results["senior-manager"] = blocked("senior-manager", report.result)
        results["agents"] = blocked("agents", report.result)
        return
    results["senior-manager"] = _guard("senior-manager", lambda: check_manager(settings, agents))
    results["agents"] = _guard("agents", lambda: check_agents(settings, agents))


def _ledger_checks(
    state_dir: Path, results: dict[str, CheckResult], now: datetime, settings: Settings
) -> None:
    import sqlite3

    from ringodesk_cli.doctor.recordings_check import check_recordings

    try:
        ledger = open_ledger(state_dir)
    except (sqlite3.Error, RingodeskError) as exc:
        # A damaged or unwritable ledger: its StateError names the file and the fix.
        results["ledger"] = (
            from_error("ledger", exc)
            if isinstance(exc, RingodeskError)
            else failed("ledger", f"cannot open the ledger in {state_dir}: {exc}", RERUN_FIX,
                        ExitCode.CONFIG)
        )  # fmt: skip
        results["quarantine"] = blocked("quarantine", results["ledger"])
        results["last-sync"] = blocked("last-sync", results["ledger"])
        results["recordings"] = blocked("recordings", results["ledger"])
        return
    try:
        results["ledger"] = _guard("ledger", lambda: check_ledger(ledger, now))
        results["quarantine"] = _guard("quarantine", lambda: check_quarantine(ledger, now))
        results["last-sync"] = _guard("last-sync", lambda: check_last_sync(ledger, now))
        results["recordings"] = _guard("recordings", lambda: check_recordings(settings, ledger))
    finally:
        if ledger is not None:
            ledger.close()
