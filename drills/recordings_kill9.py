"""Drill: kill -9 the sync while it uploads recordings, rerun after each; in the end every
answered call's recording is attached to its call activity exactly once (0 duplicates,
0 missing), with the recording's bytes.

The call activities are delivered first with ``recordings.attach`` off; then it is turned on
and each run has only recordings to attach (every call delivered within
``recordings.retry_days`` is looked at). Kills land after a random number of answered
uploads, so most fall between Zoho's write and the ledger's ``done``: the next run finds the
``attachment`` operation ``intended`` and lists the call's attachments before sending again.
Lenient readings (the list of a call's attachments answers; see docs/zoho-readings.md).

    .venv/bin/python drills/recordings_kill9.py            # 12 kills, 120 calls
    .venv/bin/python drills/recordings_kill9.py --short    # 4 kills, 80 calls (CI)

Up to ``zoho.concurrency`` (5) uploads are in flight when a kill lands, so each kill may use
up to that many recordings beyond its goal: the goals leave that much room for every kill
still to come, or the last kills would find nothing left to interrupt.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path

from callgen import COLUMNS, GenCall
from common import DrillError, Profile, generate_calls, log, sandbox, verdict, workdir

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.recordings import digest_of

NAME = "recordings_kill9"
UPLOADS = "POST /api/v1/calls/{id}/attachments"
SIZE = 256 * 1024
IN_FLIGHT = 5  # zoho.concurrency's default: uploads that may finish after the goal is reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI size: 4 kills, 80 calls")
    parser.add_argument("--kills", type=int, help="kills that must land (default 12 / 4)")
    parser.add_argument("--calls", type=int, help="calls in the export (default 120 / 80)")
    parser.add_argument("--latency-ms", type=int, default=40)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    kills = args.kills or (4 if args.short else 12)
    count = args.calls or (80 if args.short else 120)
    log(f"{NAME}: {kills} kills, {count} calls, latency {args.latency_ms} ms, seed {args.seed}")
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, random.Random(args.seed), kills, count, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _export(sb: Sandbox, path: Path, calls: list[GenCall], rng: random.Random) -> set[str]:
    """The export, each answered call's recording served by the sandbox (one in four behind
    the Auth-key); the ids that have one."""
    lines = [";".join(COLUMNS)]
    with_recording: set[str] = set()
    for call in calls:
        row = call.row()
        if row["recording"]:
            spec = {"uniqueid": call.id, "size": SIZE, "auth": rng.random() < 0.25}
            row["recording"] = sb.recordings.put(spec)["recording"]
            with_recording.add(call.id)
        lines.append(";".join(row[c].replace(";", ",") for c in COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return with_recording


def _uploads(sb: Sandbox) -> int:
    return sb.request_counts().get(UPLOADS, 0)


def _attached(sb: Sandbox) -> Counter[str]:
    """Attachments per file name, counting only those holding the recording's bytes."""
    found: Counter[str] = Counter()
    for item in sb.attachments.all():
        name = str(item["name"])
        rid = name.removeprefix("rs-").removesuffix(".mp3")
        found[rid if item["sha256"] == digest_of(rid, "mp3", SIZE) else f"corrupt:{name}"] += 1
    return found


def _drill(
    sb: Sandbox, root: Path, rng: random.Random, kills: int, count: int, args: argparse.Namespace
) -> int:
    profile = Profile(sb, root)
    profile.setup()
    profile.must("config", "set", "ringostat.api_url", sb.url)
    profile.env["RINGODESK_RINGOSTAT_KEY"] = sb.cfg.ringostat_key
    calls = generate_calls(count, seed=args.seed)
    export = root / "calls.csv"
    expected = _export(sb, export, calls, rng)
    delivered = profile.run("sync", str(export), "--json")
    if delivered.code != 0:
        raise DrillError(f"the first sync exited {delivered.code}: {delivered.stderr[-500:]}")
    profile.must("config", "set", "recordings.attach", "true")
    sb.set_faults(latency_ms=args.latency_ms)
    landed = attempts = 0
    started = time.monotonic()
    while landed < kills and attempts < kills * 3:
        attempts += 1
        to_come = kills - landed
        room = len(expected) - _uploads(sb) - IN_FLIGHT * to_come
        step = rng.randint(1, max(1, room // (to_come + 1)))
        goal = _uploads(sb) + step
        run = profile.spawn("sync", str(export), "--json")
        spawned = time.monotonic()
        while _uploads(sb) < goal and run.proc.poll() is None and time.monotonic() - spawned < 60:
            time.sleep(0.002)
        hit = run.kill9()
        landed += int(hit)
        dups = sum(n - 1 for n in _attached(sb).values() if n > 1)
        log(
            f"  run {attempts}: {'killed after ' + str(step) + ' uploads' if hit else 'finished'}"
            f" in {time.monotonic() - spawned:.2f} s; uploads {_uploads(sb)}; "
            f"attached {len(_attached(sb))}/{len(expected)}; duplicates so far {dups}"
        )
    finals = [profile.run("sync", str(export), "--json").code for _ in range(2)]
    sb.set_faults(latency_ms=0)
    before_rerun = _uploads(sb)
    rerun = profile.run("sync", str(export), "--json")
    found = _attached(sb)
    duplicates = {k: n for k, n in found.items() if n > 1}
    missing = sorted(expected - set(found))
    extra = sorted(set(found) - expected)
    leftovers = [str(p) for p in profile.home.rglob("rs-recording-*.part")]
    for what, items in (
        ("duplicate", duplicates),
        ("missing", missing),
        ("unexpected", extra),
        ("temporary file left", leftovers),
    ):
        if items:
            log(f"  {what}: {list(items)[:10]}")
    ok = (
        landed >= kills
        and finals[-1] == 0
        and rerun.code == 0
        and _uploads(sb) == before_rerun
        and not duplicates
        and not missing
        and not extra
        and not leftovers
    )
    return verdict(
        NAME,
        ok,
        f"{landed} kills landed in {attempts} runs, final exit codes {[*finals, rerun.code]}, "
        f"{time.monotonic() - started:.1f} s; {len(expected)} recordings: "
        f"{len(found)} attached, {len(duplicates)} duplicated, {len(missing)} missing; "
        f"{_uploads(sb)} uploads sent",
        root=root,
    )


if __name__ == "__main__":
    raise SystemExit(main())
