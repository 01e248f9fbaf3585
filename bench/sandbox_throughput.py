"""Benchmark (not a test): how many requests per second the sandbox serves on 127.0.0.1.

Issue 3 asks for at least 500 req/s with no injected latency, so that the sandbox never
bounds ringodesk's own benchmarks. A realistic mix from N threads (each with a keep-alive
session, as the client uses): GET agents, POST calls, contact search by phone.

    .venv/bin/python bench/sandbox_throughput.py [--threads 8] [--requests 6000] [--seconds 20]

Prints requests/s and writes JSON to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from ringodesk_cli.sandbox import SandboxConfig, start_sandbox

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=6000, help="total request budget")
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget")
    args = parser.parse_args()

    sb = start_sandbox(SandboxConfig(concurrency=args.threads, token_requests_per_10min=10_000))
    token = requests.post(
        f"{sb.url}/oauth/v2/token",
        data={"grant_type": "authorization_code", "client_id": sb.client_id,
              "client_secret": sb.client_secret, "code": sb.mint_grant_code()},
        timeout=5,
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Zoho-oauthtoken {token}", "orgId": sb.org_id}
    seed = requests.Session()
    seed.headers.update(headers)
    contact = seed.post(f"{sb.url}/api/v1/contacts",
                        json={"lastName": "+380501234567", "phone": "+380501234567"},
                        timeout=5).json()  # fmt: skip

    lock = threading.Lock()
    issued = 0
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + args.seconds

    def take() -> int | None:
        nonlocal issued
        with lock:
            if issued >= args.requests or time.perf_counter() > deadline:
                return None
            issued += 1
            return issued

    def worker() -> None:
        session = requests.Session()
        session.headers.update(headers)
        local: dict[int, int] = {}
        while (n := take()) is not None:
            kind = n % 3
            if kind == 0:
                answer = session.get(f"{sb.url}/api/v1/agents", timeout=10)
            elif kind == 1:
                answer = session.post(f"{sb.url}/api/v1/calls", timeout=10, json={
                    "subject": f"[rs:bench-{n}] call", "contactId": contact["id"],
                    "departmentId": sb.department_id, "direction": "inbound",
                    "duration": "30", "startTime": "2024-03-01T10:00:00.000Z",
                    "status": "Completed"})  # fmt: skip
            else:
                answer = session.get(f"{sb.url}/api/v1/contacts/search",
                                     params={"phone": "501234567"}, timeout=10)  # fmt: skip
            local[answer.status_code] = local.get(answer.status_code, 0) + 1
        with lock:
            for code, count in local.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    sb.stop()

    total = sum(statuses.values())
    rate = total / elapsed if elapsed else 0.0
    result = {
        "benchmark": "sandbox_throughput",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "threads": args.threads,
        "requests": total,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(rate, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "mix": "1/3 GET agents, 1/3 POST calls, 1/3 GET contacts/search?phone",
        "target_requests_per_second": 500,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"sandbox_throughput-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{total} requests in {elapsed:.2f} s from {args.threads} threads: "
          f"{rate:.0f} requests/s  (statuses {result['statuses']}; target >= 500)")  # fmt: skip
    print(f"written: {out}")
    return 0 if rate >= 500 and set(statuses) == {200} else 1


if __name__ == "__main__":
    raise SystemExit(main())
