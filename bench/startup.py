"""Benchmark (not a test): how long `ringodesk` takes to start, against `import requests`.

Start-up: cron starts the tool often, so `ringodesk --version` may cost at most
twice `python -c "import requests"` (the one library every run needs anyway). Both are run
alternately, `--repeat` times each after one warm-up of each (so both read a warm disk
cache), and the medians are compared. `-X importtime` of the tool is kept in the JSON: the
modules that cost the most are the ones to import lazily.

    .venv/bin/python bench/startup.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from typing import Any

import harness

TARGET = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    tool = [harness.RINGODESK, "--version"]
    bare = [sys.executable, "-c", "import requests"]
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    for argv in (tool, bare):
        harness.run_child(argv, env)
    tool_s: list[float] = []
    bare_s: list[float] = []
    for _ in range(args.repeat):
        done = harness.run_child(tool, env)
        if done.code != 0:
            raise SystemExit(f"ringodesk --version exited {done.code}: {done.stderr}")
        tool_s.append(done.seconds)
        bare_s.append(harness.run_child(bare, env).seconds)

    tool_med, bare_med = statistics.median(tool_s), statistics.median(bare_s)
    ratio = tool_med / bare_med
    result: dict[str, Any] = {
        "repeat": args.repeat,
        "ringodesk_version_ms": [round(s * 1000, 1) for s in tool_s],
        "import_requests_ms": [round(s * 1000, 1) for s in bare_s],
        "median_ringodesk_ms": round(tool_med * 1000, 1),
        "median_import_requests_ms": round(bare_med * 1000, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET,
        "slowest_imports_us": _slowest_imports(env),
    }
    print(harness.table([
        ("ringodesk --version", f"{tool_med * 1000:.0f} ms", f"{min(tool_s) * 1000:.0f} ms"),
        ('python -c "import requests"', f"{bare_med * 1000:.0f} ms",
         f"{min(bare_s) * 1000:.0f} ms"),
    ], ("command", f"median of {args.repeat}", "fastest")))  # fmt: skip
    print(f"ratio of medians: {ratio:.2f}× (target ≤ {TARGET}×)")
    top = list(result["slowest_imports_us"].items())[:8]
    print("heaviest imports of `ringodesk --version` (cumulative µs): "
          + ", ".join(f"{k} {v}" for k, v in top))  # fmt: skip
    path = harness.save("startup", result)
    print(f"written: {path}")
    return 0 if ratio <= TARGET else 1


def _slowest_imports(env: dict[str, str]) -> dict[str, int]:
    """Top-level packages by cumulative import time (python -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", harness.RINGODESK, "--version"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    costs: dict[str, int] = {}
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if name.startswith(" ") and not name.startswith("  "):  # top-level imports only
            costs[name.strip()] = max(costs.get(name.strip(), 0), int(parts[1]))
    return dict(sorted(costs.items(), key=lambda kv: -kv[1])[:20])


if __name__ == "__main__":
    raise SystemExit(main())
