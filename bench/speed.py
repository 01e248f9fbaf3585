"""Benchmark (not a test): wall time of one sync against a Zoho that answers in ~100 ms.

Speed: the sandbox answers every Desk request after 100 ms (fixed), or after a time drawn
uniformly between 50 and 150 ms (jitter: `--spread-ms 50`, `--shape lognormal` for a long
tail), and serves at most 10 at once (a Zoho portal limits concurrent requests too);
`zoho.concurrency` is set to that limit. The ideal is the workload's lower bound of requests
(bench/requests_economy.py: the writes plus one listing page per 99 contacts already in
Zoho; callers are matched in the local contact index, so no searches) sent 10 at a time:

    ratio = sync wall time ÷ (lower-bound requests × 0.1 s ÷ 10)
    targets on 10,000 calls: fixed ≤ 1.10, jitter ≤ 1.15; on fewer calls ≤ 1.20

The wall time is the `ringodesk sync` child process from exec to exit (start-up, reading,
planning, token, delivery). Also reported: the ratio against the requests actually sent, the
sandbox's own time per request, `wall ÷ (sandbox busy time ÷ 10)` (how well the tool keeps
the ten slots busy, whatever the sandbox's speed) and the requests in flight over time (a
text profile: the mean in each twentieth of the run). Each mode runs on a fresh sandbox and
profile. The 10,000-call runs take about 5 minutes each (the ideal alone is ~233 s).

    .venv/bin/python bench/speed.py [--calls 10000] [--modes fixed,jitter] [--spread-ms 50]
                                    [--shape uniform|lognormal] [--latency-ms 100]
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
import requests_economy
import workload

# By workload size (10,000 calls and more; fewer): on a smaller run the start-up (reading and
# storing the exports before the first request) weighs more against the ideal.
TARGET_FIXED = {10_000: 1.10, 0: 1.20}
TARGET_JITTER = {10_000: 1.15, 0: 1.20}
BUCKETS = 20


class Meter:
    """Statuses, peak in-flight, busy time and the in-flight count over time of the sandbox's
    Desk requests (a wrapper around Sandbox.handle_desk: the sandbox's own log keeps only its
    last 20,000 entries)."""

    def __init__(self, sb: Any) -> None:
        self.statuses: Counter[int] = Counter()
        self.inflight = 0
        self.peak = 0
        self.busy_seconds = 0.0  # sum over requests of the time spent inside the sandbox
        self.samples: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._sampling = threading.Event()
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

    def sample(self, every: float = 0.05) -> threading.Thread:
        """Record the in-flight count every ``every`` seconds until ``stop_sampling``."""

        def run() -> None:
            start = time.perf_counter()
            while not self._sampling.wait(every):
                self.samples.append((time.perf_counter() - start, self.inflight))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop_sampling(self) -> None:
        self._sampling.set()

    def phases(self, wall: float) -> dict[str, float]:
        """Seconds before the first request was in flight (start-up, reading, planning),
        seconds from the last one to the process's exit, and the mean in flight between."""
        busy = [(when, n) for when, n in self.samples if n]
        if not busy:
            return {}
        first, last = busy[0][0], busy[-1][0]
        inside = [n for when, n in self.samples if first <= when <= last]
        return {
            "before_first_request_s": round(first, 2),
            "after_last_request_s": round(max(0.0, wall - last), 2),
            "mean_in_flight_between": round(sum(inside) / len(inside), 2),
        }

    def profile(self, buckets: int = BUCKETS) -> list[dict[str, float]]:
        """The mean in-flight count in each of ``buckets`` equal slices of the run."""
        if not self.samples:
            return []
        end = self.samples[-1][0]
        sums = [0.0] * buckets
        counts = [0] * buckets
        for when, inflight in self.samples:
            i = min(buckets - 1, int(when / end * buckets)) if end else 0
            sums[i] += inflight
            counts[i] += 1
        return [
            {"from_s": round(end * i / buckets, 1), "mean_in_flight": round(s / c, 2) if c else 0}
            for i, (s, c) in enumerate(zip(sums, counts, strict=True))
        ]


def draw(profile: list[dict[str, float]], limit: int) -> str:
    """The in-flight profile as text bars, one per slice."""
    lines = []
    for part in profile:
        mean = part["mean_in_flight"]
        bar = "#" * round(mean * 40 / max(1, limit))
        lines.append(f"  {part['from_s']:7.1f} s  {mean:5.2f}  {bar}")
    return "\n".join(lines)


def run_mode(args: argparse.Namespace, work: workload.Workload, spread: int) -> dict[str, Any]:
    bound = requests_economy.lower_bound(work)
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
            sb.set_faults(latency_ms=args.latency_ms, latency_spread_ms=spread,
                          latency_shape=args.shape)  # fmt: skip
            before = sb.request_counts()
            sampler = meter.sample()
            done = profile.run("sync", "--json", *files, timeout=3600)
            meter.stop_sampling()
            sampler.join()
            counts = harness.diff_counts(before, sb.request_counts())
    finally:
        sb.stop()

    per_request = args.latency_ms / 1000 / args.concurrency
    sent = sum(counts.values())
    ideal = bound["total"] * per_request
    ideal_sent = sent * per_request
    summary = done.json() if done.stdout.strip().startswith("{") else {}
    targets = TARGET_JITTER if spread else TARGET_FIXED
    target = targets[10_000] if args.calls >= 10_000 else targets[0]
    return {
        "mode": f"jitter ±{spread} ms {args.shape}" if spread else "fixed",
        "latency_ms": args.latency_ms,
        "latency_spread_ms": spread,
        "latency_shape": args.shape if spread else None,
        "lower_bound": bound,
        "sent": sent,
        "counts": counts,
        "statuses": {str(k): v for k, v in sorted(meter.statuses.items())},
        "peak_in_flight": meter.peak,
        "mean_in_flight": round(meter.busy_seconds / done.seconds, 2),
        "wall_seconds": round(done.seconds, 2),
        "ideal_seconds_lower_bound": round(ideal, 2),
        "ideal_seconds_sent": round(ideal_sent, 2),
        "ratio": round(done.seconds / ideal, 4),
        "ratio_vs_sent": round(done.seconds / ideal_sent, 4) if sent else None,
        # The sandbox's own time per request (latency + work + CPU waits) and how well the
        # tool kept the slots busy: wall ÷ (busy time ÷ concurrency) = concurrency ÷ mean.
        "sandbox_ms_per_request": round(meter.busy_seconds / sent * 1000, 1) if sent else None,
        "slot_idle_ratio": round(args.concurrency * done.seconds / meter.busy_seconds, 4),
        "in_flight_profile": meter.profile(),
        "phases": meter.phases(done.seconds),
        "target_ratio": target,
        "cpu_seconds": round(done.cpu_seconds, 2),
        "exit_code": done.code,
        "summary": {k: summary.get(k) for k in ("read", "delivered", "failed", "pending")},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain-sandbox", action="store_true",
                        help="the sandbox's own O(contacts) contact search")  # fmt: skip
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--spread-ms", type=int, default=50, help="the jitter mode's spread")
    parser.add_argument("--shape", choices=("uniform", "lognormal"), default="uniform")
    parser.add_argument("--modes", default="fixed,jitter", help="fixed, jitter or both")
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    work = workload.generate(args.calls, args.seed)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    results = []
    ok = True
    print(f"workload: {work.counts}")
    for mode in modes:
        if mode not in ("fixed", "jitter"):
            raise SystemExit(f"unknown mode {mode!r}: use fixed, jitter or both")
        result = run_mode(args, work, args.spread_ms if mode == "jitter" else 0)
        results.append(result)
        ok = ok and result["ratio"] <= result["target_ratio"] and result["exit_code"] == 0
        bound = result["lower_bound"]["total"]
        print(f"\n{result['mode']}:")
        print(harness.table([
            ("wall time of `ringodesk sync`", f"{result['wall_seconds']:.1f} s"),
            ("ideal: lower bound × 0.1 s ÷ 10",
             f"{result['ideal_seconds_lower_bound']:.1f} s  ({bound} requests)"),
            (f"ratio (target ≤ {result['target_ratio']})", f"{result['ratio']:.3f}"),
            ("ideal for the requests sent",
             f"{result['ideal_seconds_sent']:.1f} s  ({result['sent']} requests)"),
            ("ratio vs requests sent", f"{result['ratio_vs_sent']}"),
            ("mean / peak requests in flight",
             f"{result['mean_in_flight']} / {result['peak_in_flight']}"),
            ("sandbox time per request", f"{result['sandbox_ms_per_request']} ms"),
            ("wall ÷ (sandbox busy time ÷ 10)", f"{result['slot_idle_ratio']}"),
            ("before the first request / after the last",
             f"{result['phases'].get('before_first_request_s')} s / "
             f"{result['phases'].get('after_last_request_s')} s"),
            ("mean in flight between them",
             f"{result['phases'].get('mean_in_flight_between')}"),
            ("CPU of the sync", f"{result['cpu_seconds']} s"),
            ("sandbox statuses", result["statuses"]),
            ("sync exit code", result["exit_code"]),
        ], ("figure", "value")))  # fmt: skip
        print("requests in flight over the run (mean per twentieth):")
        print(draw(result["in_flight_profile"], args.concurrency))
    path = harness.save("speed", {
        "workload": {"seed": args.seed, **work.counts},
        "indexed_contact_search": not args.plain_sandbox,
        "sandbox_concurrency": args.concurrency,
        "zoho_concurrency": args.concurrency,
        "runs": results,
    })  # fmt: skip
    print(f"written: {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
