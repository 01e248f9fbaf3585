"""Benchmark (not a test): `ringodesk log --since 30d` over a ledger of 100,000 calls.

The ledger is written the way sync writes it (the ``Ledger`` class makes the schema, the
indexes and the history table), then filled in bulk: 100,000 calls spread evenly over the
last 365 days, each with its operations (contact, call; a ticket for a third, a task for a
fifth) and five history events. The installed command reads it as a user would, text and
``--json``, `--repeat` times each after one warm-up; the target is a median under 1 s.

    .venv/bin/python bench/log_speed.py [--calls 100000] [--days 365] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger

TARGET_S = 1.0


def build(home: Path, calls: int, days: int, seed: int = 7) -> None:
    paths = Paths.discover({"RINGODESK_HOME": str(home)})
    settings = Settings.load("default", paths)
    for key, value in (
        ("zoho.region", "eu"),
        ("zoho.portal", "acme"),
        ("ringostat.timezone", "Europe/Kyiv"),
    ):
        settings.set(key, value)
    settings.save()
    state = paths.state_dir("default")
    Ledger(state / LEDGER_FILE).close()  # the schema, indexes and history table
    rng = random.Random(seed)
    now = datetime.now(UTC)
    step = timedelta(days=days) / calls
    call_rows: list[tuple[Any, ...]] = []
    op_rows: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    for i in range(calls):
        rid = f"ua-{i}.{rng.randint(100, 999)}"
        started = (now - step * (calls - i)).isoformat()
        number = f"+38067{rng.randint(0, 9_999_999):07d}"
        state_name = rng.choices(("delivered", "failed", "pending"), (96, 2, 2))[0]
        record = {
            "direction": "inbound" if i % 4 else "outbound",
            "disposition": "ANSWERED",
            "employee": ["Anna", None, "anna_sip"],
            "utm": {"utm_source": "google"},
        }
        call_rows.append((rid, started, number, "h", state_name, json.dumps(record),
                          "calls.csv", i + 2, None, 1, stamp))  # fmt: skip
        ops = (
            ["contact", "call"]
            + (["ticket"] if i % 3 == 0 else [])
            + (["task"] if i % 5 == 0 else [])
        )
        for n, op in enumerate(ops):
            op_rows.append((f"{rid}:{op}", rid, op, "done", str(10**15 + i * 10 + n), stamp))
        for kind in ("read", "intended", "done", "intended", "state"):
            events.append((rid, stamp, kind, None, None, None))
    db = sqlite3.connect(state / LEDGER_FILE)
    db.executemany(
        "INSERT INTO calls (ringostat_id, started_at, client_number, content_hash, state, "
        "record, source, line, error, attempts, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        call_rows,
    )
    db.executemany(
        "INSERT INTO ops (key, ringostat_id, op, state, zoho_id, updated_at) VALUES (?,?,?,?,?,?)",
        op_rows,
    )
    db.executemany(
        "INSERT INTO events (ringostat_id, at, kind, op, zoho_id, detail) VALUES (?,?,?,?,?,?)",
        events,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ringodesk-log-") as tmp:
        home = Path(tmp)
        build(home, args.calls, args.days)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1",
               "RINGODESK_HOME": str(home)}  # fmt: skip
        rows, result = [], {"calls": args.calls, "days": args.days, "target_s": TARGET_S}
        ok = True
        for label, extra in (("text", []), ("--json", ["--json"])):
            argv = [harness.RINGODESK, "log", "--since", "30d", *extra]
            warm = harness.run_child(argv, env)
            if warm.code != 0:
                raise SystemExit(f"ringodesk log exited {warm.code}: {warm.stderr}")
            listed = len(json.loads(warm.stdout)) if extra else warm.stdout.count("\n")
            times = [harness.run_child(argv, env).seconds for _ in range(args.repeat)]
            median = statistics.median(times)
            ok = ok and median < TARGET_S
            rows.append((f"log --since 30d {' '.join(extra)}".strip(), listed,
                         f"{median * 1000:.0f} ms", f"{max(times) * 1000:.0f} ms"))  # fmt: skip
            result[label] = {"listed": listed, "seconds": [round(t, 3) for t in times],
                             "median_s": round(median, 3)}  # fmt: skip
    print(harness.table(rows, ("command", "calls listed", f"median of {args.repeat}", "slowest")))
    print(f"saved {harness.save('log_speed', result)}")
    print("OK" if ok else f"MISSED: a median over {TARGET_S:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
