"""Benchmark (not a test): what ringodesk costs locally, with no network at all.

Local overhead: `ringodesk sync --dry-run --offline` over a 20,000-row and a
200,000-row export (the standard workload's generator, one file each) against a bare
`csv.DictReader` pass over the same files, in the same run:

    time ratio   = sync wall time ÷ DictReader wall time, per size          target ≤ 3×
    memory growth = sync peak RSS at 200k rows ÷ sync peak RSS at 20k rows   target ≤ 1.2×

Both sides are child processes timed from exec to exit, so each includes its interpreter's
start-up; the DictReader child only imports `csv` and reads every row as a dict (the least any
tool must do with the file). Peak RSS is each child's own `ru_maxrss` (wait4). Each
measurement below 100,000 rows is repeated (`--repeat`) and the median reported; larger
files run once. The dry run needs a profile (senior
manager, department), so one is activated against a sandbox first; the sync itself reaches no
server (`--offline`) and writes nothing (a dry run never writes).

    .venv/bin/python bench/local_overhead.py [--sizes 20000 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import harness
import workload

TIME_TARGET = 3.0
RSS_TARGET = 1.2
# The bare pass: every row as a dict, nothing else.
DICTREADER = (
    "import csv, sys\n"
    "n = 0\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, encoding='utf-8', newline='') as f:\n"
    "        for row in csv.DictReader(f, delimiter=';'):\n"
    "            n += 1\n"
    "print(n)\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sb = harness.sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="ringodesk-bench-") as tmp:
            profile = harness.Profile(sb, Path(tmp) / "home")
            links = {sip: email for sip, (_, _, email) in workload.LINKED.items()}
            profile.setup(concurrency=10, links=links)
            sb.stop()  # --offline: nothing may reach it; stopping proves it
            sizes = {n: _measure(profile, Path(tmp), n, args) for n in args.sizes}
    finally:
        sb.stop()

    small, large = min(sizes), max(sizes)
    growth = sizes[large]["sync_rss_mib"] / sizes[small]["sync_rss_mib"]
    worst = max(s["time_ratio"] for s in sizes.values())
    result: dict[str, Any] = {
        "repeat": args.repeat,
        "sizes": {str(n): s for n, s in sizes.items()},
        "rss_growth": round(growth, 3),
        "targets": {"time_ratio": TIME_TARGET, "rss_growth": RSS_TARGET},
    }
    rows = [
        (f"{n:,}", f"{s['sync_seconds']:.2f}", f"{s['dictreader_seconds']:.2f}",
         f"{s['time_ratio']:.2f}×", f"{s['sync_rss_mib']:.1f}", f"{s['dictreader_rss_mib']:.1f}")
        for n, s in sizes.items()
    ]  # fmt: skip
    print(harness.table(rows, ("rows", "sync s", "DictReader s", "ratio", "sync MiB",
                               "DictReader MiB")))  # fmt: skip
    print(f"time ratio (target ≤ {TIME_TARGET}×): worst {worst:.2f}×; peak RSS growth "
          f"{small:,} → {large:,} rows: {growth:.3f}× (target ≤ {RSS_TARGET}×)")  # fmt: skip
    path = harness.save("local_overhead", result)
    print(f"written: {path}")
    return 0 if worst <= TIME_TARGET and growth <= RSS_TARGET else 1


def _measure(profile: harness.Profile, tmp: Path, n: int, args: Any) -> dict[str, Any]:
    work = workload.generate(n, args.seed)
    files = [str(p) for p in work.write(tmp / f"export-{n}", per_day=False)]
    syncs, bares = [], []
    # Large files run once: a 200k-row dry run takes minutes (see the README's figures).
    for _ in range(args.repeat if n < 100_000 else 1):
        # Interleaved, so that a slow moment of the machine hits both sides alike.
        bares.append(harness.run_child([sys.executable, "-c", DICTREADER, *files]))
        sync = profile.run("sync", "--dry-run", "--offline", "--json", *files)
        if sync.code not in (0, 6):
            raise SystemExit(f"dry run exited {sync.code}:\n{sync.stderr}")
        syncs.append(sync)
    read = syncs[-1].json()["read"]
    if read != n or int(bares[-1].stdout) != n:
        raise SystemExit(f"expected {n} rows, the dry run read {read}")
    sync_s = statistics.median(r.seconds for r in syncs)
    bare_s = statistics.median(r.seconds for r in bares)
    return {
        "file_mib": round(sum(Path(f).stat().st_size for f in files) / 2**20, 1),
        "sync_seconds": round(sync_s, 3),
        "dictreader_seconds": round(bare_s, 3),
        "time_ratio": round(sync_s / bare_s, 3),
        "sync_rss_mib": round(statistics.median(r.max_rss_kib for r in syncs) / 1024, 1),
        "dictreader_rss_mib": round(statistics.median(r.max_rss_kib for r in bares) / 1024, 1),
        "planned": syncs[-1].json().get("planned"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
