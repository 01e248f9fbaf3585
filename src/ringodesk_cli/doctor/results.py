"""The doctor's result type and the helpers every check shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ringodesk_cli.errors import ExitCode, RingodeskError

if TYPE_CHECKING:
    pass


# Exit code of the whole run: the most severe failure's, in this order. Auth first (nothing
# reaches Zoho without it and only the user can fix it), then configuration (also the user's
# to fix), then Zoho unavailable (may heal by itself), then failed calls, busy, a crashed check.
SEVERITY = (ExitCode.AUTH, ExitCode.CONFIG, ExitCode.UNAVAILABLE, ExitCode.PARTIAL)
# A call pending longer than this means deliveries are stuck, not just waiting for cron.
STALE_PENDING = timedelta(hours=24)
# Searches that match nothing: only whether Zoho lets the token search matters.
PROBE_NUMBER = "+10000000000"
PROBE_SUBJECT = "[rs:ringodesk-doctor]"
RERUN_FIX = "run `ringodesk doctor -v` for the traceback, and report it"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    exit_code: ExitCode = ExitCode.OK
    skipped: bool = False  # not checked: not applicable (ok) or blocked by an earlier failure

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": int(self.exit_code)}


def passed(name: str, detail: str, *, skipped: bool = False) -> CheckResult:
    return CheckResult(name, True, detail, skipped=skipped)


def failed(name: str, detail: str, fix: str | None, code: ExitCode) -> CheckResult:
    return CheckResult(name, False, detail, fix, code)


def from_error(name: str, exc: RingodeskError, fix: str | None = None) -> CheckResult:
    code = exc.exit_code if exc.exit_code != ExitCode.OK else ExitCode.UNEXPECTED
    return failed(name, exc.message, fix or exc.hint, code)


def blocked(name: str, by: CheckResult) -> CheckResult:
    """A check that cannot run because ``by`` failed; it carries ``by``'s exit code."""
    return CheckResult(
        name, False, f"not checked: {by.name} failed", f"fix {by.name} first", by.exit_code, True
    )


def overall_exit_code(results: Iterable[CheckResult]) -> ExitCode:
    codes = {r.exit_code for r in results if not r.ok}
    for code in SEVERITY:
        if code in codes:
            return code
    return ExitCode(max(codes)) if codes else ExitCode.OK


def _guard(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """One check's expected errors become its failure; a bug fails it without stopping the rest."""
    try:
        return check()
    except RingodeskError as exc:
        return from_error(name, exc)
    except Exception as exc:  # a doctor reports every other check too
        return failed(
            name, f"unexpected {type(exc).__name__}: {exc}", RERUN_FIX, ExitCode.UNEXPECTED
        )


def _listing(items: list[str], limit: int = 3) -> str:
    shown = "; ".join(items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
