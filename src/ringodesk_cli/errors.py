"""Exit codes and the exception tree. Each exception knows its exit code and its hint.

Library code raises these; only ``main`` turns them into a message and an exit code.
Messages pass through :func:`ringodesk_cli.redact.redact`, so a secret can never leak
through an exception text.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from ringodesk_cli.redact import redact


class ExitCode(IntEnum):
    """Documented in the README; cron scripts rely on these numbers."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    UNAVAILABLE = 5
    PARTIAL = 6
    BUSY = 7


class RingodeskError(Exception):
    """Base of every expected error: a one-line message and an optional hint."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    default_hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint else self.default_hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UsageError(RingodeskError):
    exit_code = ExitCode.USAGE


class ConfigError(RingodeskError):
    """A settings file or value is invalid. ``location`` is ``file:line`` when known."""

    exit_code = ExitCode.CONFIG

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        prefix = ""
        if path:
            prefix = f"{path}:{line}: " if line else f"{path}: "
        if key:
            prefix += f"{key}: "
        super().__init__(prefix + message, hint=hint)


class InputError(RingodeskError):
    """Bad input data (an export row, a file): names file, line and field."""

    exit_code = ExitCode.CONFIG


class CredentialStoreError(RingodeskError):
    """No working place to keep secrets (no keyring, or it hung)."""

    exit_code = ExitCode.CONFIG
    default_hint = (
        "use --insecure-storage (a 0600 file in the state dir), or set "
        "RINGODESK_CLIENT_SECRET and RINGODESK_REFRESH_TOKEN in cron's environment"
    )


class Interrupted(RingodeskError):
    """The run was asked to stop (Ctrl-C, SIGTERM): this request was not sent. The sync
    catches it; the caller that asked decides the exit code."""


class AuthError(RingodeskError):
    """Authentication is missing or broken: the user must (re-)activate."""

    exit_code = ExitCode.AUTH
    default_hint = (
        "run `ringodesk activate` (a password change, a revoked token, or a 21st refresh "
        "token issued for the same client elsewhere all invalidate this one)"
    )


class BusyError(RingodeskError):
    exit_code = ExitCode.BUSY
    default_hint = "another ringodesk run holds the lock; this run did nothing"


class ZohoError(RingodeskError):
    """An error answer from Zoho (Accounts or Desk), carrying Zoho's own fields."""

    exit_code = ExitCode.UNEXPECTED

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        hint: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.errors = errors or []
        self.payload = payload or {}
        text = message
        if error_code and error_code not in message:
            text = f"{error_code}: {message}"
        if self.errors:
            details = "; ".join(
                f"{e.get('fieldName', '?')} {e.get('errorType', '')}".strip()
                + (f" ({e['errorMessage']})" if e.get("errorMessage") else "")
                for e in self.errors
            )
            text = f"{text} [{details}]"
        super().__init__(text, hint=hint)


class ZohoAuthError(ZohoError, AuthError):
    exit_code = ExitCode.AUTH
    default_hint = AuthError.default_hint


class ScopeError(ZohoAuthError):
    default_hint = "re-run `ringodesk activate` and accept every scope it asks for"


class OrgMismatchError(ZohoAuthError):
    default_hint = "the token belongs to another organization: re-run `ringodesk activate --org ID`"


class NotFoundError(ZohoError):
    pass


class InvalidDataError(ZohoError):
    pass


class LicenseLimitedError(ZohoError):
    exit_code = ExitCode.CONFIG
    default_hint = "your Zoho Desk edition's limit was reached (e.g. the number of custom fields)"


class ZohoUnavailableError(ZohoError):
    """Zoho could not be reached, or kept failing after retries; work stays pending."""

    exit_code = ExitCode.UNAVAILABLE
    default_hint = "nothing was lost: records stay pending; run `ringodesk sync --replay 3d` later"


class OutcomeUnknownError(ZohoUnavailableError):
    """A create (POST) was sent but no answer came back (read timeout, dropped connection,
    500/502/504): Zoho may or may not have created the record.

    We do not resend such a POST: Zoho's search lags behind writes
    (docs/zoho-readings.md), so a blind resend can create a second call activity or ticket that no
    reconciliation would find. The caller keeps the operation pending and reconciles it.
    """

    default_hint = "Zoho may have created the record; the next run checks before creating it again"


class RateLimitedError(ZohoUnavailableError):
    pass


class CreditsExhaustedError(RateLimitedError):
    default_hint = (
        "the organization's daily API credits are spent; records stay pending and "
        "`ringodesk sync --replay 3d` delivers them tomorrow"
    )


class StateError(RingodeskError):
    """The state folder or a file in it (the ledger) cannot be used: the message names the
    file and the cause, the hint the fix. Exit 3: the run did nothing it could not redo."""

    exit_code = ExitCode.CONFIG

    def __init__(self, path: str, cause: str, *, hint: str | None = None) -> None:
        self.path = path
        self.cause = cause
        super().__init__(f"{path}: {cause}", hint=hint)


class LedgerDamagedError(StateError):
    """The ledger is not a readable SQLite database (garbage, truncated, replaced by text)."""


class StateNotWritableError(StateError):
    """The state folder or the ledger cannot be written (permissions, a read-only mount)."""


class DiskFullError(StateError):
    """The disk holding the state folder is full, or reported an I/O error."""


# errno values an OSError carries for "this file may not be written" and "the disk is full".
_NOT_WRITABLE_ERRNOS = frozenset({1, 13, 30})  # EPERM, EACCES, EROFS
_FULL_ERRNOS = frozenset({28, 122})  # ENOSPC, EDQUOT


def from_os_error(exc: OSError) -> StateError | None:
    """A clear error for an OSError that says a file cannot be written or the disk is full
    (None for any other OSError): the message names the file, the hint the fix."""
    where = str(exc.filename) if exc.filename is not None else "a file"
    cause = exc.strerror or str(exc)
    if exc.errno in _NOT_WRITABLE_ERRNOS:
        return StateNotWritableError(
            where,
            cause,
            hint=(
                "make it (and its folder) readable and writable by the user that runs "
                "ringodesk (`ls -ld` shows the owner; chown or chmod u+rw fixes it), or point "
                "RINGODESK_HOME at a writable folder"
            ),
        )
    if exc.errno in _FULL_ERRNOS:
        return DiskFullError(
            where,
            cause,
            hint="free space on that disk, then run again: nothing that was sent is lost",
        )
    return None
