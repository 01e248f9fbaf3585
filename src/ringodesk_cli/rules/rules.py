"""What each kind of call deserves, from the profile's ``[rules]`` and ``[rules.<call type>]``.

``[rules]`` sets the rules for every call; ``[rules.in]``, ``[rules.out]`` and
``[rules.callback]`` override any of them for that Ringostat call type. The settings file
checks every key (``file:line: key: reason``); this module only combines them and decides,
without I/O:

- ``min_talk_seconds``: an answered call shorter than this gets a call activity only;
- ``skip_voicemail``: a call that ended in voicemail gets a call activity only;
- ``missed_task_for``: which missed calls get a call-back task: ``"inbound"`` (calls to us),
  ``"inbound+callback"`` (and callbacks nobody completed), ``"all"`` (and outbound calls the
  client did not answer);
- ``ticket_for_missed``: whether a missed call opens a ticket (it still joins an open one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ringodesk_cli.config.keys import RULE_CALL_TYPES
from ringodesk_cli.ringostat.records import CallRecord, Direction, Outcome

VOICEMAIL = "VOICEMAIL"


@dataclass(frozen=True)
class CallRules:
    min_talk_seconds: int = 0
    skip_voicemail: bool = False
    missed_task_for: str = "inbound+callback"
    ticket_for_missed: bool = True

    def activity_only(self, record: CallRecord) -> bool:
        """The call gets its call activity and nothing else (no ticket, no task)."""
        if self.skip_voicemail and record.disposition.upper() == VOICEMAIL:
            return True
        return record.outcome is Outcome.ANSWERED and record.talk_seconds < self.min_talk_seconds

    def missed_task(self, record: CallRecord) -> bool:
        """A missed call that gets a call-back task under ``missed_task_for``."""
        if record.outcome is not Outcome.MISSED or self.activity_only(record):
            return False
        if record.direction is Direction.OUTBOUND:
            return self.missed_task_for == "all"
        if record.call_type == "callback":
            return self.missed_task_for in ("inbound+callback", "all")
        return True

    def may_open_ticket(self, record: CallRecord) -> bool:
        """The rules allow this call to open a ticket (the ticket policy decides the rest)."""
        if self.activity_only(record):
            return False
        return self.ticket_for_missed or record.outcome is not Outcome.MISSED


@dataclass(frozen=True)
class Rules:
    """The ``[rules]`` for every call and the overrides per Ringostat call type."""

    base: CallRules = field(default_factory=CallRules)
    by_type: Mapping[str, CallRules] = field(default_factory=dict)

    def for_call(self, record: CallRecord) -> CallRules:
        return self.by_type.get(record.call_type, self.base)


def rules_from_settings(settings: Any) -> Rules:
    names = [f.name for f in fields(CallRules)]
    base = CallRules(**{n: settings.get(f"rules.{n}") for n in names})
    by_type: dict[str, CallRules] = {}
    for call_type in RULE_CALL_TYPES:
        values = {n: settings.get(f"rules.{call_type}.{n}") for n in names}
        overrides = {n: v for n, v in values.items() if v is not None}
        if overrides:
            by_type[call_type] = CallRules(**{**{n: getattr(base, n) for n in names}, **overrides})
    return Rules(base=base, by_type=by_type)
