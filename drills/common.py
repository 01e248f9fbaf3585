"""Shared helpers of the reliability drills: a sandbox, a profile driven through
the installed ``ringodesk`` command, and the small tools every drill uses. The generated
export and the per-id count live in ``callgen``; their names are re-exported here.

The drills treat ringodesk as a black box: they only run the installed command (as cron
would) and look at what arrived in the local Zoho Desk sandbox. Nothing leaves 127.0.0.1:
the sandbox refuses any other host and the profile's URLs point at it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _pathfix  # noqa: F401  (first: see its docstring; no stdlib import above uses secrets)
from callgen import (
    KYIV,
    LINKS,
    TIMEZONE,
    GenCall,
    Tally,
    expected_records,
    generate_calls,
    tally,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

__all__ = [
    "KYIV", "LINKS", "SEARCH_LAG", "SENIOR", "TIMEZONE", "DrillError", "GenCall", "Profile",
    "Result", "Spawned", "Tally", "creating_requests", "expected_records", "generate_calls",
    "ledger_story", "log", "sandbox", "tally", "verdict", "wait_for", "workdir", "write_export",
]  # fmt: skip

RINGODESK = str(Path(sys.executable).parent / "ringodesk")
SENIOR = "olena@sandbox.example"
# Zoho: "new records can take minutes to become searchable"; longer than any
# drill, so that search never finds what the drill itself created.
SEARCH_LAG = 600.0
RUN_TIMEOUT = 120.0  # seconds; any single ringodesk run longer than this is a failure


def log(message: str) -> None:
    print(message, flush=True)


# ---- sandbox and profile -----------------------------------------------------------------
def sandbox(*, latency_ms: int = 0, seed: int = 1) -> Sandbox:
    """A sandbox whose client secret is unique per drill (so that a leak is unambiguous)
    and whose token throttle never trips across many re-runs."""
    sb = start_sandbox(
        SandboxConfig(
            port=0,
            latency_ms=latency_ms,
            seed=seed,
            # Lenient: the drills prove crash safety and count requests per call; the strict
            # readings are covered by the end-to-end suite (docs/zoho-readings.md).
            readings="lenient",
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
