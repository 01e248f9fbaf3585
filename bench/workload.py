"""The standard benchmark workload: seeded, so every run sees the same calls.

10,000 calls over 3 days (today and the two previous days, Europe/Kyiv wall clock), of which
40% come from repeat callers, 20% are missed inbound calls, 5% are answered inbound calls on
an unlinked SIP or number (the senior manager gets a "link this" task), and 10% of the
distinct callers already have a contact in Zoho (pre-created in the sandbox before the run).
The rest are answered calls on linked SIPs; a quarter of the repeat calls are the agent
calling the client back (outbound).

Every caller's *first* call is inbound, so each new caller gets exactly one ticket under the
default `integration.tickets = "new-caller"` (a ticket for a new caller's first call) and the
lower bound is exact for this workload:

    calls + 2 × new callers (contact + ticket) + missed + unlinked (tasks) + distinct numbers
    (one contact search each: none is known locally before the first run)

Only the calendar dates move with the day you run it (the replay window is counted from now);
numbers, kinds, order and ids are fixed by the seed.

    .venv/bin/python bench/workload.py --out /tmp/wl [--calls 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
OUR_NUMBERS = ("+380443334455", "0443334466")
# The calls/list CSV header (as in src/ringodesk_cli/data/sample_calls.csv).
COLUMNS = (
    "uniqueid", "calldate", "call_type", "disposition", "caller", "dst", "billsec", "duration",
    "waittime", "employee_fio", "employee_number", "connected_with", "recording", "call_card",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "client_id",
    "pool_name", "landing",
)  # fmt: skip
# Ringostat SIP -> (employee name, extension, sandbox agent e-mail): linked by the bench.
LINKED = {
    "anna_sip": ("Анна Коваленко", "101", "taras@sandbox.example"),
    "petro_sip": ("Петро Шевчук", "102", "iryna@sandbox.example"),
    "olena_sip": ("Олена Бондар", "103", "petro@sandbox.example"),
}
# Answered on these, nobody is linked: the senior manager gets a "link this" task.
UNLINKED = {"reception_sip": ("Рецепція", "109"), "": ("Черговий", "110")}
SENIOR_MANAGER = "olena@sandbox.example"
MISSED_DISPOSITIONS = ("NO ANSWER", "BUSY", "VOICEMAIL", "CLIENT NO ANSWER", "FAILED")
ANSWERED_DISPOSITIONS = ("ANSWERED", "PROPER", "REPEATED")
OPERATORS = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
UTM = (
    ("google", "cpc", "kitchens_kyiv", "кухні на замовлення", "ad_1", "Google Ads"),
    ("facebook", "paid_social", "spring_sale", "", "carousel", "Facebook"),
    ("google", "organic", "", "", "", "SEO"),
)

SHARES = {"repeat": 0.40, "missed": 0.20, "unlinked": 0.05, "in_zoho": 0.10, "outbound": 0.25}


@dataclass
class Workload:
    seed: int
    calls: int
    rows: list[dict[str, str]]  # export rows, in time order
    in_zoho: list[tuple[str, str]]  # (E.164 number, "phone" | "mobile") to pre-create
    counts: dict[str, int] = field(default_factory=dict)

    def lower_bound(self) -> dict[str, int]:
        c = self.counts
        parts = {
            "calls": c["calls"],
            "contacts": c["new_callers"],
            "tickets": c["new_callers"],
            "tasks": c["missed"] + c["unlinked"],
            "searches": c["distinct_numbers"],
        }
        return {**parts, "total": sum(parts.values())}

    def write(self, folder: Path, *, per_day: bool = True) -> list[Path]:
        """One `;`-separated calls/list CSV per Kyiv day (or one file), as Ringostat sends."""
        folder.mkdir(parents=True, exist_ok=True)
        groups: dict[str, list[dict[str, str]]] = {}
        for row in self.rows:
            key = row["calldate"][:10] if per_day else f"{self.calls}"
            groups.setdefault(key, []).append(row)
        paths = []
        for key, rows in sorted(groups.items()):
            path = folder / f"calls-{key}.csv"
            write_csv(path, rows)
            paths.append(path)
        return paths


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _e164(rng: random.Random) -> str:
    return f"+380{rng.choice(OPERATORS)}{rng.randrange(10**7):07d}"


def _as_exported(number: str, rng: random.Random) -> str:
    """The same number as Ringostat exports show it, in the formats seen in real files."""
    local = "0" + number[4:]
    style = rng.randrange(4)
    if style == 0:
        return number
    if style == 1:
        return number[1:]
    if style == 2:
        return local
    return f"+38 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}"


def _times(n: int, now: datetime, rng: random.Random) -> Iterator[datetime]:
    """n sorted Kyiv wall-clock times from midnight two days ago to a few minutes before now."""
    local_now = now.astimezone(KYIV)
    start = datetime.combine(local_now.date() - timedelta(days=2), datetime.min.time(), KYIV)
    span = (now - timedelta(minutes=5) - start.astimezone(UTC)).total_seconds()
    offsets = sorted(rng.uniform(0, span) for _ in range(n))
    for offset in offsets:
        instant = start.astimezone(UTC) + timedelta(seconds=offset)
        yield instant.astimezone(KYIV).replace(tzinfo=None, microsecond=0)


def _exact(n: int, share: float, rng: random.Random, among: list[int]) -> set[int]:
    return set(rng.sample(among, round(n * share)))


def generate(calls: int = 10_000, seed: int = 1, now: datetime | None = None) -> Workload:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    indices = list(range(calls))
    # Call 0 cannot repeat anyone; the exact shares are drawn among the rest.
    repeat = _exact(calls, SHARES["repeat"], rng, indices[1:])
    outbound = _exact(len(repeat), SHARES["outbound"], rng, sorted(repeat))
    inbound = [i for i in indices if i not in outbound]
    missed = _exact(calls, SHARES["missed"], rng, inbound)
    unlinked = _exact(calls, SHARES["unlinked"], rng, [i for i in inbound if i not in missed])

    callers: list[str] = []
    seen: set[str] = set()
    rows = []
    for i, when in enumerate(_times(calls, now, rng)):
        if i in repeat:
            # Mostly someone who called recently (a caller rings back within the day).
            number = callers[-1 - min(int(rng.expovariate(1 / 300)), len(callers) - 1)]
        else:
            number = _e164(rng)
            while number in seen:
                number = _e164(rng)
            seen.add(number)
            callers.append(number)
        rows.append(_row(i, when, number, i in outbound, i in missed, i in unlinked, seed, rng))

    in_zoho_numbers = rng.sample(callers, round(len(callers) * SHARES["in_zoho"]))
    # A fifth of the existing contacts carry the number as their mobile, not their phone.
    in_zoho = [(n, "mobile" if k % 5 == 4 else "phone") for k, n in enumerate(in_zoho_numbers)]
    counts = {
        "calls": calls,
        "repeat_calls": len(repeat),
        "outbound": len(outbound),
        "missed": len(missed),
        "unlinked": len(unlinked),
        "distinct_numbers": len(callers),
        "in_zoho": len(in_zoho),
        "new_callers": len(callers) - len(in_zoho),
    }
    return Workload(seed, calls, rows, in_zoho, counts)


def _row(
    i: int,
    when: datetime,
    number: str,
    outbound: bool,
    missed: bool,
    unlinked: bool,
    seed: int,
    rng: random.Random,
) -> dict[str, str]:
    rid = f"ua-bench{seed}-{i:06d}"
    ours = rng.choice(OUR_NUMBERS)
    client = _as_exported(number, rng)
    if unlinked:
        sip, (name, ext) = rng.choice(sorted(UNLINKED.items()))
    else:
        sip = rng.choice(sorted(LINKED))
        name, ext, _ = LINKED[sip]
    talk = 0 if missed else rng.randrange(15, 600)
    wait = rng.randrange(2, 40)
    utm = rng.choice(UTM) if rng.random() < 0.5 else ("",) * 5 + ("Основний",)
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        uniqueid=rid,
        calldate=when.strftime("%Y-%m-%d %H:%M:%S"),
        billsec=str(talk),
        duration=str(talk + wait),
        waittime=str(wait),
        call_card=f"https://app.example.com/call-card/{rid}",
        pool_name=utm[5],
    )
    if outbound:
        row.update(call_type="out", disposition="ANSWERED", caller=f'"{name}" <{sip}>', dst=client,
                   employee_fio=name, employee_number=ext)  # fmt: skip
    else:
        row.update(
            call_type="callback" if rng.random() < 0.1 else "in",
            disposition=rng.choice(MISSED_DISPOSITIONS if missed else ANSWERED_DISPOSITIONS),
            caller=client,
            dst=ours,
        )
        if not missed:
            row.update(employee_fio=name, employee_number=ext, connected_with=sip)
    if talk:
        row["recording"] = f"https://recordings.example.com/{rid}.mp3"
    if utm[0]:
        row.update(zip(("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"),
                       utm[:5], strict=True))  # fmt: skip
        row["client_id"] = f"{rng.randrange(10**9)}.{rng.randrange(10**9)}"
        row["landing"] = "https://kuhni.example.com/"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the CSV exports")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one-file", action="store_true", help="one CSV instead of one a day")
    args = parser.parse_args()
    work = generate(args.calls, args.seed)
    paths = work.write(args.out, per_day=not args.one_file)
    print(json.dumps({"files": [str(p) for p in paths], "counts": work.counts,
                      "lower_bound": work.lower_bound()}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
