"""`ringodesk doctor`: every check of a profile's setup, each with the fix for its failure.

Each check is a small function returning a :class:`CheckResult`; :func:`run_doctor`
runs them in order and lets a failure stand in for the checks that need what failed (a
profile without a token cannot list agents), so each problem is reported once, where it is.
Library code: nothing here prints.

Zoho requests are read-only and few (a dozen API credits): the organizations and
departments, both agent lists, the fields of tickets and contacts, and one search each for
contacts, tickets, calls and tasks -- the reads sync needs. The agents and fields read for
the scope check are reused by the later checks. The access token is refreshed only when the
cached one is near expiry: Zoho allows 10 token requests per 10 minutes and refuses more;
a revoked refresh token still shows, because Zoho revokes its access
tokens with it and the next Desk request fails with an auth error.
"""

from ringodesk_cli.doctor.local_checks import (
    REQUIRED_SETTINGS,
    check_credentials,
    check_inbox,
    check_last_sync,
    check_ledger,
    check_quarantine,
    check_settings,
    open_ledger,
)
from ringodesk_cli.doctor.results import (
    PROBE_NUMBER,
    PROBE_SUBJECT,
    RERUN_FIX,
    SEVERITY,
    STALE_PENDING,
    CheckResult,
    blocked,
    failed,
    from_error,
    overall_exit_code,
    passed,
)
from ringodesk_cli.doctor.run import CHECKS, run_doctor
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

__all__ = [
    "CHECKS",
    "PROBE_NUMBER",
    "PROBE_SUBJECT",
    "REQUIRED_SETTINGS",
    "RERUN_FIX",
    "SEVERITY",
    "STALE_PENDING",
    "CachedFields",
    "CheckResult",
    "ScopeReport",
    "blocked",
    "check_agents",
    "check_credentials",
    "check_fields",
    "check_inbox",
    "check_last_sync",
    "check_ledger",
    "check_manager",
    "check_mapping",
    "check_organization",
    "check_quarantine",
    "check_scopes",
    "check_settings",
    "check_token",
    "failed",
    "from_error",
    "open_ledger",
    "overall_exit_code",
    "passed",
    "run_doctor",
]
