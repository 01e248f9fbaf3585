"""`doctor`'s line on recordings (``recordings.attach``): how many calls' recordings are
attached, still looked for, skipped, given up or unconfirmed, from the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringodesk_cli.doctor.results import CheckResult, passed
from ringodesk_cli.errors import ExitCode

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.ledger.store import Ledger

NAME = "recordings"


def check_recordings(settings: Settings, ledger: Ledger | None) -> CheckResult:
    """Passes while recordings are off or every one is settled or still looked for; warns
    (exit 6, partial) when some were given up or could not be confirmed."""
    from ringodesk_cli.ledger.recording_states import STATES, RecordingStates

    if not settings.get("recordings.attach"):
        return passed(NAME, "not attached (recordings.attach = false): links only", skipped=True)
    if ledger is None:
        return passed(NAME, "attached from the next sync on (no ledger yet)")
    counts = RecordingStates(ledger).counts()
    text = ", ".join(f"{state} {counts.get(state, 0)}" for state in STATES)
    lost = counts.get("given-up", 0) + counts.get("unconfirmed", 0)
    if lost:
        return CheckResult(
            NAME,
            False,
            text,
            "given up: the recording was not there within recordings.retry_days (its link is "
            "in the call's description); unconfirmed: check those calls in Zoho Desk",
            ExitCode.PARTIAL,
        )
    return passed(NAME, text)
