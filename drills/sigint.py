"""Drill: Ctrl-C (SIGINT) at random moments of a sync at 300 ms latency. Each interrupted run
stops within 2 × latency + 1 s, exits 130 and prints its summary marked "interrupted"; no
duplicate appears at any point, and a final rerun ends with 0 duplicates and 0 missing.

Half the signals land a random time after the run's first Desk request, half after a random
number of creating requests (so that some fall while a call is half made: contact created,
call activity not yet); either way a round uses at most its share of the work left, so the
moments spread over the whole sync, from its first requests to its last. The sandbox notes
when each Desk request arrives, so the drill also reports the requests that arrived after the
signal (the stop lets those already on the wire finish; none should start).

    .venv/bin/python drills/sigint.py            # 10 interrupts, 150 calls
    .venv/bin/python drills/sigint.py --short    # 4 interrupts, 40 calls (CI)
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    SEARCH_LAG,
    DrillError,
    Profile,
    Spawned,
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

NAME = "sigint"
EXIT_SIGINT = 130
# A request is "on the wire" when the signal lands if it reaches the sandbox this soon after.
ON_THE_WIRE = 0.05


class Arrivals:
    """When each Desk request reached the sandbox (monotonic seconds of this process)."""

    def __init__(self, sb: Sandbox) -> None:
        self._times: list[float] = []
        self._lock = threading.Lock()
        original = sb.handle_desk

        def handle(method: str, path: str, params: Any, headers: Any, raw: bytes) -> Any:
            with self._lock:
                self._times.append(time.monotonic())
            return original(method, path, params, headers, raw)

        sb.handle_desk = handle  # type: ignore[method-assign]

    def count(self) -> int:
        with self._lock:
            return len(self._times)

    def after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for t in self._times if t > moment)


@dataclass
class Round:
    landed: bool
    stop_seconds: float
    code: int | None
    summary: bool
    late_requests: int
    duplicates: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 4 interrupts, 40 calls")
    parser.add_argument("--interrupts", type=int, help="signals that must land (10 / 4)")
    parser.add_argument("--calls", type=int, help="calls in the export (default 150 / 40)")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    wanted = args.interrupts or (4 if args.short else 10)
    count = args.calls or (40 if args.short else 150)
    limit = 2 * args.latency_ms / 1000 + 1.0
    log(
        f"{NAME}: {wanted} interrupts, {count} calls, latency {args.latency_ms} ms, "
        f"stop limit {limit:.1f} s, seed {args.seed}"
    )
    rng = random.Random(args.seed)
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, rng, wanted, count, limit, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _drill(
    sb: Sandbox,
    root: Path,
    rng: random.Random,
    wanted: int,
    count: int,
    limit: float,
    args: argparse.Namespace,
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    sb.set_limits(search_lag_seconds=SEARCH_LAG)  # reconciliation may not lean on search
    calls = generate_calls(count, seed=args.seed)
    export = write_export(root / "calls.csv", calls)
    exp = expected_records(calls)
    writes_total = sum(sum(c.values()) for c in (exp.calls, exp.tickets, exp.tasks, exp.contacts))
    base = creating_requests(sb)
    arrivals = Arrivals(sb)
    sb.set_faults(latency_ms=args.latency_ms)
    rounds: list[Round] = []
    started = time.monotonic()
    attempts = 0
    while sum(r.landed for r in rounds) < wanted and attempts < wanted * 3:
        attempts += 1
        left = wanted - sum(r.landed for r in rounds)
        # At most this round's share of the writes left, so that later signals still find
        # work to interrupt.
        share = max(1, (writes_total - (creating_requests(sb) - base)) // (left + 1))
        run = profile.spawn("sync", str(export))
        how = _wait_for_moment(sb, run, arrivals, rng, share, args.latency_ms / 1000)
        rounds.append(_interrupt(sb, run, arrivals, calls, limit))
        r = rounds[-1]
        log(
            f"  run {attempts}: "
            + (
                f"SIGINT {how}: exit {r.code} after {r.stop_seconds:.2f} s, "
                f"summary {'printed' if r.summary else 'MISSING'}, "
                f"requests arriving after the signal {r.late_requests}"
                if r.landed
                else f"finished first (exit {r.code})"
            )
            + f"; calls in Zoho {tally(sb, calls).counts['calls']}/{count}, "
            f"duplicates so far {r.duplicates}"
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
    landed = [r for r in rounds if r.landed]
    slowest = max((r.stop_seconds for r in landed), default=0.0)
    ok = (
        len(landed) >= wanted
        and all(r.code == EXIT_SIGINT and r.summary for r in landed)
        and slowest <= limit
        and max((r.duplicates for r in rounds), default=0) == 0
        and finals[-1] == 0
        and result.ok
    )
    stops = ", ".join(f"{r.stop_seconds:.2f}" for r in landed)
    return verdict(
        NAME,
        ok,
        f"{len(landed)} interrupts landed in {attempts} runs; stop times {stops} s "
        f"(slowest {slowest:.2f} s, limit {limit:.1f} s); exit codes "
        f"{sorted({r.code for r in landed})}; summaries {sum(r.summary for r in landed)}/"
        f"{len(landed)}; requests arriving after a signal "
        f"{sum(r.late_requests for r in landed)}; final run exit codes {finals}, "
        f"{time.monotonic() - started:.1f} s; {result.line()}",
        root=root,
    )


def _wait_for_moment(
    sb: Sandbox, run: Spawned, arrivals: Arrivals, rng: random.Random, share: int, latency: float
) -> str:
    """Wait until the run has begun talking to Zoho, then until the drawn moment: a time
    (about as long as ``share`` writes take at five at once) or a number of writes."""
    first = arrivals.count()
    deadline = time.monotonic() + 60
    while arrivals.count() == first and run.proc.poll() is None:
        if time.monotonic() > deadline:
            raise DrillError("a sync sent no request within 60 s")
        time.sleep(0.005)
    begun = time.monotonic()
    if rng.random() < 0.5:
        delay = rng.uniform(0.0, share * latency / 5)
        while time.monotonic() - begun < delay and run.proc.poll() is None:
            time.sleep(0.005)
        return f"{delay:.2f} s after its first request"
    step = rng.randint(1, share)
    goal = creating_requests(sb) + step
    while creating_requests(sb) < goal and run.proc.poll() is None:
        if time.monotonic() - begun > 60:
            raise DrillError("a sync made no progress for 60 s")
        time.sleep(0.002)
    return f"after {step} more writes"


def _interrupt(
    sb: Sandbox, run: Spawned, arrivals: Arrivals, calls: list[Any], limit: float
) -> Round:
    if run.proc.poll() is not None:
        return Round(False, 0.0, run.proc.returncode, False, 0, _duplicates(sb, calls))
    sent = time.monotonic()
    os.kill(run.proc.pid, signal.SIGINT)
    try:
        code = run.wait(timeout=limit + 30)
    except DrillError:
        code = None
    stopped = time.monotonic() - sent
    out = run.stdout()
    return Round(
        landed=True,
        stop_seconds=stopped,
        code=code,
        summary="sync interrupted:" in out and "pending" in out,
        late_requests=arrivals.after(sent + ON_THE_WIRE),
        duplicates=_duplicates(sb, calls),
    )


def _duplicates(sb: Sandbox, calls: list[Any]) -> int:
    return sum(tally(sb, calls).duplicates.values())


if __name__ == "__main__":
    raise SystemExit(main())
