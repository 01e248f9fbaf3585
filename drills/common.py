"""Shared helpers of the reliability drills (issue 6 §2): a sandbox, a profile driven through
the installed ``ringodesk`` command, a generated Ringostat export, and the count that proves
"0 duplicates, 0 missing".

The drills treat ringodesk as a black box: they only run the installed command (as cron
would) and look at what arrived in the local Zoho Desk sandbox. Nothing leaves 127.0.0.1:
the sandbox refuses any other host and the profile's URLs point at it.

The expected records follow DECISIONS.md "What a call creates" (R4-R7), restated here from
the generator's own knowledge of each call, not from ringodesk's planner, so that a planner
or runner bug cannot hide itself:
- every call: exactly one call activity carrying ``[rs:<uniqueid>]``;
- every distinct client number: exactly one contact;
- policy "new-caller": a ticket for an inbound call only when it is the number's first call;
- a task for a missed inbound call (R4b) and for an answered inbound call on an employee
  linked to no agent (R4c); none otherwise.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import _pathfix  # noqa: F401  (first: see its docstring; no stdlib import above uses secrets)
import phonenumbers

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

RINGODESK = str(Path(sys.executable).parent / "ringodesk")
TIMEZONE = "Europe/Kyiv"
KYIV = ZoneInfo(TIMEZONE)
OUR_NUMBER = "+380443334455"
SENIOR = "olena@sandbox.example"
# Ringostat SIP login -> sandbox agent; reception_sip stays unlinked on purpose (R4c task).
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
# Zoho: "new records can take minutes to become searchable" (DECISIONS.md); longer than any
# drill, so that search never finds what the drill itself created.
SEARCH_LAG = 600.0
RUN_TIMEOUT = 120.0  # seconds; any single ringodesk run longer than this is a failure


def log(message: str) -> None:
    print(message, flush=True)


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


# ---- sandbox and profile -----------------------------------------------------------------
def sandbox(*, latency_ms: int = 0, seed: int = 1) -> Sandbox:
    """A sandbox whose client secret is unique per drill (so that a leak is unambiguous)
    and whose token throttle never trips across many re-runs."""
    sb = start_sandbox(
        SandboxConfig(
            port=0,
            latency_ms=latency_ms,
            seed=seed,
            token_requests_per_10min=10_000,
            client_secret=f"drill-secret-{os.urandom(12).hex()}",
        )
    )
    _quiet_disconnects(sb)
    return sb


def _quiet_disconnects(sb: Sandbox) -> None:
    """A client killed mid-request makes socketserver print a traceback per connection
    (BaseServer.handle_error); in a drill that is the expected case, not news."""
    server = getattr(sb, "_server", None)
    if server is None:
        return
    loud = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        loud(request, client_address)

    server.handle_error = handle_error


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float


class Profile:
    """A throw-away RINGODESK_HOME driven through the installed command."""

    def __init__(self, sb: Sandbox, root: Path) -> None:
        self.sb = sb
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.outputs = root / "outputs"
        self.outputs.mkdir(exist_ok=True)
        self.secret_file = root / "client-secret"
        self.secret_file.write_text(sb.client_secret + "\n", encoding="utf-8")
        self.secret_file.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RINGODESK_")}
        env.update(
            RINGODESK_HOME=str(self.home),
            NO_COLOR="1",
            COLUMNS="160",
            # No keyring at all, so that --insecure-storage really uses its 0600 file and a
            # drill never writes into the keyring of the machine it runs on.
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            XDG_CONFIG_HOME=str(root / "xdg-config"),
            XDG_STATE_HOME=str(root / "xdg-state"),
            XDG_DATA_HOME=str(root / "xdg-data"),
        )
        self.env = env
        self._runs = 0

    def run(self, *args: str, timeout: float = RUN_TIMEOUT, save: bool = True) -> Result:
        started = time.monotonic()
        try:
            done = subprocess.run(
                [RINGODESK, *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DrillError(f"`ringodesk {' '.join(args)}` ran over {timeout:.0f} s") from exc
        result = Result(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
        if save:
            self._save(args, result.stdout, result.stderr)
        return result

    def must(self, *args: str) -> Result:
        result = self.run(*args)
        if result.code != 0:
            raise DrillError(
                f"`ringodesk {' '.join(args)}` exited {result.code}: {result.stderr.strip()}"
            )
        return result

    def spawn(self, *args: str) -> Spawned:
        self._runs += 1
        out = self.outputs / f"spawn-{self._runs:03d}.out"
        err = self.outputs / f"spawn-{self._runs:03d}.err"
        with out.open("wb") as fo, err.open("wb") as fe:
            proc = subprocess.Popen(
                [RINGODESK, *args],
                env=self.env,
                stdout=fo,
                stderr=fe,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return Spawned(proc, out, err)

    def _save(self, args: tuple[str, ...], stdout: str, stderr: str) -> None:
        self._runs += 1
        stem = self.outputs / f"run-{self._runs:03d}"
        (stem.with_suffix(".cmd")).write_text(" ".join(args) + "\n", encoding="utf-8")
        (stem.with_suffix(".out")).write_text(stdout, encoding="utf-8")
        (stem.with_suffix(".err")).write_text(stderr, encoding="utf-8")

    def activate(self, *extra: str) -> Result:
        return self.run(
            *extra, "activate", "--no-input", "--insecure-storage",
            "--accounts-url", self.sb.url, "--desk-url", self.sb.url,
            "--client-id", self.sb.client_id, "--client-secret-file", str(self.secret_file),
            "--grant-code", self.sb.mint_grant_code(), "--senior-manager", SENIOR,
        )  # fmt: skip

    def setup(self, *, concurrency: int = 5) -> None:
        """activate, fields create, employee links, time zone: the README's first steps."""
        done = self.activate()
        if done.code != 0:
            raise DrillError(f"activate exited {done.code}: {done.stderr.strip()}")
        self.must("fields", "create")
        for sip, agent in LINKS.items():
            self.must("employees", "link", sip, agent)
        self.must("config", "set", "ringostat.timezone", TIMEZONE)
        self.must("config", "set", "zoho.concurrency", str(concurrency))

    @property
    def state_files(self) -> list[Path]:
        return sorted(p for p in self.home.rglob("*") if p.is_file())


class Spawned:
    """A ringodesk run in the background (its own session, so kill -9 hits only it)."""

    def __init__(self, proc: subprocess.Popen[bytes], out: Path, err: Path) -> None:
        self.proc = proc
        self.out = out
        self.err = err

    def kill9(self) -> bool:
        """SIGKILL; True when the process was still running (the kill landed)."""
        if self.proc.poll() is not None:
            return False
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        return True

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise DrillError(f"a ringodesk run ran over {timeout:.0f} s and was killed") from None

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


class DrillError(Exception):
    """The drill could not be carried out (as opposed to: it ran and found a failure)."""


def ledger_story(profile: Profile, key: str) -> str:
    """What the profile's ledger says about a Ringostat id (or a client number): its call
    row and ops, for the report of a mismatch. Read-only; never blocks a run."""
    import sqlite3

    paths = list(profile.home.rglob("ledger.sqlite3"))
    if not paths:
        return "no ledger"
    db = sqlite3.connect(f"{paths[0].as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        call = db.execute(
            "SELECT state, client_number FROM calls WHERE ringostat_id = ?", (key,)
        ).fetchone()
        ops = db.execute(
            "SELECT op, state, zoho_id FROM ops WHERE ringostat_id = ? ORDER BY op", (key,)
        ).fetchall()
        number = call[1] if call else key
        contact = db.execute(
            "SELECT state, contact_id FROM contacts WHERE number = ?", (number,)
        ).fetchone()
        others = db.execute(
            "SELECT o.ringostat_id, o.state, o.zoho_id FROM ops o JOIN calls c"
            " ON c.ringostat_id = o.ringostat_id WHERE c.client_number = ? AND o.op = 'contact'"
            " AND o.ringostat_id != ?",
            (number, key),
        ).fetchall()
    except sqlite3.Error as exc:
        return f"ledger unreadable: {exc}"
    finally:
        db.close()
    return (
        f"call {call}; ops {ops}; contact of {number}: {contact}; "
        f"other calls' contact ops: {others}"
    )


def creating_requests(sb: Sandbox, kind: str | None = None) -> int:
    """POSTs that create a record (of ``kind``: contacts, tickets, calls, tasks; None: any)
    and got an answer (any status) so far."""
    prefix = f"POST /api/v1/{kind or ''}"
    counts = sb.request_counts()
    return sum(v for k, v in counts.items() if k.startswith(prefix))


def wait_for(predicate: Any, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


FAILED_MARK = "FAILED"


@contextmanager
def workdir(name: str, keep: bool = False) -> Iterator[Path]:
    """A temporary folder for the drill; kept (and named) when asked or when the drill
    failed, so that its outputs, config and ledger can be read afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"ringodesk-drill-{name}-"))
    try:
        yield path
    finally:
        if keep or (path / FAILED_MARK).exists():
            log(f"work folder kept: {path}")
        else:
            import shutil

            shutil.rmtree(path, ignore_errors=True)


def verdict(name: str, ok: bool, figures: str, root: Path | None = None) -> int:
    log(f"{name}: {'PASS' if ok else 'FAIL'} — {figures}")
    if not ok and root is not None:
        (root / FAILED_MARK).write_text(figures + "\n", encoding="utf-8")
    return 0 if ok else 1
