"""Run every reliability drill, one after another, and print a summary.

    .venv/bin/python drills/run_all.py --short    # CI (.ci/run): a few minutes at most
    .venv/bin/python drills/run_all.py            # full size

Each drill runs as its own process (a drill kills processes and owns a sandbox; one that
hangs is stopped by the timeout and counts as failed). Exit code 0 only when every drill
passed. ``--seed N`` makes a run reproducible; each drill prints the seed it used.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DRILLS = (
    "kill9",
    "fault_storm",
    "revoke",
    "two_syncs",
    "secrets",
    "sigint",
    "recordings_kill9",
    "serve_kill9",
    "serve_worker_kill9",
    "lost_ledger",
    "catch_up_outage",
)
TIMEOUT = {True: 180.0, False: 1800.0}  # seconds per drill: short, full


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size")
    parser.add_argument("--seed", type=int, help="passed to every drill")
    parser.add_argument("--only", nargs="+", choices=DRILLS, help="run only these")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, float, str]] = []
    started = time.monotonic()
    for name in args.only or DRILLS:
        command = [sys.executable, str(HERE / f"{name}.py")]
        if args.short:
            command.append("--short")
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        begun = time.monotonic()
        last = ""
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=TIMEOUT[args.short],
                stdin=subprocess.DEVNULL,
                check=False,
            )
            print(done.stdout, end="", flush=True)
            if done.returncode != 0 and done.stderr.strip():
                print(done.stderr[-3000:], end="", file=sys.stderr, flush=True)
            status = "PASS" if done.returncode == 0 else f"FAIL (exit {done.returncode})"
            lines = done.stdout.strip().splitlines()
            last = lines[-1] if lines else ""
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            print(out, end="", flush=True)
            status = f"FAIL (over {TIMEOUT[args.short]:.0f} s)"
        rows.append((name, status, time.monotonic() - begun, last))
    total = time.monotonic() - started
    print(f"\n== drills ({'short' if args.short else 'full'}), {total:.0f} s in all")
    for name, status, seconds, _ in rows:
        print(f"  {name:<12} {status:<22} {seconds:6.1f} s")
    failed = [name for name, status, _, _ in rows if status != "PASS"]
    print("all drills passed" if not failed else f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
