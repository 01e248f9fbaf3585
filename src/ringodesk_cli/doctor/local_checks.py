"""Checks that need no Zoho request: settings, credentials, inbox, ledger, last sync."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ringodesk_cli.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.ledger.store import Ledger
    from ringodesk_cli.session import Session
from ringodesk_cli.doctor.results import (
    RERUN_FIX,
    STALE_PENDING,
    CheckResult,
    _age,
    _listing,
    _parse_time,
    failed,
    passed,
)

# -- local checks -------------------------------------------------------------------------------

REQUIRED_SETTINGS = ("zoho.client_id", "zoho.org_id", "zoho.department_id")


def check_settings(session: Session) -> CheckResult:
    """The file parsed and validated when the session opened; here: env overrides, hosts, and
    the keys sync cannot run without (``policy_from_settings`` and ``Session.desk``)."""
    name = "settings"
    settings = session.settings
    if not settings.exists:
        return failed(
            name,
            f"profile {session.profile} has no settings file ({settings.path})",
            "run `ringodesk activate`",
            ExitCode.CONFIG,
        )
    settings.as_dict()  # reads every key through its checker, env variables included
    accounts_url, desk_url = session.urls()
    try:
        settings.require_all(REQUIRED_SETTINGS)
    except ConfigError as missing:
        return failed(name, missing.message, missing.hint, ExitCode.CONFIG)
    from ringodesk_cli.rules.templates import problems

    bad_texts = problems(settings)
    if bad_texts:
        fix = "fix the [templates] entries (placeholders: config.example.toml)"
        return failed(name, "; ".join(str(p) for p in bad_texts), fix, ExitCode.CONFIG)
    return passed(name, f"{settings.path} is valid; Zoho Desk {desk_url}, Accounts {accounts_url}")


def check_credentials(session: Session) -> CheckResult:
    name = "credentials"
    described = session.credentials.describe()
    sources = described.get("secrets")
    sources = sources if isinstance(sources, dict) else {}
    missing = [s for s in ("client_secret", "refresh_token") if not sources.get(s)]
    store = str(described.get("store"))
    if missing and described.get("problem"):
        return failed(
            name,
            f"{store}: {described['problem']}",
            "use `ringodesk activate --insecure-storage` (a 0600 file), or set "
            "RINGODESK_CLIENT_SECRET and RINGODESK_REFRESH_TOKEN in cron's environment",
            ExitCode.CONFIG,
        )
    if missing:
        return failed(
            name,
            f"{' and '.join(missing)} not found ({store}): this profile is not signed in",
            "run `ringodesk activate`",
            ExitCode.AUTH,
        )
    where = ", ".join(f"{s} from {sources[s]}" for s in ("client_secret", "refresh_token"))
    return passed(name, f"{store}: {where}")


def check_inbox(settings: Settings) -> CheckResult:
    from ringodesk_cli.sync.sources import EXPORT_SUFFIXES, FAILED_DIR, failed_inbox_files

    name = "inbox"
    kind = settings.get("source.kind")
    if kind != "inbox":
        return passed(name, f"not used (source.kind = {kind})", skipped=True)
    inbox = settings.get("source.inbox")
    if not inbox:
        return failed(
            name,
            "source.kind is inbox but source.inbox is not set",
            "ringodesk config set source.inbox /path/to/folder",
            ExitCode.CONFIG,
        )
    folder = Path(inbox).expanduser()
    if not folder.is_dir():
        return failed(
            name,
            f"{folder} does not exist or is not a folder",
            f"create {folder}, or point source.inbox at the folder Ringostat exports land in",
            ExitCode.CONFIG,
        )
    try:
        entries = [p for p in folder.iterdir() if p.suffix.lower() in EXPORT_SUFFIXES]
    except OSError as exc:
        return failed(
            name,
            f"{folder} cannot be listed ({exc.strerror})",
            f"give this user read and execute permission on {folder}",
            ExitCode.CONFIG,
        )
    unreadable = []
    for path in entries:
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except OSError:
            unreadable.append(path.name)
    if unreadable:
        return failed(
            name,
            f"{len(unreadable)} of {len(entries)} export files in {folder} cannot be read: "
            + _listing(unreadable),
            f"give this user read permission on the files in {folder}",
            ExitCode.CONFIG,
        )
    aside = failed_inbox_files(folder)
    if aside:
        return failed(
            name,
            f"{len(aside)} file(s) in {folder / FAILED_DIR} could not be read as exports: "
            + _listing([p.name for p in aside]),
            f"each one's reason is in {FAILED_DIR}/<name>.reason.txt: fix or re-export the "
            f"file, move it back into {folder} and delete the note",
            ExitCode.PARTIAL,
        )
    return passed(name, f"{folder}: {len(entries)} export files, all readable")


def open_ledger(state_dir: Path) -> Ledger | None:
    """The profile's ledger, read-only; None when no sync has created it yet."""
    from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger

    path = state_dir / LEDGER_FILE
    return Ledger(path, readonly=True) if path.exists() else None


def check_ledger(ledger: Ledger | None, now: datetime) -> CheckResult:
    import sqlite3

    from ringodesk_cli.ledger.store import CallState

    name = "ledger"
    if ledger is None:
        return passed(name, "no ledger yet: no sync has run in this profile")
    from ringodesk_cli.ledger.opening import damaged_hint

    keep = damaged_hint(ledger.path)
    try:
        if not ledger.integrity_ok():
            return failed(name, f"{ledger.path} failed SQLite's quick_check", keep, ExitCode.CONFIG)
        counts = ledger.counts()
        oldest = ledger.oldest(CallState.PENDING)
        quarantined = ledger.quarantine_count()
    except sqlite3.Error as exc:
        return failed(name, f"{ledger.path} cannot be read: {exc}", keep, ExitCode.CONFIG)
    pending, failures = counts.get(CallState.PENDING, 0), counts.get(CallState.FAILED, 0)
    text = (
        f"delivered {counts.get(CallState.DELIVERED, 0)}, pending {pending}, "
        f"failed {failures}, changed {counts.get(CallState.CHANGED, 0)}, "
        f"in progress {counts.get(CallState.WAITING, 0)}, "
        f"quarantined rows {quarantined}"
    )
    started = _parse_time(oldest) if oldest else None
    if started is not None:
        text += f"; oldest pending call {_age(now - started)} old ({oldest})"
    if started is not None and now - started > STALE_PENDING:
        days = (now - started).days + 2  # --replay counts today as the first day
        return failed(
            name,
            text,
            f"calls have been pending for over {_age(STALE_PENDING)}: fix any other failed "
            f"check, then run `ringodesk sync --replay {days}d` (a `--replay 3d` cron line "
            "no longer reaches calls older than that)",
            ExitCode.UNAVAILABLE,
        )
    if failures:
        return failed(
            name,
            text,
            "`ringodesk sync --replay 3d` retries failed calls and prints why each failed",
            ExitCode.PARTIAL,
        )
    return passed(name, text)


_LAST_SYNC_FIX: dict[int, str] = {
    ExitCode.CONFIG: "run `ringodesk sync` by hand to see the configuration error",
    ExitCode.AUTH: "run `ringodesk activate`; the calls stay pending until then",
    ExitCode.UNAVAILABLE: "nothing was lost: `ringodesk sync --replay 3d` delivers the pending "
    "calls once Zoho answers",
    ExitCode.PARTIAL: "`ringodesk quarantine list` shows the quarantined rows and `ringodesk "
    "sync --replay 3d` retries failed calls; a file that failed is named in sync's output",
}


def check_last_sync(ledger: Ledger | None, now: datetime) -> CheckResult:
    from ringodesk_cli.delivery.summary import LastSync

    name = "last-sync"
    try:
        last = LastSync.load(ledger) if ledger is not None else None
    except ValueError:
        return failed(name, "the last sync's record is unreadable", RERUN_FIX, ExitCode.UNEXPECTED)
    if last is None:
        return passed(name, "no sync has run yet")
    code = last.exit_code
    at = _parse_time(last.at)
    when = f"{_age(now - at)} ago ({last.at})" if at else "at an unknown time"
    counts = ", ".join(f"{key} {value}" for key, value in last.counts().items())
    text = f"{when}: exit {code}; {counts}"
    if code == 0:
        return passed(name, text)
    exit_code = ExitCode(code) if code in {int(c) for c in ExitCode} else ExitCode.UNEXPECTED
    return failed(name, text, _LAST_SYNC_FIX.get(code, RERUN_FIX), exit_code)


def check_quarantine(ledger: Ledger | None, now: datetime) -> CheckResult:
    """Warns while rows first seen in the last three days are in quarantine: a cron run
    reports a row once, so without this it would sit there unseen."""
    from ringodesk_cli.sync.quarantine import RECENT, recent

    name = "quarantine"
    if ledger is None:
        return passed(name, "no ledger yet: nothing quarantined")
    rows = ledger.quarantined_rows()
    fresh = recent(rows, now)
    text = f"{len(rows)} quarantined row(s), {len(fresh)} first seen in the last {RECENT.days} days"
    if fresh:
        shown = [f"{r.source}:{r.line}" for r in fresh]
        return failed(
            name,
            f"{text}: {_listing(shown)}",
            "`ringodesk quarantine list` shows each row's reason; fix the export and sync it "
            "again, then `ringodesk quarantine drop ID`",
            ExitCode.PARTIAL,
        )
    return passed(name, text)
