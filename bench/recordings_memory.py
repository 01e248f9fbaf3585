"""Peak RSS of a sync that attaches recordings, against the same sync without: the
recordings are streamed (download into a bounded temporary file, multipart upload read from
it), so 50 recordings of 15 MB each must not grow the process by more than 30 MiB.

Both runs deliver the same 50 answered calls, each with a recording link served by the
sandbox, from a fresh profile against a freshly reset sandbox; the second has
``recordings.attach = true``. The figure is the difference of the two children's peak RSS
(ru_maxrss). Every attachment is checked: its name, its size and the SHA-256 of its bytes.

    .venv/bin/python bench/recordings_memory.py                  # 50 × 15 MB
    .venv/bin/python bench/recordings_memory.py --calls 10 --mb 5   # a quick look
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import harness

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.recordings import digest_of

TARGET_MIB = 30.0
COLUMNS = ("uniqueid", "calldate", "call_type", "disposition", "caller", "dst", "billsec",
           "duration", "recording")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--mb", type=float, default=15.0, help="size of each recording")
    parser.add_argument("--concurrency", type=int, default=5)
    args = parser.parse_args()
    size = int(args.mb * 1024 * 1024)
    sb = harness.sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="ringodesk-bench-") as tmp:
            base = _run(sb, Path(tmp) / "without", args, size, attach=False)
            sb.reset()
            with_rec = _run(sb, Path(tmp) / "with", args, size, attach=True)
    finally:
        sb.stop()
    growth = with_rec["rss_mib"] - base["rss_mib"]
    result: dict[str, Any] = {
        "calls": args.calls,
        "recording_mib": round(size / 2**20, 1),
        "concurrency": args.concurrency,
        "without": base,
        "with": with_rec,
        "rss_growth_mib": round(growth, 1),
        "target_mib": TARGET_MIB,
    }
    rows = [
        ("without attachments", f"{base['seconds']:.1f}", f"{base['rss_mib']:.1f}", "0"),
        ("with attachments", f"{with_rec['seconds']:.1f}", f"{with_rec['rss_mib']:.1f}",
         str(with_rec["attached"])),
    ]  # fmt: skip
    print(harness.table(rows, ("run", "seconds", "peak RSS MiB", "attached")))
    print(
        f"{args.calls} recordings of {size / 2**20:.0f} MiB: peak RSS grows by {growth:.1f} MiB "
        f"(target ≤ {TARGET_MIB:.0f} MiB)"
    )
    print(f"written: {harness.save('recordings_memory', result)}")
    ok = growth <= TARGET_MIB and with_rec["attached"] == args.calls and with_rec["intact"]
    return 0 if ok else 1


def _export(sb: Sandbox, path: Path, calls: int, size: int) -> Path:
    kyiv = ZoneInfo("Europe/Kyiv")
    start = datetime.now(kyiv).replace(tzinfo=None) - timedelta(hours=3)
    lines = [";".join(COLUMNS)]
    for i in range(calls):
        rid = f"mem-{i:04d}"
        link = sb.recordings.put({"uniqueid": rid, "size": size})["recording"]
        when = (start + timedelta(minutes=2 * i)).strftime("%Y-%m-%d %H:%M:%S")
        row = (rid, when, "in", "ANSWERED", f"+38067{5550000 + i}", "+380443334455", "90",
               "100", link)  # fmt: skip
        lines.append(";".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(sb: Sandbox, root: Path, args: Any, size: int, *, attach: bool) -> dict[str, Any]:
    profile = harness.Profile(sb, root / "home")
    profile.setup(concurrency=args.concurrency, links={})
    profile.must("config", "set", "recordings.attach", "true" if attach else "false")
    profile.must("config", "set", "ringostat.api_url", sb.url)
    export = _export(sb, root / "calls.csv", args.calls, size)
    run = profile.run("sync", "--json", str(export), timeout=1800)
    if run.code != 0:
        raise SystemExit(f"sync exited {run.code}:\n{run.stderr[-2000:]}")
    data = run.json()
    if data["delivered"] != args.calls:
        raise SystemExit(f"expected {args.calls} calls delivered, got {data['delivered']}")
    attached = sb.attachments.all()
    intact = all(
        int(a["size"]) == size and a["sha256"] == digest_of(str(a["name"])[3:-4], "mp3", size)
        for a in attached
    )
    return {
        "seconds": round(run.seconds, 2),
        "rss_mib": round(run.max_rss_kib / 1024, 1),
        "attached": len(attached),
        "intact": intact,
        "recordings": data.get("recordings"),
    }


if __name__ == "__main__":
    sys.exit(main())
