"""Shared plumbing of the bench scripts: a throw-away ringodesk profile driven through the
installed command, a sandbox in this process, child timing and peak RSS, results on disk.

The sandbox runs in the bench process and `ringodesk` in a child process, so the two never
share a GIL: the wall time measured is the tool's, with the sandbox's answers as Zoho's.
Everything stays on 127.0.0.1; secrets go to a 0600 file in the temporary home
(`--insecure-storage`), never to the user's keyring.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
RINGODESK = str(BIN / "ringodesk")
CREATING = ("POST /api/v1/contacts", "POST /api/v1/tickets", "POST /api/v1/calls",
            "POST /api/v1/tasks")  # fmt: skip
# What each request kind counts as in the lower bound (sandbox route templates).
KIND = {
    "GET /api/v1/contacts/search": "searches",
    "POST /api/v1/contacts": "contacts",
    "POST /api/v1/tickets": "tickets",
    "POST /api/v1/calls": "calls",
    "POST /api/v1/tasks": "tasks",
}


def sandbox(*, latency_ms: int = 0, concurrency: int = 10) -> Sandbox:
    # Token requests are limited far above Zoho's 10 per 10 minutes: the bench activates freely.
    # Lenient: the figures compare with earlier runs; under the strict readings a refused call
    # description costs one more request per profile (docs/zoho-readings.md).
    return start_sandbox(SandboxConfig(port=0, latency_ms=latency_ms, concurrency=concurrency,
                                       token_requests_per_10min=10_000,
                                       readings="lenient"))  # fmt: skip


@dataclass
class Run:
    code: int
    seconds: float
    max_rss_kib: int
    stdout: str
    stderr: str
    cpu_user: float = 0.0  # the child's CPU seconds (wait4's rusage), user and system
    cpu_system: float = 0.0

    @property
    def cpu_seconds(self) -> float:
        return self.cpu_user + self.cpu_system

    def json(self) -> Any:
        return json.loads(self.stdout)


# A tiny launcher between the bench and the measured child. Linux's ru_maxrss counts the
# memory of the process that *forked* the child up to its exec (exec_mmap keeps the old mm's
# high-water mark; with vfork that mm is the parent's), so a child spawned straight from this
# large process would report the bench's own RSS. The launcher is ~10 MiB, below any figure.
_LAUNCHER = """
import os, sys, time, json
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"code": os.waitstatus_to_exitcode(status), "seconds": seconds,
               "max_rss_kib": usage.ru_maxrss,
               "cpu_user": usage.ru_utime, "cpu_system": usage.ru_stime}, f)
"""


def run_child(argv: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """Run a child; its wall time (exec to exit), its own peak RSS (ru_maxrss, KiB) and its
    CPU time (user + system)."""
    with tempfile.TemporaryDirectory(prefix="ringodesk-run-") as tmp:
        report = Path(tmp) / "report.json"
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), *argv]
            subprocess.run(launcher, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           timeout=timeout, check=False)  # fmt: skip
        stdout = out_path.read_text("utf-8", "replace")
        stderr = err_path.read_text("utf-8", "replace")
        if not report.exists():
            raise SystemExit(f"could not run {argv[0]}: {stderr}")
        data = json.loads(report.read_text("utf-8"))
    return Run(data["code"], data["seconds"], int(data["max_rss_kib"]), stdout, stderr,
               float(data["cpu_user"]), float(data["cpu_system"]))  # fmt: skip


class Profile:
    """A fresh RINGODESK_HOME with one activated profile pointing at ``sb``."""

    def __init__(self, sb: Sandbox, home: Path) -> None:
        self.sb = sb
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RINGODESK_")}
        self.env.update(RINGODESK_HOME=str(home), NO_COLOR="1",
                        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")  # fmt: skip
        self.secret = home / "client-secret.txt"
        home.mkdir(parents=True, exist_ok=True)
        self.secret.write_text(sb.client_secret + "\n", encoding="utf-8")
        self.secret.chmod(0o600)

    def run(self, *args: str, timeout: float = 600) -> Run:
        return run_child([RINGODESK, *args], self.env, timeout)

    def must(self, *args: str, timeout: float = 600) -> Run:
        done = self.run(*args, timeout=timeout)
        if done.code != 0:
            raise SystemExit(f"ringodesk {' '.join(args)} exited {done.code}:\n{done.stderr}")
        return done

    def setup(self, *, concurrency: int, links: dict[str, str]) -> None:
        """activate, fields create, employee links, Kyiv time zone, zoho.concurrency."""
        sb = self.sb
        self.must("activate", "--no-input", "--insecure-storage", "--accounts-url", sb.url,
                  "--desk-url", sb.url, "--client-id", sb.client_id, "--client-secret-file",
                  str(self.secret), "--grant-code", sb.mint_grant_code(),
                  "--senior-manager", "olena@sandbox.example")  # fmt: skip
        self.must("fields", "create")
        for key, agent in links.items():
            self.must("employees", "link", key, agent)
        self.must("config", "set", "ringostat.timezone", "Europe/Kyiv")
        self.must("config", "set", "zoho.concurrency", str(concurrency))


def access_token(sb: Sandbox) -> str:
    answer = requests.post(f"{sb.url}/oauth/v2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": sb.client_id,
        "client_secret": sb.client_secret, "code": sb.mint_grant_code()})  # fmt: skip
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def precreate_contacts(sb: Sandbox, numbers: list[tuple[str, str]]) -> None:
    """The callers already in Zoho, created through the Desk API like any other contact."""
    http = requests.Session()
    http.headers.update({"Authorization": f"Zoho-oauthtoken {access_token(sb)}",
                         "orgId": sb.org_id})  # fmt: skip
    for k, (number, where) in enumerate(numbers):
        body = {"lastName": f"Existing client {k}", where: number}
        answer = http.post(f"{sb.url}/api/v1/contacts", json=body, timeout=10)
        answer.raise_for_status()


def diff_counts(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    keys = sorted(set(before) | set(after))
    changed = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    return {k: v for k, v in changed.items() if v}


def creating(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k in CREATING)


def by_kind(counts: dict[str, int]) -> dict[str, int]:
    """Request counts folded into the lower bound's kinds; everything else is "other"."""
    out: dict[str, int] = {}
    for key, value in counts.items():
        kind = KIND.get(key, "other")
        out[kind] = out.get(kind, 0) + value
    return out


def table(rows: list[tuple[Any, ...]], head: tuple[str, ...]) -> str:
    cells = [tuple(str(c) for c in r) for r in [head, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save(name: str, result: dict[str, Any]) -> Path:
    result = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": " ".join([".venv/bin/python", *sys.argv]),
        **result,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


class ContactSearchIndex:
    """The sandbox's contact search, indexed: same answers, without a regex per contact.

    The sandbox's `/contacts/search` scans every contact and runs a regex over its numbers
    (desk_search.search_contacts): O(contacts) per search, ~10 ms at the standard workload's
    6,000 contacts, which would make the sandbox, not ringodesk, the bottleneck of the speed
    run. This wrapper answers the queries ringodesk sends (`phone` or `mobile`, optionally with
    `limit`/`from`) from an index of each contact's digits, with the sandbox's own semantics:
    a contact matches when its digits *contain* the query's digits (candidates: the exact
    digit string, plus every contact whose number is longer than the query, scanned). Any other
    query goes to the sandbox's handler unchanged. Contacts are indexed as they appear; a
    PATCH to a contact would go stale, so `patched_contacts()` lets a script check for one.
    """

    def __init__(self, sb: Sandbox) -> None:
        from dataclasses import replace

        from ringodesk_cli.sandbox import desk_search

        self.sb = sb
        self._digits = desk_search._digits
        self._exact: dict[str, dict[str, set[str]]] = {"phone": {}, "mobile": {}}
        self._long: dict[str, list[tuple[str, str]]] = {"phone": [], "mobile": []}
        self._seen = 0
        self._lock = threading.Lock()
        for i, route in enumerate(sb.routes):
            if route.method == "GET" and route.template.endswith("/contacts/search"):
                self._original = route.handler
                sb.routes[i] = replace(route, handler=self._handle)
                break
        else:
            raise RuntimeError("the sandbox has no contact search route")

    def _refresh(self) -> None:
        records = self.sb.store.records["contacts"]
        with self.sb.store.lock:
            fresh = list(itertools.islice(records.values(), self._seen, None))
            self._seen = len(records)
        for contact in fresh:
            for name in ("phone", "mobile"):
                digits = self._digits(contact.get(name))
                if digits:
                    self._exact[name].setdefault(digits, set()).add(str(contact["id"]))
                    if len(digits) > 12:
                        self._long[name].append((digits, str(contact["id"])))

    def _handle(self, req: Any) -> Any:
        keys = set(req.params) - {"limit", "from"}
        lag = self.sb.search_lag_seconds
        if len(keys) != 1 or lag or len(req.params[next(iter(keys))]) != 1:
            return self._original(req)
        name = next(iter(keys))
        query = self._digits(req.params[name][0])
        if name not in self._exact or len(query) < 12:
            return self._original(req)
        with self._lock:
            self._refresh()
            ids = set(self._exact[name].get(query, ()))
            ids.update(i for d, i in self._long[name] if query in d)
        records = self.sb.store.records["contacts"]
        with self.sb.store.lock:
            found = [records[i] for i in ids if i in records]
        return self.sb.records_api._found(req, found)

    def patched_contacts(self) -> int:
        return sum(v for k, v in self.sb.request_counts().items() if k.startswith("PATCH") and
                   "/contacts/" in k)  # fmt: skip
