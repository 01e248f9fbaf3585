"""Helpers for the sync's end-to-end tests: the installed `ringodesk` as a subprocess (or
in-process) against the local sandbox, exports written on the fly with calldates relative
to *now* in Europe/Kyiv (the replay window is counted from now, R9), and fault hooks that
the sandbox itself does not offer (revoke after N requests, kill the client after a write).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.sandbox import Sandbox

KYIV = ZoneInfo("Europe/Kyiv")
RINGODESK = Path(sys.executable).parent / "ringodesk"
OUR_NUMBER = "+380443334455"
SENIOR = "olena@sandbox.example"
# Ringostat SIP -> sandbox agent e-mail (the sample export's realistic setup).
LINKS = {
    "anna_sip": "taras@sandbox.example",
    "petro_sip": "iryna@sandbox.example",
    "olena_sip": "petro@sandbox.example",
}
COLUMNS = (
    "uniqueid", "calldate", "call_type", "disposition", "caller", "dst", "billsec",
    "duration", "employee_fio", "connected_with", "recording", "call_card", "utm_source",
    "utm_medium", "utm_campaign", "utm_term", "utm_content", "client_id", "landing",
)  # fmt: skip
CREATING = ("POST /api/v1/contacts", "POST /api/v1/tickets", "POST /api/v1/calls",
            "POST /api/v1/tasks")  # fmt: skip


def local_now() -> datetime:
    return datetime.now(KYIV).replace(microsecond=0, tzinfo=None)


def ago(minutes: float) -> datetime:
    """A Kyiv wall-clock time ``minutes`` before now (keep it < 48 h: inside `--replay 3d`),
    counted in UTC so that a DST change in between does not shift it by an hour."""
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes)
    return moment.astimezone(KYIV).replace(tzinfo=None)


def in_utc(wall: datetime) -> datetime:
    """A Kyiv wall-clock time as an export writes it, as an aware UTC moment. In the hour a
    DST change repeats, the first occurrence (fold=0), as the product reads calldates."""
    return wall.replace(tzinfo=KYIV, fold=0).astimezone(UTC)


def zoho_utc(moment: datetime) -> str:
    """An aware moment the way Zoho's fields hold it: ISO 8601 UTC, milliseconds, Z."""
    assert moment.tzinfo is not None, "a naive time has no place in an expected value"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Call:
    """One export row. ``sip`` is who answered (inbound) or who dialled (outbound)."""

    id: str
    client: str
    when: datetime = field(default_factory=lambda: ago(60))
    call_type: str = "in"
    disposition: str = "ANSWERED"
    sip: str | None = None
    billsec: int = 60
    utm: dict[str, str] = field(default_factory=dict)
    gcid: str = ""
    landing: str = ""
    recording: str = ""
    raw_date: str | None = None  # overrides `when` (bad rows)

    def row(self) -> dict[str, str]:
        inbound = self.call_type in ("in", "callback", "transitin")
        sip_text = f'"Agent" <{self.sip}>' if self.sip else ""
        caller, dst = (
            (self.client, OUR_NUMBER) if inbound else (sip_text or OUR_NUMBER, self.client)
        )
        return {
            "uniqueid": self.id,
            "calldate": self.raw_date or self.when.strftime("%Y-%m-%d %H:%M:%S"),
            "call_type": self.call_type,
            "disposition": self.disposition,
            "caller": caller,
            "dst": dst,
            "billsec": str(self.billsec if self.disposition == "ANSWERED" else 0),
            "duration": str(self.billsec + 10),
            "employee_fio": "",
            "connected_with": self.sip if (inbound and self.sip) else "",
            "recording": self.recording,
            "call_card": f"https://app.example.com/call-card/{self.id}",
            **{k: self.utm.get(k, "") for k in COLUMNS if k.startswith("utm_")},
            "client_id": self.gcid,
            "landing": self.landing,
        }


def write_export(path: Path, calls: Iterable[Call]) -> Path:
    lines = [";".join(COLUMNS)]
    for call in calls:
        row = call.row()
        lines.append(";".join(row[c].replace(";", ",") for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def agent_id(sb: Sandbox, email: str) -> str:
    return next(str(a["id"]) for a in sb.records("agents") if a["emailId"] == email)


class Desk:
    """One profile driven through the installed command, and the sandbox it talks to."""

    def __init__(self, sb: Sandbox, env: dict[str, str], tmp: Path) -> None:
        self.sb = sb
        self.env = env
        self.tmp = tmp
        self.secret = tmp / "client-secret.txt"
        self.secret.write_text(sb.client_secret + "\n")

    def run(self, *args: str, timeout: float = 60) -> Result:
        proc = subprocess.run(
            [str(RINGODESK), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(RINGODESK), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def activate(self) -> Result:
        return self.run(
            "activate", "--no-input", "--accounts-url", self.sb.url, "--desk-url", self.sb.url,
            "--client-id", self.sb.client_id, "--client-secret-file", str(self.secret),
            "--grant-code", self.sb.mint_grant_code(), "--senior-manager", SENIOR,
        )  # fmt: skip

    def setup(
        self,
        *,
        links: dict[str, str] | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        """activate + fields create through the command; links and settings written to the
        profile directly (the commands that do it have their own tests; this saves seconds)."""
        for result in (self.activate(), self.run("fields", "create")):
            assert result.code == 0, result
        profile = Settings.load("default", Paths.discover())
        for sip, email in (LINKS if links is None else links).items():
            profile.set_table_entry("employees", sip, agent_id(self.sb, email))
        profile.set("ringostat.timezone", "Europe/Kyiv")
        for key, value in (settings or {}).items():
            profile.set(key, value)
        profile.save()

    def sync(self, *args: str) -> Result:
        return self.run("sync", "--json", *args)

    def creating(self) -> int:
        counts = self.sb.request_counts()
        return sum(v for k, v in counts.items() if k in CREATING)

    def patches(self) -> int:
        return sum(v for k, v in self.sb.request_counts().items() if k.startswith("PATCH"))


def keeps_call_descriptions(sb: Sandbox) -> bool:
    """Whether the sandbox keeps ``description`` on calls and tasks (the reading
    ``call_task_description``); under the strict reading ringodesk sends them without."""
    return sb.readings["call_task_description"] == "accepted"


def by_marker(records: list[dict[str, Any]], ringostat_id: str) -> list[dict[str, Any]]:
    tag = f"[rs:{ringostat_id}]"
    return [r for r in records if tag in str(r.get("subject") or "")]


def contacts_by_phone(sb: Sandbox, e164: str) -> list[dict[str, Any]]:
    return [c for c in sb.records("contacts") if c.get("phone") == e164]


# -- fault hooks the sandbox lacks (reported to its owner) ------------------------------
Hook = Callable[[str, str, Any], None]


def wrap_desk(sb: Sandbox, after: Callable[[str, str, Any], None]) -> Callable[[], None]:
    """Call ``after(method, path, reply)`` once each Desk request has been handled (the
    record written), before the answer goes back. Returns an undo function."""
    original = sb.handle_desk

    def handle(method: str, path: str, params: Any, headers: Any, raw: bytes) -> Any:
        reply = original(method, path, params, headers, raw)
        after(method, path, reply)
        return reply

    sb.handle_desk = handle  # type: ignore[method-assign]
    return lambda: setattr(sb, "handle_desk", original)


def revoke_after(sb: Sandbox, creates: int) -> Callable[[], None]:
    """R8's break mid-run: every token dies right after the ``creates``-th successful POST."""
    seen = 0
    lock = threading.Lock()

    def after(method: str, path: str, reply: Any) -> None:
        nonlocal seen
        if method != "POST" or reply.status >= 300:
            return
        with lock:
            seen += 1
            if seen == creates:
                sb.revoke_all_tokens()

    return wrap_desk(sb, after)


def kill_after_write(sb: Sandbox, path: str, pid: Callable[[], int]) -> Callable[[], None]:
    """A crash between a request and its commit: the first successful POST to ``path``
    is performed, then the client process is killed before it reads the answer."""
    fired = threading.Event()

    def after(method: str, req_path: str, reply: Any) -> None:
        if method == "POST" and req_path == path and reply.status < 300 and not fired.is_set():
            fired.set()
            os.kill(pid(), signal.SIGKILL)

    return wrap_desk(sb, after)


# -- in-process runs (runner and property tests) -----------------------------------------
class Crashed(Exception):
    """The simulated process death: raised by every ledger write once it has happened."""


class CrashingLedger:
    """Wraps a ``Ledger``: the ``at``-th write that records an outcome (``done`` or
    ``remember_contact``, i.e. right after a request succeeded) dies, and so does every
    later write, as if the process had been killed between a request and its commit."""

    _OUTCOMES = ("done", "remember_contact")
    _WRITES = ("intend", "intend_contact", "set_call_state", "upsert_call", "quarantine",
               "remember_file", "set_meta", *_OUTCOMES)  # fmt: skip

    def __init__(self, ledger: Any, at: int, ops: tuple[str, ...] = _OUTCOMES) -> None:
        self._ledger = ledger
        self._at = at
        self._ops = ops
        self._seen = 0
        self._lock = threading.Lock()
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._ledger, name)
        if name not in self._WRITES:
            return target

        def write(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if not self.crashed and name in self._ops:
                    self._seen += 1
                    self.crashed = self._seen == self._at
                if self.crashed:
                    raise Crashed(name)
            return target(*args, **kwargs)

        return write


class Harness:
    """Runs the sync's library path (ingest -> replay -> deliver) against the sandbox with
    a real token provider, the way `commands/sync.py` wires it, minus the process."""

    def __init__(self, sb: Sandbox, tmp: Path, *, links: dict[str, str] | None = None) -> None:
        from ringodesk_cli.rules.planner import Policy

        self.sb = sb
        self.tmp = tmp
        self.ledger_path = tmp / "ledger.sqlite3"
        self.generation = 0
        self.index_max = 50_000  # contacts.index_max
        self.policy = Policy(
            senior_manager=agent_id(sb, SENIOR),
            department_id=sb.department_id,
            task_deadline=timedelta(hours=4),
            employees={
                sip: agent_id(sb, email)
                for sip, email in (LINKS if links is None else links).items()
            },
        )
        self.reactivate()

    def reactivate(self) -> None:
        """A new grant code, a new refresh token, a fresh token cache (R8 -> `activate`)."""
        from ringodesk_cli.zoho.accounts import AccountsClient
        from ringodesk_cli.zoho.tokens import TokenCache, TokenProvider

        self.generation += 1
        accounts = AccountsClient(self.sb.url, self.sb.client_id, self.sb.client_secret)
        refresh = accounts.exchange_code(self.sb.mint_grant_code()).refresh_token
        assert refresh
        cache = TokenCache(self.tmp / f"token-{self.generation}.json")
        self.tokens = TokenProvider(accounts, refresh, cache, request_limit=10_000)

    def runner(self, ledger: Any, *, dry_run: bool = False) -> Any:
        """The live runner, or for a dry run the preview that plans without sending; both
        with the contact index over ``ledger``."""
        from ringodesk_cli.contacts.index import ContactIndex
        from ringodesk_cli.delivery.runner import Runner
        from ringodesk_cli.sync.preview import Preview
        from ringodesk_cli.zoho.answers import ANSWERS_FILE_NAME, KnownAnswers
        from ringodesk_cli.zoho.desk import DeskClient

        # What Zoho answered once (paging base, refused keys) is kept in the state, as the
        # session does for a profile.
        desk = DeskClient(
            self.sb.url,
            self.tokens,
            self.sb.org_id,
            sleep=lambda _s: None,
            max_attempts=4,
            answers=KnownAnswers(self.tmp / ANSWERS_FILE_NAME),
        )
        index = ContactIndex(ledger, "UA", index_max=self.index_max)
        if dry_run:
            return Preview(
                desk=desk, ledger=ledger, policy=self.policy, default_region="UA",
                contact_index=index,
            )  # fmt: skip
        return Runner(
            desk=desk, ledger=ledger, policy=self.policy, default_region="UA", concurrency=3,
            contact_index=index,
        )  # fmt: skip

    def sync(
        self,
        calls: list[Call],
        *,
        replay: str | None = None,
        crash_at: int | None = None,
        dry_run: bool = False,
    ) -> Any:
        """One run; returns the Summary, or ``None`` when the simulated crash ended it."""
        from ringodesk_cli.ledger.store import Ledger
        from ringodesk_cli.sync.sources import read_all
        from ringodesk_cli.sync.window import replay_start

        export = write_export(self.tmp / "export.csv", calls)
        real = Ledger(self.ledger_path, readonly=dry_run)
        ledger: Any = real if crash_at is None else CrashingLedger(real, crash_at)
        try:
            runner = self.runner(ledger, dry_run=dry_run)
            runner.ingest(read_all([export], timezone=KYIV, default_region="UA", columns={}))
            if replay:
                since = replay_start(replay, KYIV, datetime.now(KYIV))
                runner.add_replay(since.isoformat())
            if dry_run:
                return runner.finish()
            if runner.to_attempt:
                runner.contact_index.sync(runner.desk)  # as the sync service does
            return runner.deliver()
        except Crashed:
            return None
        finally:
            real.close()


def drop_after_write(sb: Sandbox, path: str, times: int = 1) -> Callable[[], None]:
    """The first ``times`` POSTs to ``path`` are performed, then the connection is dropped
    unanswered: the client cannot know the outcome (the sandbox's ``drop_after_write``
    fault, aimed at one endpoint instead of the next request of any kind)."""
    from ringodesk_cli.sandbox.server import DROP

    original = sb.handle_desk
    left = [times]
    lock = threading.Lock()

    def handle(method: str, req_path: str, params: Any, headers: Any, raw: bytes) -> Any:
        reply = original(method, req_path, params, headers, raw)
        with lock:
            if method == "POST" and req_path == path and reply.status < 300 and left[0] > 0:
                left[0] -= 1
                return DROP
        return reply

    sb.handle_desk = handle  # type: ignore[method-assign]
    return lambda: setattr(sb, "handle_desk", original)
