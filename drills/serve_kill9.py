"""Drill: `ringodesk serve` killed -9 and stopped by SIGTERM in the middle of webhook bursts;
every webhook answered 200 is delivered exactly once, and the cron catch-up delivers the rest.

1. A burst of before+after webhooks (Ringostat's order); kill -9 the server once a random
   share of them has been answered. Restart: every call whose after event was answered 200
   is delivered, exactly once (the ledger had it committed before the answer).
2. A second burst; SIGTERM in the middle: the server exits 0, answers nothing it did not
   store; restarted, it delivers every call answered 200, once.
3. 30 malformed or unauthorised requests: each gets its 4xx, nothing is stored, and the
   server still answers.
4. `sync --replay 3d` from Ringostat's API (the sandbox's calls/list holds every call), run
   while the server runs and receives (it waits for the server's delivery, never exit 7):
   the calls whose webhooks were lost arrive once; in the end every call has exactly one
   activity, the right tasks, one contact per number, at most one ticket per number:
   0 duplicates.

    .venv/bin/python drills/serve_kill9.py            # 1,000 webhooks per burst
    .venv/bin/python drills/serve_kill9.py --short    # 80 per burst (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from callgen import RS_MARKER, _e164
from common import (
    TIMEZONE,
    DrillError,
    Profile,
    Spawned,
    _quiet_disconnects,
    expected_records,
    generate_calls,
    log,
    verdict,
    wait_for,
    workdir,
)

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.webhooks import Webhook, send, webhooks

NAME = "serve_kill9"
KEY_FILE_TEXT = "sandbox-ringostat-key\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 80 webhooks per burst")
    parser.add_argument("--webhooks", type=int, help="webhooks per burst (default 1000 / 80)")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--rate", type=float, default=400.0, help="webhooks per second")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    per_burst = args.webhooks or (80 if args.short else 1000)
    log(f"{NAME}: 2 bursts of {per_burst} webhooks, latency {args.latency_ms} ms, seed {args.seed}")
    sb = _sandbox(args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, random.Random(args.seed), per_burst, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _sandbox(seed: int) -> Sandbox:
    """The drills' sandbox, with the calls/list stand-in reading calldate in Kyiv time (the
    profile's zone, as we assume Ringostat does)."""
    sb = start_sandbox(
        SandboxConfig(
            port=0,
            seed=seed,
            readings="lenient",
            token_requests_per_10min=10_000,
            client_secret=f"drill-secret-{os.urandom(12).hex()}",
            ringostat_timezone=TIMEZONE,
        )
    )
    _quiet_disconnects(sb)
    return sb


class Server:
    def __init__(self, profile: Profile) -> None:
        self.run: Spawned = profile.spawn("serve", "--port", "0", "--json")
        if not wait_for(lambda: self._url() is not None, 30, 0.05):
            raise DrillError(f"serve did not start: {self.run.stderr()[-2000:]}")
        self.url = str(self._url())

    def _url(self) -> str | None:
        for line in self.run.stderr().splitlines():
            if line.startswith("{") and "serving" in line:
                return str(json.loads(line)["serving"])
        return None

    def health(self) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/healthz", timeout=10)
        return {**answer.json(), "http": answer.status_code}

    def drain(self, timeout: float = 300) -> None:
        def empty() -> bool:
            health = self.health()
            return health.get("queue") == 0

        if not wait_for(empty, timeout, 0.1):
            raise DrillError(f"the queue did not drain: {self.health()}")


def _drill(
    sb: Sandbox, root: Path, rng: random.Random, per_burst: int, args: argparse.Namespace
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    sb.set_limits(search_lag_seconds=600)
    key_file = root / "ringostat-key"
    key_file.write_text(KEY_FILE_TEXT, encoding="utf-8")
    profile.must("config", "set", "ringostat.api_url", sb.url)
    profile.must("ringostat", "login", "--key-file", str(key_file))
    profile.must("config", "set", "source.kind", "api")
    setup = json.loads(profile.must("serve", "setup", "--public-url", sb.url, "--json").stdout)
    key = setup["after"].split("key=", 1)[1]
    calls = generate_calls(per_burst, seed=args.seed)  # 2 webhooks per call: 2 bursts
    first, second = calls[: per_burst // 2], calls[per_burst // 2 :]
    sb.ringostat_add_calls([c.row() for c in calls])
    sb.set_faults(latency_ms=args.latency_ms)
    started = time.monotonic()

    # 1. kill -9 in a burst
    server = Server(profile)
    answered1 = _burst(server, key, first, args.rate, rng, lambda s: s.run.kill9(), "kill -9")
    server = Server(profile)
    server.drain()
    problems = _delivered_once(sb, answered1, "after kill -9")

    # 2. SIGTERM in a burst
    def term(s: Server) -> None:
        s.run.proc.send_signal(signal.SIGTERM)

    answered2 = _burst(server, key, second, args.rate, rng, term, "SIGTERM")
    code = server.run.wait(timeout=120)
    if code != 0:
        problems.append(f"SIGTERM: serve exited {code}: {server.run.stderr()[-1000:]}")
    server = Server(profile)
    server.drain()
    problems += _delivered_once(sb, answered1 | answered2, "after SIGTERM")

    # 3. malformed and unauthorised requests
    problems += _refused(server, key, sb)

    # 4. the cron catch-up from the API, while the server runs (and receives: a few calls
    # already delivered are sent again meanwhile); it waits for the server, never exit 7.
    again = threading.Thread(
        target=send,
        args=(webhooks(c.row() for c in first[:10]), f"{server.url}/ringostat/webhook?key={key}"),
        kwargs={"rate": 20.0},
    )
    again.start()
    final = profile.run("sync", "--replay", "3d", "--json")
    again.join()
    if final.code != 0:
        problems.append(f"sync --replay 3d exited {final.code}: {final.stderr[-1000:]}")
    server.drain()
    stop_and_check(server, sb, calls, problems)
    return verdict(
        NAME,
        not problems,
        f"answered 200: {len(answered1)} calls before kill -9, {len(answered2)} before "
        f"SIGTERM, of {len(calls)}; {time.monotonic() - started:.1f} s; "
        f"{len(problems)} problem(s)",
        root=root,
    )


def stop_and_check(server: Server, sb: Sandbox, calls: list[Any], problems: list[str]) -> None:
    """The end of a serve drill: SIGTERM must end the server with exit 0, then every call is
    in Zoho exactly once (``problems`` gains what is not); the problems are logged."""
    server.run.proc.send_signal(signal.SIGTERM)
    if server.run.wait(timeout=120) != 0:
        problems.append("SIGTERM did not exit 0")
    sb.set_faults(latency_ms=0)
    problems += _exactly_once(sb, calls)
    for line in problems[:15]:
        log(f"  problem: {line}")


def _burst(
    server: Server,
    key: str,
    calls: list[Any],
    rate: float,
    rng: random.Random,
    stop: Any,
    how: str,
) -> set[str]:
    """Sends the calls' webhooks; stops the server (``stop``) once a random share of them
    was answered. Returns the ids whose after event was answered 200."""
    hooks = webhooks(c.row() for c in calls)
    aim = rng.randint(len(hooks) // 4, 3 * len(hooks) // 4)
    seen = 0
    lock = threading.Lock()
    fired = threading.Event()

    def on_answer(_hook: Webhook, status: int, _ms: float) -> None:
        nonlocal seen
        with lock:
            seen += 1
            due = seen >= aim and not fired.is_set()
            if due:
                fired.set()
        if due:
            stop(server)

    url = f"{server.url}/ringostat/webhook?key={key}"
    result = send(hooks, url, rate=rate, workers=8, on_answer=on_answer)
    answered = {rid for event, rid in result.answered if event == "after"}
    log(
        f"  {how} after {aim} answers: {result.statuses} "
        f"({len(answered)} after events answered 200)"
    )
    return answered


def _activities(sb: Sandbox, kind: str) -> Counter[str]:
    got: Counter[str] = Counter()
    for rec in sb.records(kind):
        found = RS_MARKER.findall(str(rec.get("subject") or ""))
        got[found[-1] if found else "<none>"] += 1
    return got


def _delivered_once(sb: Sandbox, ids: set[str], when: str) -> list[str]:
    got = _activities(sb, "calls")
    return [f"{when}: {rid} has {got[rid]} activities" for rid in sorted(ids) if got[rid] != 1]


def _refused(server: Server, key: str, sb: Sandbox) -> list[str]:
    before = sum(_activities(sb, "calls").values())
    base = f"{server.url}/ringostat/webhook"
    good = {
        "uniqueid": "refused-1",
        "calldate": "2024-05-01 10:00:00",
        "call_type": "in",
        "disposition": "ANSWERED",
        "caller": "+380671112233",
        "dst": "+380443334455",
    }
    cases: list[tuple[str, dict[str, Any], int]] = []
    for i in range(10):
        cases.append((f"{base}?event=after&key=wrong{i}", {"json": good}, 403))
    for _ in range(5):
        cases.append((f"{base}?event=after", {"json": good}, 403))
    for _ in range(3):
        cases.append((f"{base}?key={key}", {"data": b"a=" + b"x" * 70_000}, 413))
    bad_bodies: list[dict[str, Any]] = [
        {"json": {**good, "uniqueid": ""}},
        {"json": {**good, "calldate": "soon"}},
        {"json": {**good, "call_type": "sideways"}},
        {"json": {**good, "caller": ""}},
        {"json": {**good, "billsec": [1, 2]}},
        {"json": [good]},
        {"data": "{not json"},
        {"data": b"\xff\xfe"},
        {"data": ""},
        {"json": {**good, "billsec": "many"}},
        {"json": {**good, "disposition": "MAYBE"}},
    ]
    for body in bad_bodies:
        cases.append((f"{base}?event=after&key={key}", body, 422))
    cases.append((f"{base}?event=during&key={key}", {"json": good}, 422))
    problems = []
    for url, body, status in cases:
        answer = requests.post(url, timeout=10, **body)
        if answer.status_code != status:
            problems.append(f"{status} expected, got {answer.status_code}: {answer.text[:200]}")
    health = server.health()
    if health["http"] != 200 or health.get("queue") != 0:
        problems.append(f"after the refused requests: {health}")
    if sum(_activities(sb, "calls").values()) != before:
        problems.append("a refused request created something")
    log(f"  {len(cases)} malformed/unauthorised requests: {len(problems)} answered otherwise")
    return problems


def _exactly_once(sb: Sandbox, calls: list[Any]) -> list[str]:
    """Each call one activity and its tasks; each number one contact and at most one
    ticket (which call of a number is its first one depends on which webhooks got lost)."""
    exp = expected_records(calls)
    problems = []
    for kind, want in (("calls", exp.calls), ("tasks", exp.tasks)):
        got = _activities(sb, kind)
        for rid in set(got) | set(want):
            if got[rid] != want[rid]:
                problems.append(f"{kind} {rid}: {got[rid]} (expected {want[rid]})")
    contacts = Counter(_e164(str(c.get("phone") or "")) for c in sb.records("contacts"))
    numbers = {c.client for c in calls}
    for number in numbers:
        if contacts[number] != 1:
            problems.append(f"contacts {number}: {contacts[number]}")
    by_id = {c.id: c.client for c in calls}
    tickets = Counter(by_id.get(rid, rid) for rid in _activities(sb, "tickets").elements())
    problems += [f"tickets of {n}: {k}" for n, k in tickets.items() if k > 1]
    return problems


if __name__ == "__main__":
    raise SystemExit(main())
