"""Drill: the Zoho tokens are revoked mid-run -> the sync exits 4 (auth) with
the rest pending -> re-activate with a new grant code -> ``sync --replay 3d`` (cron's form,
no file: the ledger's pending calls) -> 0 duplicates, 0 missing.

Revocation is what Zoho does when a user removes the client's access or an admin deletes
the refresh token: every access token of the client dies at once.
The calls are dated today and yesterday in the profile's zone, inside ``--replay 3d``.

    .venv/bin/python drills/revoke.py            # 300 calls
    .venv/bin/python drills/revoke.py --short    # 60 calls (CI)
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
    generate_calls,
    log,
    sandbox,
    tally,
    verdict,
    wait_for,
    workdir,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox

NAME = "revoke"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 60 calls")
    parser.add_argument("--calls", type=int, help="calls in the export (default 300 / 60)")
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument(
        "--search-lag",
        type=float,
        default=SEARCH_LAG,
        help="seconds before a new record is searchable (Zoho: minutes; default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    count = args.calls or (60 if args.short else 300)
    log(
        f"{NAME}: {count} calls, latency {args.latency_ms} ms, "
        f"search lag {args.search_lag:.0f} s, seed {args.seed}"
    )
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, count, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _drill(sb: Sandbox, root: Path, count: int, args: argparse.Namespace) -> int:
    profile = Profile(sb, root)
    profile.setup()
    # Zoho's search lags behind its writes: nothing created during the drill is found by
    # search, so reconciliation must rely on the ledger and on list endpoints.
    sb.set_limits(search_lag_seconds=args.search_lag)
    # Cron's form `sync --replay 3d` reads the inbox; an empty one leaves only the replay.
    inbox = root / "inbox"
    inbox.mkdir()
    profile.must("config", "set", "source.kind", "inbox")
    profile.must("config", "set", "source.inbox", str(inbox))
    calls = generate_calls(count, seed=args.seed)
    export = write_export(root / "calls.csv", calls)
    problems: list[str] = []

    sb.set_faults(latency_ms=args.latency_ms)
    tokens_before = _token_requests(sb)
    run = profile.spawn("sync", str(export), "--json")
    third = max(1, count // 3)
    wait_for(lambda: len(sb.records("calls")) >= third or run.proc.poll() is not None, 60)
    at_revoke = len(sb.records("calls"))
    sb.revoke_all_tokens()
    code = run.wait()
    sb.set_faults(latency_ms=0)
    first = _json(run.stdout())
    before = len(sb.records("calls"))
    tokens_revoked_run = _token_requests(sb) - tokens_before
    log(
        f"  sync: tokens revoked with {at_revoke}/{count} calls in Zoho; exit {code}; "
        f"{tokens_revoked_run} token requests; "
        f"{before} calls in Zoho, pending {first.get('pending')}; "
        f"stopped: {first.get('stopped')}; hint: {first.get('hint')}"
    )
    if code != 4:
        problems.append(f"the revoked run exited {code}, not 4 (auth)")
    if before >= count:
        problems.append("the run finished before the revocation: nothing was left to replay")

    before_blocked = _token_requests(sb)
    blocked = profile.run("sync", "--replay", "3d", "--json")
    said = _json(blocked.stdout).get("stopped")
    log(
        f"  sync --replay 3d before re-activating: exit {blocked.code}, "
        f"{_token_requests(sb) - before_blocked} token requests; stopped: {said}"
    )
    # Not part of the drill's verdict (the drill asks for exit 4 -> re-activate -> replay),
    # but what cron shows the user until someone re-activates: reported, not failed.
    notes: list[str] = []
    if blocked.code != 4:
        notes.append(f"sync before re-activating exited {blocked.code}, not 4: {said}")
    if tokens_revoked_run > 1:
        notes.append(
            f"the revoked run sent {tokens_revoked_run} token requests after Zoho refused the "
            "refresh token (Zoho allows 10 per 10 minutes)"
        )

    again = profile.activate()
    log(f"  activate with a new grant code: exit {again.code}")
    if again.code != 0:
        problems.append(f"re-activation exited {again.code}: {again.stderr.strip()[-400:]}")

    replay = profile.run("sync", "--replay", "3d", "--json")
    summary = _json(replay.stdout)
    log(
        f"  sync --replay 3d: exit {replay.code} in {replay.seconds:.1f} s; "
        f"read {summary.get('read')}, delivered {summary.get('delivered')}, "
        f"pending {summary.get('pending')}, failed {summary.get('failed')}"
    )
    if replay.code != 0:
        problems.append(f"sync --replay 3d exited {replay.code}: {replay.stderr.strip()[-400:]}")

    result = tally(sb, calls)
    for example in result.examples:
        log(f"  mismatch: {example}")
    for note in notes:
        log(f"  note: {note}")
    for problem in problems:
        log(f"  problem: {problem}")
    return verdict(
        NAME,
        result.ok and not problems,
        f"revoked at {at_revoke}/{count} calls, exit {code} after {tokens_revoked_run} token "
        f"requests; after re-activate + replay "
        f"exit {replay.code}, {summary.get('delivered')} delivered; {result.line()}",
        root=root,
    )


def _token_requests(sb: Sandbox) -> int:
    return sb.request_counts().get("POST /oauth/v2/token", 0)


def _json(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


if __name__ == "__main__":
    raise SystemExit(main())
