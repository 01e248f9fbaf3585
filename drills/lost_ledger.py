"""Drill: lose the ledger after a day of calls, rerun `sync --replay 3d`: nothing is created
twice, nothing is missing, and the summary says what was recovered.

A day of calls is synced; then the ledger is deleted (with its -wal and -shm files: the
state folder moved or wiped) and the same export synced again with `--replay 3d`; then the
ledger is emptied to 0 bytes (a disk filled and the file cut) and the export synced once
more. Each rerun must find every record of the day in Zoho Desk by its marker (the summary's
``recovered`` equals the records the day made), send no create, and leave exactly one record
per call, ticket and task. Zoho's search lags behind its writes here (as in the other drills):
recovery must rely on lists.

    .venv/bin/python drills/lost_ledger.py            # 300 calls
    .venv/bin/python drills/lost_ledger.py --short    # 60 calls (CI)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import (
    SEARCH_LAG,
    DrillError,
    Profile,
    creating_requests,
    expected_records,
    generate_calls,
    log,
    sandbox,
    tally,
    verdict,
    workdir,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox

NAME = "lost_ledger"
LOSSES = ("deleted", "emptied")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 60 calls")
    parser.add_argument("--calls", type=int, help="calls in the day (default 300 / 60)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    count = args.calls or (60 if args.short else 300)
    log(f"{NAME}: {count} calls, losses {', '.join(LOSSES)}, seed {args.seed}")
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, count, args.seed)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _lose(ledger: Path, how: str) -> None:
    if how == "emptied":
        ledger.write_bytes(b"")
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)


def _drill(sb: Sandbox, root: Path, count: int, seed: int) -> int:
    started = time.monotonic()
    profile = Profile(sb, root)
    profile.setup()
    sb.set_limits(search_lag_seconds=SEARCH_LAG)
    calls = generate_calls(count, seed=seed)
    export = write_export(root / "calls.csv", calls)
    exp = expected_records(calls)
    want = {
        "calls": len(exp.calls),
        "tickets": len(exp.tickets),
        "tasks": len(exp.tasks),
        "contacts": len(exp.contacts),
    }
    first = profile.run("sync", str(export), "--json")
    if first.code != 0:
        raise DrillError(f"the first sync exited {first.code}: {first.stderr.strip()[-500:]}")
    (ledger,) = profile.home.rglob("ledger.sqlite3")
    ok = tally(sb, calls).ok
    figures = [f"day synced: {tally(sb, calls).line()}"]
    for how in LOSSES:
        _lose(ledger, how)
        creates = creating_requests(sb)
        rerun = profile.run("sync", "--replay", "3d", str(export), "--json")
        made = creating_requests(sb) - creates
        recovered = json.loads(rerun.stdout).get("recovered") if rerun.stdout else None
        got = {k: (recovered or {}).get(k) for k in want}
        result = tally(sb, calls)
        for example in result.examples:
            log(f"  mismatch: {example}")
        passed = rerun.code == 0 and made == 0 and result.ok and got == want
        ok = ok and passed
        log(
            f"  ledger {how}: exit {rerun.code}, creates {made}, recovered {got} "
            f"(expected {want}); {result.line()}"
        )
        figures.append(f"{how}: exit {rerun.code}, creates {made}, recovered {got}")
    return verdict(
        NAME, ok, f"{time.monotonic() - started:.1f} s; " + "; ".join(figures), root=root
    )


if __name__ == "__main__":
    raise SystemExit(main())
