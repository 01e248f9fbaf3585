"""Drill: a fault storm. 20% of Desk requests answer 429 or 500 or have their
connection dropped, with latency jitter; the sync is rerun until it exits 0 (bounded), and
then the sandbox holds every record exactly once (0 duplicates, 0 missing).

The sandbox draws each fault before doing any work (at Zoho a 429 or 500 creates
nothing), so every fault here is safe to retry; ``--after-write`` adds the nasty kind, a
connection dropped *after* the record was written, which only the ``[rs:]`` reconciliation
can resolve.

Then (unless ``--no-refuse``) Zoho refuses what one employee's calls would create (their SIP
is linked to an agent id Zoho does not know) in a second export synced under 429s and 500s:
once a run goes through unstopped, `ringodesk log --status failed` must list exactly the
calls that run reported failed; the link is fixed, `ringodesk retry --failed` delivers them,
a last sync the calls that waited behind them, and every record is in Zoho exactly once.

The sandbox runs under the strict readings of Zoho (docs/zoho-readings.md: no ``-`` sort
on module lists, ``viewId`` required on ``/contacts/count``, exact search); ``--readings
lenient`` picks the other preset.

    .venv/bin/python drills/fault_storm.py            # 300 calls
    .venv/bin/python drills/fault_storm.py --short    # 60 calls (CI)
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import (
    SEARCH_LAG,
    DrillError,
    Profile,
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

NAME = "fault_storm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 60 calls")
    parser.add_argument("--calls", type=int, help="calls in the export (default 300 / 60)")
    parser.add_argument("--fail-rate", type=float, default=0.2)
    parser.add_argument("--jitter-ms", type=int, default=40, help="latency varies 0..this")
    parser.add_argument("--after-write", action="store_true", help="also drop_after_write")
    parser.add_argument("--max-runs", type=int, help="rerun bound (default 200 / 40)")
    parser.add_argument(
        "--search-lag",
        type=float,
        default=SEARCH_LAG,
        help="seconds before a new record is searchable (Zoho: minutes; default %(default)s)",
    )
    parser.add_argument(
        "--readings", choices=("strict", "lenient"), default="strict", help="sandbox preset"
    )
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--no-refuse", dest="refuse", action="store_false", help="skip the refused calls"
    )
    args = parser.parse_args(argv)
    count = args.calls or (60 if args.short else 300)
    kinds = ("429", "500", "drop") + (("drop_after_write",) if args.after_write else ())
    log(
        f"{NAME}: {count} calls, {args.fail_rate:.0%} of {'/'.join(kinds)}, "
        f"latency 0-{args.jitter_ms} ms, search lag {args.search_lag:.0f} s, seed {args.seed}, "
        f"{args.readings} readings"
    )
    sb = sandbox(seed=args.seed)
    sb.set_readings(preset=args.readings)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, count, kinds, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _jitter(sb: Sandbox, top: int, seed: int, stop: threading.Event) -> None:
    rng = random.Random(seed)
    while not stop.wait(0.05):
        sb.set_faults(latency_ms=rng.randint(0, top))


def _drill(
    sb: Sandbox, root: Path, count: int, kinds: tuple[str, ...], args: argparse.Namespace
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    # Zoho's search lags behind its writes: nothing created during the drill is found by
    # search, so reconciliation must rely on the ledger and on list endpoints.
    sb.set_limits(search_lag_seconds=args.search_lag)
    calls = generate_calls(count, seed=args.seed)
    export = write_export(root / "calls.csv", calls)
    before = sb.request_log()
    sb.set_faults(fail_rate=args.fail_rate, kinds=kinds)
    stop = threading.Event()
    jitter = threading.Thread(target=_jitter, args=(sb, args.jitter_ms, args.seed, stop))
    jitter.daemon = True
    jitter.start()
    codes: list[int] = []
    stops: Counter[str] = Counter()
    delivered: list[int] = []
    max_runs = args.max_runs or (40 if args.short else 200)
    started = time.monotonic()
    try:
        for _ in range(max_runs):
            run = profile.run("sync", str(export), "--json")
            codes.append(run.code)
            summary = _summary(run.stdout)
            delivered.append(int(summary.get("delivered") or 0))
            reason = str(summary.get("stopped") or "")
            if reason:
                stops[reason] += 1
            log(
                f"  run {len(codes)}: exit {run.code} in {run.seconds:.1f} s, "
                f"delivered {delivered[-1]}, pending {summary.get('pending')}"
                + (f"; stopped: {reason}" if reason else "")
            )
            if run.code == 0:
                break
            if run.code not in (5, 6):
                log(f"  unexpected exit code; stderr: {run.stderr.strip()[-600:]}")
    finally:
        stop.set()
        jitter.join(timeout=5)
        sb.set_faults(fail_rate=0.0, latency_ms=0)
    elapsed = time.monotonic() - started
    refused = ""
    if args.refuse and codes and codes[-1] == 0:
        more = generate_calls(12 if args.short else 60, seed=args.seed + 1)
        began = time.monotonic()
        refused = _refused_then_retried(sb, profile, root, more, args.fail_rate / 2)
        log(f"  {refused} ({time.monotonic() - began:.1f} s)")
        calls = calls + more
    log_after = sb.request_log()[len(before) :]
    faults = sum(
        1 for e in log_after if e["path"].startswith("/api/v1/") and e["status"] in (0, 429, 500)
    )
    result = tally(sb, calls)
    for example in result.examples:
        log(f"  mismatch: {example}")
        log(f"    ledger: {ledger_story(profile, example.split()[1].rstrip(':'))}")
    for reason, times in stops.most_common(6):
        log(f"  stop reason x{times}: {reason}")
    ok = bool(codes) and codes[-1] == 0 and result.ok and not refused.startswith("FAILED")
    return verdict(
        NAME,
        ok,
        f"{len(codes)} runs (exit codes {dict(Counter(codes))}, last {codes[-1]}) in "
        f"{elapsed:.1f} s; {len(log_after)} Desk requests, {faults} answered "
        f"429/500/dropped; {result.line()}",
        root=root,
    )


REFUSED_SIP = "petro_sip"
GHOST_AGENT = "1892000000999999"  # no such agent: Zoho refuses what it would own (422)


def _link(profile: Profile, sip: str, agent: str) -> None:
    from ringodesk_cli.config.settings import Paths, Settings

    settings = Settings.load("default", Paths.discover({"RINGODESK_HOME": str(profile.home)}))
    settings.set_table_entry("employees", sip, agent)
    settings.save()


def _refused_then_retried(
    sb: Sandbox, profile: Profile, root: Path, calls: list[Any], fail_rate: float
) -> str:
    """Calls refused by Zoho under a storm of 429s and 500s (both safe to resend, so every
    create has an answer): the first run that is not stopped settles every call, and
    `log --status failed` must list exactly the calls it reported failed. Then the link is
    fixed and `retry --failed` delivers them, a last sync the calls that waited behind them."""
    _link(profile, REFUSED_SIP, GHOST_AGENT)
    export = write_export(root / "calls-refused.csv", calls)
    sb.set_faults(fail_rate=fail_rate, kinds=("429", "500"))
    try:
        for _ in range(20):
            run = profile.run("sync", str(export), "--json")
            summary = _summary(run.stdout)
            log(f"  refused-calls run: exit {run.code} in {run.seconds:.1f} s")
            if run.code in (0, 6) and not summary.get("stopped"):
                break
        else:
            return "FAILED: no run went through the storm unstopped in 20 runs"
    finally:
        sb.set_faults(fail_rate=0.0)
    reported = {str(f).split(":")[0] for f in summary.get("failures") or []}
    listed = profile.run("log", "--status", "failed", "--since", "30d", "--json")
    ids = {str(e["ringostat_id"]) for e in json.loads(listed.stdout or "[]")}
    if not reported or ids != reported:
        return f"FAILED: the run reported {sorted(reported)} failed, log lists {sorted(ids)}"
    profile.must("employees", "link", REFUSED_SIP, "iryna@sandbox.example")
    retried = profile.run("retry", "--failed", "--json")
    if retried.code != 0 or _summary(retried.stdout).get("delivered") != len(reported):
        return f"FAILED: retry --failed exited {retried.code}: {retried.stderr.strip()[-300:]}"
    last = profile.run("sync", str(export), "--json")
    left = profile.run("log", "--status", "failed", "--since", "30d", "--json")
    if last.code != 0 or json.loads(left.stdout or "[]"):
        return f"FAILED: the last sync exited {last.code}: {last.stderr.strip()[-300:]}"
    return f"refused {len(reported)} calls: log listed exactly those, retry --failed sent them"


def _summary(stdout: str) -> dict[str, Any]:
    try:
        data = json.loads(stdout)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


if __name__ == "__main__":
    raise SystemExit(main())
