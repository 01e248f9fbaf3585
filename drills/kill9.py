"""Drill: kill -9 the sync at random moments, rerun after each; in the end the
sandbox holds every record exactly once (0 duplicates, 0 missing).

Most kills land after a random number of creating requests (the sandbox counts them as it
answers, so a kill often falls between Zoho's write and ringodesk's ledger commit, the case
the ``intended`` ledger state exists for); one in four lands at a random time after start
(reading the export, writing the ledger). The sandbox adds latency so that runs last long
enough to be hit. After every kill the sandbox is checked for duplicates so far.

    .venv/bin/python drills/kill9.py            # 20 kills, 300 calls
    .venv/bin/python drills/kill9.py --short    # 5 kills, 60 calls (CI)
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from common import (
    SEARCH_LAG,
    DrillError,
    Profile,
    creating_requests,
    expected_records,
    generate_calls,
    ledger_story,
    log,
    sandbox,
    tally,
    verdict,
    workdir,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox

NAME = "kill9"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 5 kills, 60 calls")
    parser.add_argument("--kills", type=int, help="kills that must land (default 20 / 5)")
    parser.add_argument("--calls", type=int, help="calls in the export (default 300 / 60)")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument(
        "--aim",
        choices=("contacts", "tickets", "calls", "tasks"),
        help="count only this kind of write when choosing the kill moment",
    )
    parser.add_argument(
        "--search-lag",
        type=float,
        default=SEARCH_LAG,
        help="seconds before a new record is searchable (Zoho: minutes; default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    kills = args.kills or (5 if args.short else 20)
    count = args.calls or (60 if args.short else 300)
    log(
        f"{NAME}: {kills} kills, {count} calls, latency {args.latency_ms} ms, "
        f"search lag {args.search_lag:.0f} s, seed {args.seed}"
    )
    rng = random.Random(args.seed)
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, rng, kills, count, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _drill(
    sb: Sandbox, root: Path, rng: random.Random, kills: int, count: int, args: argparse.Namespace
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    # Zoho's search lags behind its writes: nothing created during the drill is found by
    # search, so reconciliation must rely on the ledger and on list endpoints.
    sb.set_limits(search_lag_seconds=args.search_lag)
    calls = generate_calls(count, seed=args.seed)
    export = write_export(root / "calls.csv", calls)
    exp = expected_records(calls)
    writes_total = sum(sum(c.values()) for c in (exp.calls, exp.tickets, exp.tasks, exp.contacts))
    base = creating_requests(sb)
    sb.set_faults(latency_ms=args.latency_ms)

    landed = 0
    attempts = 0
    early_dups = 0
    started = time.monotonic()
    while landed < kills and attempts < kills * 3:
        attempts += 1
        left = kills - landed
        done_writes = creating_requests(sb) - base
        remaining = max(1, writes_total - done_writes)
        run = profile.spawn("sync", str(export), "--json")
        spawned = time.monotonic()
        # Never let one round use up more than its share of the work, so that every kill
        # still has something to interrupt: at most remaining / (kills left + 1) writes.
        share = max(1, remaining // (left + 1))
        if rng.random() < 0.25:
            delay = rng.uniform(0.0, 0.6)
            goal = creating_requests(sb) + share
            how = f"at {delay:.2f} s"
            while (
                time.monotonic() - spawned < delay
                and creating_requests(sb) < goal
                and run.proc.poll() is None
            ):
                time.sleep(0.002)
        else:
            step = rng.randint(1, share)
            if args.aim:
                step = max(1, step // 4)
            goal = creating_requests(sb, args.aim) + step
            how = f"after {step} more {args.aim or 'writes'}"
            deadline = spawned + 60
            while (
                creating_requests(sb, args.aim) < goal
                and run.proc.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.002)
        hit = run.kill9()
        code = run.proc.returncode
        so_far = tally(sb, calls)
        dups = sum(so_far.duplicates.values())
        early_dups = max(early_dups, dups)
        if hit:
            landed += 1
        log(
            f"  run {attempts}: {'killed ' + how if hit else f'finished first (exit {code})'}"
            f" after {time.monotonic() - spawned:.2f} s; writes {creating_requests(sb) - base}"
            f"/{writes_total}; calls in Zoho {so_far.counts['calls']}/{count}; "
            f"duplicates so far {dups}"
        )

    finals = []
    for _ in range(3):
        final = profile.run("sync", str(export), "--json")
        finals.append(final.code)
        if final.code == 0:
            break
    sb.set_faults(latency_ms=0)
    result = tally(sb, calls)
    for example in result.examples:
        log(f"  mismatch: {example}")
        log(f"    ledger: {ledger_story(profile, example.split()[1].rstrip(':'))}")
    ok = landed >= kills and finals[-1] == 0 and result.ok and early_dups == 0
    return verdict(
        NAME,
        ok,
        f"{landed} kills landed in {attempts} runs, final run exit codes {finals}, "
        f"{time.monotonic() - started:.1f} s; {result.line()}",
        root=root,
    )


if __name__ == "__main__":
    raise SystemExit(main())
