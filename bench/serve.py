"""Benchmark (not a test): `ringodesk serve` under 100 webhooks/s for 60 s, Zoho at 100 ms.

The sandbox answers every Desk request after ``--latency-ms`` (default 100) and serves at
most ``--concurrency`` at once (`zoho.concurrency` is set to it). `ringodesk serve` runs as a
child process; this process sends Ringostat's webhooks at ``--rate`` per second: each call's
before event, then its after event ``--call-seconds`` later (half the webhooks are before
events, half after events). Two figures:

- answer time: from sending a webhook to its answer, measured by the sender;
  target p99 ≤ 50 ms.
- delivery time: from sending a call's after event to the moment the sandbox created its
  call activity (the POST with the call's ``[rs:<id>]`` marker), minus the chain of requests
  the call needs before and with its activity (a new inbound caller: contact, ticket, call =
  3; a new outbound caller: 2; a known caller: 1) × the latency; target p95 ≤ 250 ms.

    .venv/bin/python bench/serve.py [--rate 100] [--seconds 60] [--latency-ms 100]
    .venv/bin/python bench/serve.py --apart 0.2 1.2 --seconds 240    # a call centre's pace

``--apart MIN MAX``: instead of a fixed rate, each call starts a random MIN..MAX seconds
after the one before, times two (a call sends two webhooks: on average one webhook every
MIN..MAX seconds), the pace of a call centre; the delivery stream starts and ends between
webhooks, which a fixed high rate never shows.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import harness
import requests

from ringodesk_cli.sandbox.webhooks import Webhook, with_event

KYIV = ZoneInfo("Europe/Kyiv")
OUR_NUMBER = "+380443334455"
LINKS = {"anna_sip": "taras@sandbox.example", "petro_sip": "iryna@sandbox.example"}


def calls(count: int, seed: int) -> list[dict[str, str]]:
    """Finished calls of today: 40% from repeat callers, a quarter of inbound calls missed,
    15% outbound."""
    rng = random.Random(seed)
    now = datetime.now(KYIV).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
    numbers: list[str] = []
    rows = []
    for i in range(count):
        if numbers and rng.random() < 0.4:
            number = rng.choice(numbers)
        else:
            number = f"+38067{rng.randrange(10**7):07d}"
            numbers.append(number)
        outbound = rng.random() < 0.15
        missed = not outbound and rng.random() < 0.25
        sip = rng.choice(tuple(LINKS))
        rows.append(
            {
                "uniqueid": f"bs-{seed}-{i:05d}",
                "calldate": (now - timedelta(seconds=count - i)).strftime("%Y-%m-%d %H:%M:%S"),
                "call_type": "out" if outbound else "in",
                "disposition": "NO ANSWER" if missed else "ANSWERED",
                "caller": f'"Agent" <{sip}>' if outbound else number,
                "dst": number if outbound else OUR_NUMBER,
                "billsec": "0" if missed else str(rng.randint(20, 300)),
                "duration": "15" if missed else "320",
                "connected_with": "" if missed or outbound else sip,
            }
        )
    return rows


def chains(rows: list[dict[str, str]]) -> dict[str, int]:
    """Requests a call needs up to and with its activity, in the order the calls come."""
    seen: set[str] = set()
    out = {}
    for row in rows:
        outbound = row["call_type"] == "out"
        number = row["dst"] if outbound else row["caller"]
        out[row["uniqueid"]] = 1 if number in seen else (2 if outbound else 3)
        seen.add(number)
    return out


class ActivityClock:
    """When the sandbox created each call activity, by Ringostat id."""

    def __init__(self, sb: Any) -> None:
        self.created: dict[str, float] = {}
        original = sb.handle_desk

        def handle(method: str, path: str, params: Any, headers: Any, raw: bytes) -> Any:
            reply = original(method, path, params, headers, raw)
            if method == "POST" and path.endswith("/api/v1/calls") and reply.status < 300:
                subject = str(json.loads(raw or b"{}").get("subject") or "")
                if "[rs:" in subject:
                    rid = subject.rsplit("[rs:", 1)[1].rstrip("]")
                    self.created.setdefault(rid, time.monotonic())
            return reply

        sb.handle_desk = handle


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--call-seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--apart", type=float, nargs=2, metavar=("MIN", "MAX"),
                        help="seconds between webhooks, at random (instead of --rate)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.apart:
        args.rate = 2.0 / sum(args.apart)  # the mean pace, for the count
    count = int(args.rate * args.seconds / 2)
    rows = calls(count, args.seed)
    sb = harness.sandbox(latency_ms=0, concurrency=args.concurrency)
    with tempfile.TemporaryDirectory(prefix="ringodesk-bench-serve-") as tmp:
        profile = harness.Profile(sb, Path(tmp) / "home")
        profile.setup(concurrency=args.concurrency, links=LINKS)
        form = json.loads(profile.must("serve", "setup", "--public-url", sb.url, "--json").stdout)
        server = subprocess.Popen(
            [harness.RINGODESK, "serve", "--port", "0", "--json"],
            env=profile.env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stderr is not None
            url = _serving(server.stderr)
            logs: list[str] = []
            threading.Thread(target=lambda: logs.extend(server.stderr or []), daemon=True).start()
            key = form["after"].split("key=", 1)[1]
            clock = ActivityClock(sb)
            sb.set_faults(latency_ms=args.latency_ms)
            result = _send_apart(rows, f"{url}/ringostat/webhook?key={key}", args)
            deadline = time.monotonic() + 300
            while len(clock.created) < count and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
    sb.stop()
    inside = [float(json.loads(x)["ms"]) for x in logs if x.startswith('{"event"')]
    result["inside_ms"] = inside
    return _report(rows, result, clock, args, server.returncode)


def _serving(stream: Any) -> str:
    for line in stream:  # a warning about the plain secrets file may come first
        if line.startswith("{") and '"serving"' in line:
            return str(json.loads(line)["serving"])
    raise SystemExit("serve did not start")


def _send_apart(rows: list[dict[str, str]], url: str, args: argparse.Namespace) -> dict[str, Any]:
    """``_send`` in a process of its own: the sandbox's threads (schema checks of every Desk
    request) must not hold up the sender's clock. ``time.monotonic`` is the system's
    monotonic clock, the same in both processes."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return dict(pool.apply(_send, (rows, url, args)))


def _send(rows: list[dict[str, str]], url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Sends each call's before event at its slot and its after event ``call_seconds`` later,
    on a fixed schedule; answer times and the send time of each after event."""
    interval = 2.0 / args.rate
    rng = random.Random(args.seed)
    events: list[tuple[float, Webhook]] = []
    start = 0.0
    for i, row in enumerate(rows):
        before = {k: row[k] for k in ("uniqueid", "calldate", "call_type", "caller", "dst")}
        if args.apart:
            start += 2 * rng.uniform(*args.apart) if i else 0.0
        else:
            start = i * interval
        events.append((start, Webhook("before", before)))
        events.append((start + args.call_seconds, Webhook("after", row)))
    events.sort(key=lambda e: e[0])
    answers: list[float] = []
    sent_after: dict[str, float] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    local = threading.local()

    def post(hook: Webhook) -> None:
        http = getattr(local, "http", None) or requests.Session()
        local.http = http
        started = time.monotonic()
        if hook.event == "after":
            sent_after[hook.call_id] = started
        answer = http.post(with_event(url, hook.event), json=hook.body, timeout=30)
        ms = (time.monotonic() - started) * 1000
        with lock:
            answers.append(ms)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    from concurrent.futures import ThreadPoolExecutor

    begin = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for at, hook in events:
            delay = begin + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, hook)
    return {"answers": answers, "sent_after": sent_after, "statuses": statuses,
            "seconds": time.monotonic() - begin}  # fmt: skip


def _report(
    rows: list[dict[str, str]],
    result: dict[str, Any],
    clock: ActivityClock,
    args: argparse.Namespace,
    exit_code: int | None,
) -> int:
    chain = chains(rows)
    latency = args.latency_ms / 1000
    excess = [
        (clock.created[rid] - sent) - chain[rid] * latency
        for rid, sent in result["sent_after"].items()
        if rid in clock.created
    ]
    p99 = percentile(result["answers"], 0.99)
    p95 = percentile(excess, 0.95) * 1000
    figures = {
        "webhooks": len(result["answers"]),
        "statuses": result["statuses"],
        "send_seconds": round(result["seconds"], 1),
        "answer_ms": {
            "p50": round(percentile(result["answers"], 0.5), 1),
            "p99": round(p99, 1),
            "max": round(max(result["answers"]), 1),
        },
        "answer_ms_inside_server": {
            "p50": round(percentile(result["inside_ms"], 0.5), 1),
            "p99": round(percentile(result["inside_ms"], 0.99), 1),
        },
        "delivered": len(clock.created),
        "calls": len(rows),
        "delivery_excess_ms": {
            "p50": round(percentile(excess, 0.5) * 1000),
            "p95": round(p95),
            "max": round(max(excess) * 1000) if excess else None,
        },
        "serve_exit": exit_code,
    }
    ok = p99 <= 50 and p95 <= 250 and len(clock.created) == len(rows) and exit_code == 0
    print(json.dumps(figures, indent=2))
    print(f"answer p99 {p99:.1f} ms (target ≤ 50), delivery p95 chain×latency + {p95:.0f} ms "
          f"(target ≤ 250): {'PASS' if ok else 'MISS'}")  # fmt: skip
    harness.save("serve", {"args": vars(args), **figures, "pass": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
