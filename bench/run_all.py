"""Run every benchmark one after the other (never in parallel: they time things) and
print one summary table. Each script also writes its own JSON to bench/results/.

    .venv/bin/python bench/run_all.py            # the full figures (about 20 minutes)
    .venv/bin/python bench/run_all.py --quick    # smaller workloads, a couple of minutes

Exit status 0 when every target is met, 1 otherwise (the figures are printed either way).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import harness

SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    # name: (full arguments, quick arguments)
    "startup": ([], ["--repeat", "7"]),
    "local_overhead": ([], ["--sizes", "2000", "20000", "--repeat", "1"]),
    "requests_economy": ([], ["--calls", "1000"]),
    "speed": ([], ["--calls", "1000"]),
    "cpu": ([], ["--calls", "1000"]),
}
# Per script: (label, JSON path, target) for the summary.
FIGURES: dict[str, list[tuple[str, tuple[str | int, ...], str]]] = {
    "startup": [("ringodesk --version ÷ import requests (medians)", ("ratio",), "≤ 2×")],
    "local_overhead": [
        ("dry run ÷ DictReader, 20k rows", ("sizes", "20000", "time_ratio"), "≤ 3×"),
        ("dry run ÷ DictReader, 200k rows", ("sizes", "200000", "time_ratio"), "≤ 3×"),
        ("peak RSS growth 20k → 200k rows", ("rss_growth",), "≤ 1.2×"),
    ],
    "requests_economy": [
        ("requests sent ÷ lower bound", ("ratio",), "≤ 1.02"),
        ("creating requests, --replay 3d", ("replay_3d", "creating"), "0"),
        ("creating requests, same files again", ("rerun_same_files", "creating"), "0"),
    ],
    "speed": [
        ("wall time ÷ ideal, fixed 100 ms, 10 at once", ("runs", 0, "ratio"), "≤ 1.10"),
        ("wall time ÷ ideal, 50–150 ms, 10 at once", ("runs", 1, "ratio"), "≤ 1.15 (10k)"),
    ],
    "cpu": [("CPU ms per Zoho request (no latency)", ("cpu_ms_per_request",), "≤ 1.5")],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=sorted(SCRIPTS))
    args = parser.parse_args()

    rows = []
    failed = False
    for name, (full, quick) in SCRIPTS.items():
        if args.only and name not in args.only:
            continue
        argv = [sys.executable, str(harness.BENCH / f"{name}.py"), *(quick if args.quick else full)]
        print(f"$ .venv/bin/python bench/{name}.py {' '.join(argv[2:])}".rstrip(), flush=True)
        started = time.time()
        done = subprocess.run(argv, timeout=1800, check=False)
        failed |= done.returncode != 0
        latest = _latest(name, started)
        data = json.loads(latest.read_text(encoding="utf-8")) if latest else {}
        for label, path, target in FIGURES[name]:
            value: object = data
            for key in path:
                if isinstance(key, int):
                    value = value[key] if isinstance(value, list) and key < len(value) else None
                else:
                    value = value.get(key) if isinstance(value, dict) else None
            rows.append((label, value, target, f"bench/{name}.py {' '.join(argv[2:])}".strip()))
        print()
    print(harness.table(rows, ("figure", "measured", "target", "command")))
    return 1 if failed else 0


def _latest(name: str, since: float) -> Path | None:
    found = [p for p in harness.RESULTS.glob(f"{name}-*.json") if p.stat().st_mtime >= since]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


if __name__ == "__main__":
    raise SystemExit(main())
