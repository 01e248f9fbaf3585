"""Drill: the delivery worker of `ringodesk serve` killed -9 (as the out-of-memory killer
would), once in the middle of a 50/s burst of webhooks and once while idle. The server goes
on answering: every webhook is answered 200 within a second, the worker is started again,
and every call is delivered exactly once.

    .venv/bin/python drills/serve_worker_kill9.py            # 600 webhooks, 300 calls
    .venv/bin/python drills/serve_worker_kill9.py --short    # 160 webhooks (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

from common import DrillError, Profile, generate_calls, log, verdict, wait_for, workdir
from serve_kill9 import Server, _sandbox, stop_and_check

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.webhooks import Webhook, send, webhooks

NAME = "serve_worker_kill9"
ANSWER_WITHIN_MS = 1000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 160 webhooks")
    parser.add_argument("--webhooks", type=int, help="webhooks in the burst (600 / 160)")
    parser.add_argument("--rate", type=float, default=50.0, help="webhooks per second")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    count = args.webhooks or (160 if args.short else 600)
    log(f"{NAME}: {count} webhooks at {args.rate:.0f}/s, latency {args.latency_ms} ms, "
        f"seed {args.seed}")  # fmt: skip
    sb = _sandbox(args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, random.Random(args.seed), count, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def worker_pid(server_pid: int) -> int | None:
    """The worker: the server's child started by multiprocessing's spawn (not its resource
    tracker)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == server_pid and b"spawn_main" in cmdline:
            return int(entry.name)
    return None


def _drill(
    sb: Sandbox, root: Path, rng: random.Random, count: int, args: argparse.Namespace
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    setup = json.loads(profile.must("serve", "setup", "--public-url", sb.url, "--json").stdout)
    key = setup["after"].split("key=", 1)[1]
    calls = generate_calls(count // 2 + 20, seed=args.seed)
    burst, idle = calls[: count // 2], calls[count // 2 :]
    sb.set_faults(latency_ms=args.latency_ms)
    server = Server(profile)
    url = f"{server.url}/ringostat/webhook?key={key}"
    problems: list[str] = []
    started = time.monotonic()

    # 1. kill -9 of the worker once a random share of the burst was answered.
    first = worker_pid(server.run.proc.pid)
    if first is None:
        raise DrillError("no worker process found")
    hooks = webhooks(c.row() for c in burst)
    aim = rng.randint(len(hooks) // 4, 3 * len(hooks) // 4)
    killed = threading.Event()
    seen = [0]
    lock = threading.Lock()

    def on_answer(_hook: Webhook, _status: int, _ms: float) -> None:
        with lock:
            seen[0] += 1
            due = seen[0] >= aim and not killed.is_set()
            if due:
                killed.set()
        if due:
            os.kill(first, signal.SIGKILL)

    result = send(hooks, url, rate=args.rate, workers=8, on_answer=on_answer)
    problems += _answers("burst", result.statuses, result.latencies_ms, len(hooks))
    second = worker_pid(server.run.proc.pid)
    if not wait_for(lambda: worker_pid(server.run.proc.pid) not in (None, first), 5, 0.05):
        problems.append("the worker killed in the burst was not started again within 5 s")
    server.drain()
    log(f"  kill -9 of the worker after {aim} answers: {result.statuses}, slowest "
        f"{max(result.latencies_ms):.0f} ms, new worker {second}")  # fmt: skip

    # 2. kill -9 of the idle worker, then more webhooks.
    idle_pid = worker_pid(server.run.proc.pid)
    if idle_pid is None:
        raise DrillError("no worker process found after the burst")
    os.kill(idle_pid, signal.SIGKILL)
    time.sleep(0.05)
    hooks = webhooks(c.row() for c in idle)
    result = send(hooks, url, rate=args.rate, workers=8)
    problems += _answers("idle", result.statuses, result.latencies_ms, len(hooks))
    server.drain()
    health = server.health()
    if health["http"] != 200:
        problems.append(f"health after the kills: {health}")
    stop_and_check(server, sb, calls, problems)
    return verdict(
        NAME,
        not problems,
        f"{len(calls)} calls, worker killed in a burst and while idle; "
        f"{time.monotonic() - started:.1f} s; {len(problems)} problem(s)",
        root=root,
    )


def _answers(when: str, statuses: dict[int, int], ms: list[float], sent: int) -> list[str]:
    problems: list[Any] = []
    if statuses != {200: sent}:
        problems.append(f"{when}: answers {statuses} for {sent} webhooks")
    slow = [m for m in ms if m > ANSWER_WITHIN_MS]
    if slow:
        problems.append(f"{when}: {len(slow)} answers over {ANSWER_WITHIN_MS:.0f} ms "
                        f"(slowest {max(slow):.0f} ms)")  # fmt: skip
    return problems


if __name__ == "__main__":
    raise SystemExit(main())
