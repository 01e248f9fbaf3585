"""Benchmark (not a test): wall time of one sync against a Zoho that answers in 100 ms.

Speed: the sandbox answers every Desk request after 100 ms and serves at most 10 at once
(a Zoho portal limits concurrent requests too); `zoho.concurrency` is set to that limit.
The ideal is the workload's lower-bound request count (bench/workload.py) sent 10 at a time:

    ratio = sync wall time ÷ (lower-bound requests × 0.1 s ÷ 10)      target ≤ 1.15

The wall time is the `ringodesk sync` child process from exec to exit (start-up, reading,
planning, token, delivery). A second ratio against the requests actually sent separates
speed from request economy. `--calls 1000` is a quick run; the figure to quote is the full
10,000-call one (about 5 minutes: the ideal alone is 29,300 × 0.01 s ≈ 293 s).

    .venv/bin/python bench/speed.py [--calls 10000] [--latency-ms 100] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import harness
import workload

TARGET = 1.15


class Meter:
    """Statuses, peak in-flight and busy time of the sandbox's Desk requests (a wrapper around
    Sandbox.handle_desk: the sandbox's own log keeps only its last 20,000 entries)."""

    def __init__(self, sb: Any) -> None:
        self.statuses: Counter[int] = Counter()
        self.inflight = 0
        self.peak = 0
        self.busy_seconds = 0.0  # sum over requests of the time spent inside the sandbox
        self._lock = threading.Lock()
        original = sb.handle_desk

        def handle(method: str, path: str, params: Any, headers: Any, raw: bytes) -> Any:
            with self._lock:
                self.inflight += 1
                self.peak = max(self.peak, self.inflight)
            started = time.perf_counter()
            try:
                reply = original(method, path, params, headers, raw)
            finally:
                with self._lock:
                    self.inflight -= 1
                    self.busy_seconds += time.perf_counter() - started
            with self._lock:
                self.statuses[reply.status] += 1
            return reply

        sb.handle_desk = handle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain-sandbox", action="store_true",
                        help="the sandbox's own O(contacts) contact search")  # fmt: skip
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    work = workload.generate(args.calls, args.seed)
    bound = work.lower_bound()
    # Set-up (activation, fields, the callers already in Zoho) runs without latency.
    sb = harness.sandbox(concurrency=args.concurrency)
    try:
        with tempfile.TemporaryDirectory(prefix="ringodesk-bench-") as tmp:
            profile = harness.Profile(sb, Path(tmp) / "home")
            links = {sip: email for sip, (_, _, email) in workload.LINKED.items()}
            profile.setup(concurrency=args.concurrency, links=links)
            files = [str(p) for p in work.write(Path(tmp) / "exports")]
            harness.precreate_contacts(sb, work.in_zoho)
            if not args.plain_sandbox:
                harness.ContactSearchIndex(sb)
            meter = Meter(sb)
            sb.set_faults(latency_ms=args.latency_ms)
            before = sb.request_counts()
            done = profile.run("sync", "--json", *files, timeout=1800)
            counts = harness.diff_counts(before, sb.request_counts())
    finally:
        sb.stop()

    per_request = args.latency_ms / 1000 / args.concurrency
    sent = sum(counts.values())
    ideal = bound["total"] * per_request
    ideal_sent = sent * per_request
    ratio = done.seconds / ideal
    summary = done.json() if done.stdout.strip().startswith("{") else {}
    result = {
        "workload": {"seed": args.seed, **work.counts},
        "latency_ms": args.latency_ms,
        "indexed_contact_search": not args.plain_sandbox,
        "sandbox_concurrency": args.concurrency,
        "zoho_concurrency": args.concurrency,
        "lower_bound": bound,
        "sent": sent,
        "counts": counts,
        "statuses": {str(k): v for k, v in sorted(meter.statuses.items())},
        "peak_in_flight": meter.peak,
        "mean_in_flight": round(meter.busy_seconds / done.seconds, 2),
        "wall_seconds": round(done.seconds, 2),
        "ideal_seconds_lower_bound": round(ideal, 2),
        "ideal_seconds_sent": round(ideal_sent, 2),
        "ratio": round(ratio, 4),
        "ratio_vs_sent": round(done.seconds / ideal_sent, 4) if sent else None,
        # The sandbox's own time per request (latency + work + CPU waits) and how well the
        # tool kept the slots busy: wall ÷ (busy time ÷ concurrency) = concurrency ÷ mean.
        "sandbox_ms_per_request": round(meter.busy_seconds / sent * 1000, 1) if sent else None,
        "slot_idle_ratio": round(args.concurrency * done.seconds / meter.busy_seconds, 4),
        "target_ratio": TARGET,
        "exit_code": done.code,
        "summary": {k: summary.get(k) for k in ("read", "delivered", "failed", "pending")},
    }
    print(f"workload: {work.counts}")
    print(harness.table([
        ("wall time of `ringodesk sync`", f"{done.seconds:.1f} s"),
        ("ideal: lower bound × 0.1 s ÷ 10", f"{ideal:.1f} s  ({bound['total']} requests)"),
        ("ratio (target ≤ 1.15)", f"{ratio:.3f}"),
        ("ideal for the requests sent", f"{ideal_sent:.1f} s  ({sent} requests)"),
        ("ratio vs requests sent", f"{result['ratio_vs_sent']}"),
        ("mean / peak requests in flight", f"{result['mean_in_flight']} / {meter.peak}"),
        ("sandbox time per request", f"{result['sandbox_ms_per_request']} ms"),
        ("wall ÷ (sandbox busy time ÷ 10)", f"{result['slot_idle_ratio']}"),
        ("sandbox statuses", result["statuses"]),
        ("sync exit code", done.code),
    ], ("figure", "value")))  # fmt: skip
    path = harness.save("speed", result)
    print(f"written: {path}")
    return 0 if ratio <= TARGET and done.code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
