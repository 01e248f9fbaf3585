"""Drill: Ringostat's API fails for several catch-up periods of `ringodesk serve`, then
recovers. While it fails the webhooks keep being answered and delivered, `/healthz` turns
red ("the API catch-up has been failing …"); once it answers again the catch-up brings every
call no webhook brought, and in the end every call is in Zoho exactly once.

    .venv/bin/python drills/catch_up_outage.py            # 200 calls
    .venv/bin/python drills/catch_up_outage.py --short    # 40 calls (CI)
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import requests
from common import DrillError, Profile, generate_calls, log, verdict, wait_for, workdir
from serve_kill9 import Server, _sandbox, stop_and_check

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.webhooks import send, webhooks

NAME = "catch_up_outage"
PERIOD_S = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 40 calls")
    parser.add_argument("--calls", type=int, help="calls in Ringostat (200 / 40)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    count = args.calls or (40 if args.short else 200)
    log(f"{NAME}: {count} calls, catch-up every {PERIOD_S} s, seed {args.seed}")
    sb = _sandbox(args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, random.Random(args.seed), count, args.seed)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def ringostat_fails(sb: Sandbox, requests_to_fail: int) -> None:
    answer = requests.post(
        f"{sb.url}/__sandbox__/ringostat/limits", json={"fail_next": requests_to_fail}, timeout=10
    )
    answer.raise_for_status()


def _drill(sb: Sandbox, root: Path, rng: random.Random, count: int, seed: int) -> int:
    profile = Profile(sb, root)
    profile.setup()
    key_file = root / "ringostat-key"
    key_file.write_text("sandbox-ringostat-key\n", encoding="utf-8")
    profile.must("config", "set", "ringostat.api_url", sb.url)
    profile.must("ringostat", "login", "--key-file", str(key_file))
    profile.must("config", "set", "source.kind", "api")
    profile.must("config", "set", "serve.catch_up_every", f"{PERIOD_S}s")
    setup = json.loads(profile.must("serve", "setup", "--public-url", sb.url, "--json").stdout)
    key = setup["after"].split("key=", 1)[1]
    calls = generate_calls(count, seed=seed)
    problems: list[str] = []
    started = time.monotonic()

    ringostat_fails(sb, 1_000_000)  # down from before the start
    sb.ringostat_add_calls([c.row() for c in calls])
    server = Server(profile)
    hooked = [c for c in calls if rng.random() < 0.5]
    after = [h for h in webhooks(c.row() for c in hooked) if h.event == "after"]
    sent = send(after, f"{server.url}/ringostat/webhook?key={key}", rate=50, workers=4)
    if sent.statuses != {200: len(after)}:
        problems.append(f"webhooks during the outage: {sent.statuses}")
    red: dict[str, object] = {}

    def turned_red() -> bool:
        health = server.health()
        if health["http"] == 503:
            red.update(health)
        return bool(red)

    if not wait_for(turned_red, 30, 0.2):
        problems.append(f"/healthz stayed 200 through the outage: {server.health()}")
    elif "catch-up has been failing" not in str(red.get("reason")):
        problems.append(f"/healthz red for another reason: {red.get('reason')}")
    log(f"  outage: {len(after)} webhooks answered, /healthz 503: {red.get('reason')}")

    ringostat_fails(sb, 0)  # Ringostat answers again
    exp_ids = {c.id for c in calls}

    def all_in() -> bool:
        return _all_delivered(sb, exp_ids) and server.health()["http"] == 200

    if not wait_for(all_in, 60, 0.2):
        problems.append(f"after the outage: not every call arrived, {server.health()}")
    stop_and_check(server, sb, calls, problems)
    return verdict(
        NAME,
        not problems,
        f"{len(calls)} calls, {len(hooked)} by webhook during the outage; "
        f"{time.monotonic() - started:.1f} s; {len(problems)} problem(s)",
        root=root,
    )


def _all_delivered(sb: Sandbox, ids: set[str]) -> bool:
    seen = {
        str(r.get("subject", "")).rsplit("[rs:", 1)[-1].rstrip("]") for r in sb.records("calls")
    }
    return ids <= seen


if __name__ == "__main__":
    raise SystemExit(main())
