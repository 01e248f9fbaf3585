"""One Ringostat call as ringodesk sees it: ``CallRecord``, built from one call-log row.

Field names are those of Ringostat's calls/list API; the rules that turn them into a
direction and an outcome are the project's (in, callback, transitin are inbound).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ringodesk_cli.ringostat.call_times import parse_seconds, seconds_problem, too_far_ahead
from ringodesk_cli.ringostat.columns import CALL_TYPE_VALUES, DISPOSITION_VALUES, normalise_label
from ringodesk_cli.ringostat.phones import split_sip, to_e164


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"
    IN_PROGRESS = "in_progress"


# in, callback, transitin -> inbound; out, transitout -> outbound.
CALL_TYPES: dict[str, Direction] = {
    "in": Direction.INBOUND,
    "callback": Direction.INBOUND,
    "transitin": Direction.INBOUND,
    "out": Direction.OUTBOUND,
    "transitout": Direction.OUTBOUND,
}

# Ringostat's call statuses: REPEATED is a repeated *answered* call by the official
# definition, although one third-party script counts it as missed.
ANSWERED_DISPOSITIONS = frozenset({"ANSWERED", "PROPER", "REPEATED"})
MISSED_DISPOSITIONS = frozenset(
    {
        "NO ANSWER",
        "BUSY",
        "FAILED",
        "VOICEMAIL",
        "NO-FORWARD",
        "WRONG EXTENSION",
        "NO EXTENSION",
        "CLIENT NO ANSWER",
        "FAILED FORBIDDEN DESTINATION",
        "DECLINE",
    }
)
# Transient: the call was still going when exported (Ringostat-OkayCMS re-polls these).
IN_PROGRESS_DISPOSITIONS = frozenset({"IN PROGRESS", "CALLING"})
_KNOWN_DISPOSITIONS = ANSWERED_DISPOSITIONS | MISSED_DISPOSITIONS | IN_PROGRESS_DISPOSITIONS

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# Fields that become typed attributes; every other non-empty field goes to `extra`.
# Employee fields stay in `extra` too: `Employee` is a derived view, and mappings may want
# the raw staff id or label.
_TYPED_FIELDS = frozenset(
    {
        "uniqueid", "calldate", "call_type", "disposition", "billsec", "duration",
        "caller", "dst", "recording", "call_card", "client_id", *UTM_FIELDS,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Employee:
    """Who handled the call, as Ringostat names them; any of the three may be missing."""

    name: str | None = None
    number: str | None = None
    sip: str | None = None

    def keys(self) -> tuple[str, ...]:
        """Identifiers to look up in the profile's ``[employees]``, most specific first."""
        return tuple(k for k in (self.sip, self.number, self.name) if k)


@dataclass(frozen=True)
class CallRecord:
    ringostat_id: str
    started_at: datetime
    call_type: str
    direction: Direction
    disposition: str
    outcome: Outcome
    talk_seconds: int
    total_seconds: int
    client_number: str
    our_number: str | None
    employee: Employee | None
    recording_url: str | None
    call_card_url: str | None
    utm: Mapping[str, str] = field(default_factory=dict)
    google_client_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    source: str = "api"
    line: int = 0

    def __hash__(self) -> int:
        # The mappings are not hashable; id and position identify a row well enough.
        return hash((self.ringostat_id, self.source, self.line))

    @property
    def missed(self) -> bool:
        """An inbound (or callback) call nobody answered: the senior manager's task (R4b)."""
        return self.direction is Direction.INBOUND and self.outcome is Outcome.MISSED

    def value(self, name: str) -> str | None:
        """The value of Ringostat parameter ``name`` (an API field name), for mappings."""
        inbound = self.direction is Direction.INBOUND
        typed: dict[str, str | None] = {
            "uniqueid": self.ringostat_id,
            "calldate": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "call_type": self.call_type,
            "disposition": self.disposition,
            "billsec": str(self.talk_seconds),
            "duration": str(self.total_seconds),
            "caller": self.client_number if inbound else self.our_number,
            "dst": self.our_number if inbound else self.client_number,
            "recording": self.recording_url,
            "call_card": self.call_card_url,
            "client_id": self.google_client_id,
            **{k: self.utm.get(k) for k in UTM_FIELDS},
        }
        if name in typed:
            return typed[name] or None
        return self.extra.get(name) or None

    def content_hash(self) -> str:
        """A digest of everything Ringostat said about the call (not where we read it).

        Stable across runs and files, so that a call seen again with changed content (it was
        IN PROGRESS, or Ringostat added a recording) is recognised and updated.
        """
        content = {
            "id": self.ringostat_id,
            "started_at": self.started_at.isoformat(),
            "call_type": self.call_type,
            "disposition": self.disposition,
            "talk": self.talk_seconds,
            "total": self.total_seconds,
            "client": self.client_number,
            "ours": self.our_number,
            "employee": [self.employee.name, self.employee.number, self.employee.sip]
            if self.employee
            else None,
            "recording": self.recording_url,
            "card": self.call_card_url,
            "utm": dict(sorted(self.utm.items())),
            "gcid": self.google_client_id,
            "extra": dict(sorted(self.extra.items())),
        }
        text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BadRow:
    """A row that cannot become a call: reported, quarantined in the ledger, run goes on."""

    source: str
    line: int
    ringostat_id: str | None
    field: str | None
    reason: str
    item: int | None = None  # a JSON array item's index, from 0 (``jq '.[7]'``)

    def __str__(self) -> str:
        if self.item is None:
            where = f"{self.source}:{self.line}: "
        else:
            named = f"id {self.ringostat_id}, " if self.ringostat_id else ""
            where = f"{self.source}: item {self.item} ({named}line {self.line}): "
        return where + (f"{self.field}: {self.reason}" if self.field else self.reason)


class RowError(ValueError):
    """Why one row cannot be read; the reader turns it into a ``BadRow``."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


def record_from_fields(
    fields: Mapping[str, str],
    *,
    source: str,
    line: int,
    timezone: ZoneInfo,
    default_region: str,
    now: datetime | None = None,
) -> CallRecord:
    """Build a ``CallRecord`` from one row keyed by API field names; raise ``RowError``.
    ``now`` (default: the system clock) refuses calls dated more than a day after it."""
    values = {k: _text(v) for k, v in fields.items()}
    ringostat_id = values.get("uniqueid", "")
    if not ringostat_id:
        raise RowError("uniqueid", "the call has no Ringostat id")
    call_type = _call_type(values.get("call_type", ""))
    direction = CALL_TYPES[call_type]
    disposition, outcome = _disposition(values.get("disposition", ""))
    inbound = direction is Direction.INBOUND
    client_field, our_field = ("caller", "dst") if inbound else ("dst", "caller")
    client_raw = values.get(client_field, "")
    try:
        client_number = to_e164(client_raw, default_region)
    except ValueError as exc:
        reason = "the client number is empty" if not client_raw else str(exc)
        raise RowError(client_field, reason) from None
    our_number, sip_name, sip_login = _our_number(values.get(our_field, ""), default_region)
    utm = {k: values[k] for k in UTM_FIELDS if values.get(k)}
    started_at = parse_calldate(values.get("calldate", ""), timezone)
    if too_far_ahead(started_at, now or datetime.now(UTC)):
        raise RowError(
            "calldate", f"{values['calldate']!r} is more than a day ahead of now: not a call yet"
        )
    return CallRecord(
        ringostat_id=ringostat_id,
        started_at=started_at,
        call_type=call_type,
        direction=direction,
        disposition=disposition,
        outcome=outcome,
        talk_seconds=_seconds(values, "billsec"),
        total_seconds=_seconds(values, "duration"),
        client_number=client_number,
        our_number=our_number,
        employee=_employee(values, direction, sip_name, sip_login, default_region),
        recording_url=values.get("recording") or values.get("recording_wav") or None,
        call_card_url=values.get("call_card") or None,
        utm=MappingProxyType(utm),
        google_client_id=values.get("client_id") or None,
        extra=MappingProxyType({k: v for k, v in values.items() if v and k not in _TYPED_FIELDS}),
        source=source,
        line=line,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _call_type(raw: str) -> str:
    value = raw.lower()
    if value in CALL_TYPES:
        return value
    value = CALL_TYPE_VALUES.get(normalise_label(raw), value)
    if value not in CALL_TYPES:
        if not raw:
            raise RowError("call_type", "the call has no type (in, out, callback...)")
        known = ", ".join(CALL_TYPES)
        raise RowError("call_type", f"{raw!r} is not a Ringostat call type ({known})")
    return value


def normalise_disposition(raw: str) -> str:
    """Ringostat's docs show codes encoded differently (``NO+ANSWER``, ``NO_ANSWER``):
    upper case, ``+``/``_`` as spaces (as the fetch_ringostat.py script does)."""
    if raw in _KNOWN_DISPOSITIONS:
        return raw
    localised = DISPOSITION_VALUES.get(normalise_label(raw))
    if localised:
        return localised
    value = re.sub(r"[+_\s]+", " ", raw.upper()).strip()
    return "NO-FORWARD" if value == "NO FORWARD" else value


def _disposition(raw: str) -> tuple[str, Outcome]:
    value = normalise_disposition(raw)
    if value in ANSWERED_DISPOSITIONS:
        return value, Outcome.ANSWERED
    if value in MISSED_DISPOSITIONS:
        return value, Outcome.MISSED
    if value in IN_PROGRESS_DISPOSITIONS:
        return value, Outcome.IN_PROGRESS
    if not value:
        raise RowError("disposition", "the call has no status")
    raise RowError(
        "disposition",
        f"{raw!r} is not a Ringostat call status we know (answered: "
        f"{', '.join(sorted(ANSWERED_DISPOSITIONS))}; missed: "
        f"{', '.join(sorted(MISSED_DISPOSITIONS))}; IN PROGRESS, CALLING)",
    )


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
# RU/UA web exports may show dates the local way, day first.
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_calldate(raw: str, timezone: ZoneInfo) -> datetime:
    """Read ``calldate`` (no offset) in ``timezone`` and return it in UTC.

    Ringostat does not document the zone of ``calldate``, hence the
    ``ringostat.timezone`` setting. In the hour a DST change repeats, the first occurrence is
    taken (fold=0); a time skipped by DST is read with the offset before it.
    """
    text = raw.strip()
    match = _ISO_DATE.match(text)
    if match:
        year, month, day, hour, minute, second = match.groups()
    else:
        match = _DOTTED_DATE.match(text)
        if not match:
            raise RowError("calldate", _bad_date(raw))
        day, month, year, hour, minute, second = match.groups()
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
            tzinfo=timezone, fold=0,
        )  # fmt: skip
    except ValueError:
        raise RowError("calldate", _bad_date(raw)) from None
    return local.astimezone(UTC)


def _bad_date(raw: str) -> str:
    if not raw.strip():
        return "the call has no date"
    return f"{raw!r} is not a date like 2024-05-01 10:00:00 (or 01.05.2024 10:00:00)"


def _seconds(values: Mapping[str, str], name: str) -> int:
    """``billsec``/``duration`` in seconds (see ``call_times``); empty is 0."""
    raw = values.get(name, "")
    total = parse_seconds(raw)
    if total is None:
        raise RowError(name, seconds_problem(raw))
    return total


def _our_number(raw: str, default_region: str) -> tuple[str | None, str | None, str | None]:
    """(our number or SIP login, SIP display name, SIP login) from ``dst``/``caller``."""
    if not raw:
        return None, None, None
    sip = split_sip(raw)
    if sip is not None:
        return sip[1], sip[0], sip[1]
    try:
        return to_e164(raw, default_region), None, None
    except ValueError:
        # An internal extension (`101`) or something Ringostat knows and we do not: keep it.
        return raw, None, None


def _employee(
    values: Mapping[str, str],
    direction: Direction,
    sip_name: str | None,
    sip_login: str | None,
    default_region: str,
) -> Employee | None:
    """The handling employee. ``caller``/``dst`` never name them on inbound calls
    (Ringostat's numbers): the name is ``employee_fio`` (else ``employee_mark``), the
    SIP or number who picked up is ``connected_with`` (inferred meaning). On outbound calls
    ``connected_with`` is the client side, so the SIP comes from ``caller``."""
    name = values.get("employee_fio") or values.get("employee_mark") or sip_name or None
    number = values.get("employee_number") or None
    sip = sip_login
    if direction is Direction.INBOUND and values.get("connected_with"):
        picked_up = values["connected_with"]
        found = split_sip(picked_up)
        if found is not None:
            sip = found[1]
            name = name or found[0]
        else:
            try:
                # An employee answering on a phone is linked by that number.
                number = to_e164(picked_up, default_region)
            except ValueError:
                sip = picked_up
    if not (name or number or sip):
        return None
    return Employee(name=name, number=number, sip=sip)
