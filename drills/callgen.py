"""The drills' generated Ringostat export and the count that proves "0 duplicates, 0 missing".

The expected records follow the rules of what a call creates, restated here from
the generator's own knowledge of each call, not from ringodesk's planner, so that a planner
or runner bug cannot hide itself:
- every call: exactly one call activity carrying ``[rs:<uniqueid>]``;
- every distinct client number: exactly one contact;
- policy "new-caller": a ticket for an inbound call only when it is the number's first call;
- a task for a missed inbound call and for an answered inbound call on an employee
  linked to no agent; none otherwise.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import _pathfix  # noqa: F401  (first: see its docstring)
import phonenumbers

from ringodesk_cli.sandbox import Sandbox

TIMEZONE = "Europe/Kyiv"
KYIV = ZoneInfo(TIMEZONE)
OUR_NUMBER = "+380443334455"
# Ringostat SIP login -> sandbox agent; reception_sip stays unlinked on purpose (it gets
# a "link this" task).
LINKS = {"anna_sip": "taras@sandbox.example", "petro_sip": "iryna@sandbox.example"}
UNLINKED_SIP = "reception_sip"
# The columns of a Ringostat calls/list CSV export (src/ringodesk_cli/data/sample_calls.csv).
COLUMNS = (
    "uniqueid", "calldate", "call_type", "disposition", "caller", "dst", "billsec",
    "duration", "waittime", "employee_fio", "employee_number", "connected_with", "recording",
    "call_card", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "client_id", "pool_name", "landing",
)  # fmt: skip
INBOUND_TYPES = ("in", "callback")
ANSWERED = ("ANSWERED", "PROPER", "REPEATED")
MISSED = ("NO ANSWER", "BUSY", "VOICEMAIL", "CLIENT NO ANSWER")
RS_MARKER = re.compile(r"\[rs:([^\]]+)\]")


# ---- the export ------------------------------------------------------------------------
@dataclass(frozen=True)
class GenCall:
    id: str
    client: str  # E.164
    written: str  # the client number as the export writes it (formats vary, as in real life)
    when: datetime  # Kyiv wall clock
    call_type: str
    disposition: str
    sip: str | None  # who answered (inbound) or dialled (outbound)

    @property
    def inbound(self) -> bool:
        return self.call_type in INBOUND_TYPES

    @property
    def answered(self) -> bool:
        return self.disposition in ANSWERED

    def row(self) -> dict[str, str]:
        names = {"anna_sip": "Анна Коваленко", "petro_sip": "Петро Шевчук"}
        if self.inbound:
            caller, dst = self.written, OUR_NUMBER
            connected = self.sip if self.answered and self.sip else ""
        else:
            caller = f'"{names.get(self.sip or "", "Agent")}" <{self.sip}>'
            dst, connected = self.written, ""
        talk = random.Random(self.id).randint(20, 400) if self.answered else 0
        return {
            "uniqueid": self.id,
            "calldate": self.when.strftime("%Y-%m-%d %H:%M:%S"),
            "call_type": self.call_type,
            "disposition": self.disposition,
            "caller": caller,
            "dst": dst,
            "billsec": str(talk),
            "duration": str(talk + 12),
            "waittime": "12",
            "employee_fio": names.get(connected, "") if connected else "",
            "employee_number": "",
            "connected_with": connected,
            "recording": f"https://recordings.example.com/{self.id}.mp3" if talk else "",
            "call_card": f"https://app.example.com/call-card/{self.id}",
            "utm_source": "google" if int(self.id[-1]) % 3 == 0 else "",
            "utm_medium": "cpc" if int(self.id[-1]) % 3 == 0 else "",
            "utm_campaign": "", "utm_term": "", "utm_content": "",
            "client_id": "", "pool_name": "Основний", "landing": "",
        }  # fmt: skip


def _written(e164: str, rng: random.Random) -> str:
    national = "0" + e164[4:]  # +380671234567 -> 0671234567
    styles = (
        e164,
        e164[1:],
        national,
        f"+38 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}",
        f"{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}",
    )
    return rng.choice(styles)


def generate_calls(count: int, *, seed: int, hours: float = 30.0) -> list[GenCall]:
    """``count`` finished calls from ``hours`` ago (but never before yesterday's midnight in
    Kyiv, so that ``--replay 3d`` covers them all) to 5 minutes ago, in time order: 40% from
    repeat callers, ~25% of inbound calls missed, some outbound, some on the unlinked SIP."""
    rng = random.Random(seed)
    now = datetime.now(KYIV).replace(tzinfo=None, microsecond=0) - timedelta(minutes=5)
    yesterday = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0)
    span = min(timedelta(hours=hours), now - yesterday)
    stamps = sorted({now - span * rng.random() for _ in range(count * 2)})
    stamps = sorted(rng.sample(stamps, count))
    prefixes = ("67", "50", "63", "93", "97", "99", "73", "68")
    numbers: list[str] = []
    calls: list[GenCall] = []
    tag = f"{seed:04d}"
    for i, when in enumerate(stamps):
        if numbers and rng.random() < 0.4:
            e164 = rng.choice(numbers)
        else:
            e164 = f"+380{rng.choice(prefixes)}{rng.randrange(10**7):07d}"
            while e164 in numbers:
                e164 = f"+380{rng.choice(prefixes)}{rng.randrange(10**7):07d}"
            numbers.append(e164)
        roll = rng.random()
        if roll < 0.15:
            call_type = "out"
            disposition = rng.choice(("ANSWERED", "NO ANSWER", "BUSY"))
            sip: str | None = rng.choice(tuple(LINKS))
        else:
            call_type = "callback" if roll < 0.2 else "in"
            if rng.random() < 0.25:
                disposition, sip = rng.choice(MISSED), None
            else:
                disposition = rng.choice(ANSWERED)
                sip = UNLINKED_SIP if rng.random() < 0.1 else rng.choice(tuple(LINKS))
        calls.append(
            GenCall(
                id=f"dr{tag}-{i:05d}",
                client=e164,
                written=_written(e164, rng),
                when=when,
                call_type=call_type,
                disposition=disposition,
                sip=sip,
            )
        )
    return calls


def write_export(path: Path, calls: Iterable[GenCall]) -> Path:
    """A calls/list CSV: ``;``-separated, UTF-8 with a header line (Ringostat's web export)."""
    lines = [";".join(COLUMNS)]
    for call in calls:
        row = call.row()
        lines.append(";".join(_csv_cell(row[c]) for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ';"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


# ---- expectation and count ---------------------------------------------------------------
@dataclass
class Expected:
    calls: Counter[str] = field(default_factory=Counter)
    tickets: Counter[str] = field(default_factory=Counter)
    tasks: Counter[str] = field(default_factory=Counter)
    contacts: Counter[str] = field(default_factory=Counter)


def expected_records(calls: list[GenCall]) -> Expected:
    exp = Expected()
    seen: set[str] = set()
    for call in sorted(calls, key=lambda c: c.when):
        first = call.client not in seen
        seen.add(call.client)
        exp.calls[call.id] = 1
        exp.contacts[call.client] = 1
        if call.inbound and first:
            exp.tickets[call.id] = 1
        if call.inbound and (not call.answered or call.sip == UNLINKED_SIP):
            exp.tasks[call.id] = 1
    return exp


def _e164(number: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number, "UA"), phonenumbers.PhoneNumberFormat.E164
        )
    except phonenumbers.NumberParseException:
        return number


@dataclass
class Tally:
    """Per kind: duplicates (records beyond the expected one), missing, unexpected keys."""

    counts: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.duplicates.values()) and not any(self.missing.values())

    def line(self) -> str:
        made = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return (
            f"records: {made}; duplicates {sum(self.duplicates.values())} "
            f"{self.duplicates}; missing {sum(self.missing.values())} {self.missing}"
        )


def tally(sb: Sandbox, calls: list[GenCall]) -> Tally:
    exp = expected_records(calls)
    got: dict[str, Counter[str]] = {"calls": Counter(), "tickets": Counter(), "tasks": Counter()}
    for kind in got:
        for rec in sb.records(kind):
            found = RS_MARKER.findall(str(rec.get("subject") or ""))
            key = found[-1] if found else f"<no marker: {rec.get('id')}>"
            got[kind][key] += 1
    contacts: Counter[str] = Counter(
        _e164(str(c.get("phone") or "")) for c in sb.records("contacts")
    )
    want = {
        "calls": exp.calls,
        "tickets": exp.tickets,
        "tasks": exp.tasks,
        "contacts": exp.contacts,
    }
    result = Tally()
    for kind, have in (*got.items(), ("contacts", contacts)):
        expected = want[kind]
        result.counts[kind] = sum(have.values())
        dup = miss = 0
        for key in set(have) | set(expected):
            diff = have[key] - expected[key]
            if diff > 0:
                dup += diff
            elif diff < 0:
                miss -= diff
            if diff and len(result.examples) < 12:
                result.examples.append(f"{kind} {key}: {have[key]} (expected {expected[key]})")
        result.duplicates[kind], result.missing[kind] = dup, miss
    return result
