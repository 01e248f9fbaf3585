"""Drill: two syncs of the same profile started together (two cron lines, or
cron plus a person): one does the work, the other exits 7 (busy) at once and sends nothing;
the totals are exact (0 duplicates, 0 missing).

The sandbox adds latency so that the winner is still running when the loser starts. The
drill repeats the race a few times, each with a fresh export of new calls, because a race
that happens to be won cleanly once proves little.

    .venv/bin/python drills/two_syncs.py            # 5 rounds of 100 calls
    .venv/bin/python drills/two_syncs.py --short    # 2 rounds of 40 calls (CI)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import (
    DrillError,
    GenCall,
    Profile,
    creating_requests,
    generate_calls,
    log,
    sandbox,
    tally,
    verdict,
    workdir,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox

NAME = "two_syncs"
BUSY = 7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 2 rounds of 40 calls")
    parser.add_argument("--rounds", type=int, help="races (default 5 / 2)")
    parser.add_argument("--calls", type=int, help="calls per round (default 100 / 40)")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.short else 5)
    count = args.calls or (40 if args.short else 100)
    log(f"{NAME}: {rounds} rounds of {count} calls, latency {args.latency_ms} ms, seed {args.seed}")
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, rounds, count, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _drill(sb: Sandbox, root: Path, rounds: int, count: int, args: argparse.Namespace) -> int:
    profile = Profile(sb, root)
    profile.setup()
    sb.set_faults(latency_ms=args.latency_ms)
    everything: list[GenCall] = []
    problems: list[str] = []
    pairs: list[list[int]] = []
    for n in range(rounds):
        calls = generate_calls(count, seed=args.seed * 100 + n)
        everything.extend(calls)
        export = write_export(root / f"calls-{n}.csv", calls)
        before = creating_requests(sb)
        runs = [profile.spawn("sync", str(export), "--json") for _ in range(2)]
        codes = [run.wait() for run in runs]
        pairs.append(codes)
        sent = creating_requests(sb) - before
        loser = next((r for r, c in zip(runs, codes, strict=True) if c == BUSY), None)
        busy_line = loser.stderr().strip().splitlines()[-1:] if loser else []
        log(f"  round {n + 1}: exit codes {codes}; {sent} creating requests; busy says {busy_line}")
        if sorted(codes) != [0, BUSY]:
            problems.append(f"round {n + 1}: exit codes {codes}, expected one 0 and one {BUSY}")
        result = tally(sb, everything)
        if not result.ok:
            problems.append(f"round {n + 1}: {result.line()}")
    sb.set_faults(latency_ms=0)
    result = tally(sb, everything)
    for example in result.examples:
        log(f"  mismatch: {example}")
    for problem in problems:
        log(f"  problem: {problem}")
    return verdict(
        NAME,
        result.ok and not problems,
        f"{rounds} races, exit codes {pairs}; {result.line()}",
        root=root,
    )


if __name__ == "__main__":
    raise SystemExit(main())
