"""Benchmark (not a test): how many Zoho Desk requests one sync of the standard workload sends.

Requests: requests sent ÷ lower bound ≤ 1.02, where the lower bound is the writes (one
call activity per call + one contact and one ticket per new caller + one task per missed or
unlinked call, see bench/workload.py) + one page per 99 contacts in Zoho (the first sync
builds the local contact index by listing them; callers are then looked up locally). The
first sync must send 0 contact searches. Then the same three days are replayed
(`sync --replay 3d`) and the same files synced again: both must send 0 creating requests.

Counts come from the sandbox (what "Zoho" received, retries included), not from the tool's
own summary; the summary's counts are kept in the JSON for comparison. The sandbox has no
latency here and its concurrency limit equals `zoho.concurrency` (the benchmarks set the
tool's concurrency to the sandbox's limit, as a real portal's limit would be).

    .venv/bin/python bench/requests_economy.py [--calls 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import harness
import workload

TARGET = 1.02
PAGE = 99  # contacts a listing page holds (Contact.json `limit` maximum)
LISTING = "GET /api/v1/contacts"
KINDS = ("calls", "contacts", "tickets", "tasks", "contact pages", "searches", "other")
SUMMARY_KEYS = ("read", "new", "delivered", "updated", "already_delivered", "failed", "pending",
                "ambiguous_contacts")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain-sandbox", action="store_true",
                        help="the sandbox's own O(contacts) contact search")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=10, help="sandbox limit = setting")
    args = parser.parse_args()

    work = workload.generate(args.calls, args.seed)
    bound = lower_bound(work)
    sb = harness.sandbox(concurrency=args.concurrency)
    try:
        with tempfile.TemporaryDirectory(prefix="ringodesk-bench-") as tmp:
            result = _measure(sb, Path(tmp), work, args.concurrency, not args.plain_sandbox)
    finally:
        sb.stop()
    result.update(workload={"seed": args.seed, **work.counts}, lower_bound=bound,
                  target_ratio=TARGET)  # fmt: skip
    first = result["first_run"]
    ratio = first["sent"] / bound["total"]
    result["ratio"] = round(ratio, 4)

    rows = [(kind, bound.get(kind, 0), first["by_kind"].get(kind, 0)) for kind in KINDS]
    rows.append(("total", bound["total"], first["sent"]))
    print(f"standard workload: {work.counts}")
    print(harness.table(rows, ("requests", "lower bound", "sent (first sync)")))
    print("sent by endpoint: " + ", ".join(f"{k} × {v}" for k, v in first["counts"].items()))
    print(f"ratio sent ÷ lower bound = {ratio:.4f} (target ≤ {TARGET})  "
          f"sync exit {first['exit_code']} in {first['seconds']} s")  # fmt: skip
    searches = first["by_kind"].get("searches", 0)
    print(f"contact searches in the first sync: {searches} (target 0)")
    for name in ("replay_3d", "rerun_same_files"):
        run = result[name]
        print(f"{name}: creating requests {run['creating']} (target 0), all requests "
              f"{run['sent']}, exit {run['exit_code']}")  # fmt: skip
    print(f"records in the sandbox: {result['records']}")
    path = harness.save("requests_economy", result)
    print(f"written: {path}")
    ok = (
        ratio <= TARGET
        and searches == 0
        and result["replay_3d"]["creating"] == 0
        and result["rerun_same_files"]["creating"] == 0
    )
    return 0 if ok else 1


def lower_bound(work: workload.Workload) -> dict[str, int]:
    """The writes the workload needs, plus one listing page per 99 contacts in Zoho."""
    c = work.counts
    parts = {
        "calls": c["calls"],
        "contacts": c["new_callers"],
        "tickets": c["new_callers"],
        "tasks": c["missed"] + c["unlinked"],
        "contact pages": math.ceil(c["in_zoho"] / PAGE),
    }
    return {**parts, "total": sum(parts.values())}


def by_kind(counts: dict[str, int]) -> dict[str, int]:
    kinds = harness.by_kind({k: v for k, v in counts.items() if k != LISTING})
    if counts.get(LISTING):
        kinds["contact pages"] = counts[LISTING]
    return kinds


def _sync(profile: harness.Profile, *args: str) -> dict[str, Any]:
    sb = profile.sb
    before = sb.request_counts()
    done = profile.run("sync", "--json", *args)
    counts = harness.diff_counts(before, sb.request_counts())
    try:
        summary = done.json()
    except ValueError:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"sync {args} printed no JSON (exit {done.code})") from None
    return {
        "exit_code": done.code,
        "seconds": round(done.seconds, 2),
        "sent": sum(counts.values()),
        "creating": harness.creating(counts),
        "counts": counts,
        "by_kind": by_kind(counts),
        "summary_requests": summary.get("requests"),
        "summary": {k: summary.get(k) for k in SUMMARY_KEYS},
    }


def _measure(
    sb: Any, tmp: Path, work: workload.Workload, concurrency: int, indexed: bool
) -> dict[str, Any]:
    profile = harness.Profile(sb, tmp / "home")
    links = {sip: email for sip, (_, _, email) in workload.LINKED.items()}
    profile.setup(concurrency=concurrency, links=links)
    files = [str(p) for p in work.write(tmp / "exports")]
    harness.precreate_contacts(sb, work.in_zoho)
    if indexed:
        harness.ContactSearchIndex(sb)
    first = _sync(profile, *files)
    replay = _sync(profile, "--replay", "3d")
    rerun = _sync(profile, *files)
    records = {k: len(sb.records(k)) for k in ("contacts", "tickets", "calls", "tasks")}
    return {
        "indexed_contact_search": indexed,
        "first_run": first,
        "replay_3d": replay,
        "rerun_same_files": rerun,
        "records": records,
        "expected_records": {
            "contacts": work.counts["distinct_numbers"],
            "tickets": work.counts["new_callers"],
            "calls": work.counts["calls"],
            "tasks": work.counts["missed"] + work.counts["unlinked"],
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
