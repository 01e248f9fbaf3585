"""Benchmark (not a test): ringodesk's own CPU time per Zoho request.

One `ringodesk sync` of the standard workload (bench/workload.py) against a sandbox that
answers at once (no injected latency), so the figure is what the tool itself spends per
request: JSON, planning, logging, ledger commits, HTTP plumbing.

    CPU ms per Zoho request = the sync child's user + system CPU seconds (wait4's rusage)
                              × 1000 ÷ the Desk requests the sandbox received      target ≤ 3

The sandbox runs in this process, so its CPU is not counted. `--profile FILE` runs the child
under cProfile in every thread (bench/profiled.py) and writes the merged stats to FILE; the
CPU figure then includes cProfile's own cost.

    .venv/bin/python bench/cpu.py [--calls 10000] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import harness
import workload

TARGET_MS = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="write the child's cProfile stats here")
    args = parser.parse_args()

    work = workload.generate(args.calls, args.seed)
    sb = harness.sandbox(concurrency=args.concurrency)
    try:
        with tempfile.TemporaryDirectory(prefix="ringodesk-bench-") as tmp:
            profile = harness.Profile(sb, Path(tmp) / "home")
            links = {sip: email for sip, (_, _, email) in workload.LINKED.items()}
            profile.setup(concurrency=args.concurrency, links=links)
            files = [str(p) for p in work.write(Path(tmp) / "exports")]
            harness.precreate_contacts(sb, work.in_zoho)
            harness.ContactSearchIndex(sb)
            before = sb.request_counts()
            argv = [harness.RINGODESK, "sync", "--json", *files]
            if args.profile:
                argv = [sys.executable, str(harness.BENCH / "profiled.py"),
                        str(args.profile.resolve()), *argv[1:]]  # fmt: skip
            done = harness.run_child(argv, profile.env, timeout=1800)
            counts = harness.diff_counts(before, sb.request_counts())
    finally:
        sb.stop()

    sent = sum(counts.values())
    ms = done.cpu_seconds * 1000 / sent if sent else float("inf")
    result = {
        "workload": {"seed": args.seed, **work.counts},
        "latency_ms": 0,
        "sent": sent,
        "counts": counts,
        "cpu_seconds": round(done.cpu_seconds, 3),
        "cpu_user_seconds": round(done.cpu_user, 3),
        "cpu_system_seconds": round(done.cpu_system, 3),
        "wall_seconds": round(done.seconds, 2),
        "cpu_ms_per_request": round(ms, 3),
        "target_ms": TARGET_MS,
        "profiled": bool(args.profile),
        "exit_code": done.code,
    }
    print(f"workload: {work.counts}")
    print(harness.table([
        ("Zoho requests (counted by the sandbox)", sent),
        ("CPU of `ringodesk sync`: user + system",
         f"{done.cpu_user:.2f} s + {done.cpu_system:.2f} s"),
        ("wall time", f"{done.seconds:.1f} s"),
        (f"CPU ms per Zoho request (target ≤ {TARGET_MS})", f"{ms:.3f}"),
        ("sync exit code", done.code),
    ], ("figure", "value")))  # fmt: skip
    path = harness.save("cpu", result)
    print(f"written: {path}")
    return 0 if ms <= TARGET_MS and done.code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
