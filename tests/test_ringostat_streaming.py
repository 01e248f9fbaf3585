"""Readers stream: a 200k-row export is read through the iterator with flat memory."""

from __future__ import annotations

import json
import sys
import tracemalloc
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from ringodesk_cli.ringostat.exports import read_export
from ringodesk_cli.ringostat.records import CallRecord

KYIV = ZoneInfo("Europe/Kyiv")
ROWS = 200_000


def big_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("uniqueid;calldate;call_type;disposition;caller;dst;billsec;duration;"
                     "employee_fio\n")  # fmt: skip
        for i in range(ROWS):
            # 500 distinct callers: repeat callers, as in real call logs.
            handle.write(
                f"ua-{i};2024-05-14 {i % 24:02d}:{i % 60:02d}:00;in;ANSWERED;"
                f"+38067{i % 500:07d};0443334455;{i % 300};{i % 300 + 5};Анна Коваленко\n"
            )
    return path


def test_200k_row_export_streams_with_flat_memory(tmp_path: Path) -> None:
    path = big_csv(tmp_path / "big.csv")
    size = path.stat().st_size
    assert size > 15_000_000

    # Part 1: the reader never holds the file: reading its start (after the encoding check,
    # which scans the whole file) allocates a small fraction of the file's size.
    tracemalloc.start()
    try:
        read = sum(1 for _ in islice(read_export(path, timezone=KYIV, default_region="UA"), 2000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == 2000
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"

    # Part 2: all 200k rows through the iterator; the number of live memory blocks after the
    # last row is about what it was early on, so nothing accumulates per row.
    count = 0
    early_blocks = 0
    last: CallRecord | None = None
    for item in read_export(path, timezone=KYIV, default_region="UA"):
        assert isinstance(item, CallRecord)
        count += 1
        if count == 5000:
            early_blocks = sys.getallocatedblocks()
        last = item
    late_blocks = sys.getallocatedblocks()
    assert count == ROWS
    assert last is not None and last.ringostat_id == f"ua-{ROWS - 1}"
    # Keeping the rows would add millions of blocks (a record is dozens of objects).
    assert late_blocks - early_blocks < 20_000


def test_json_array_streams_object_by_object(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    landing = "https://kuhni.example.com/" + "x" * 300
    call = {"uniqueid": "", "calldate": "2024-05-14 10:00:00", "call_type": "in",
            "disposition": "ANSWERED", "caller": "0671234567", "dst": "0443334455",
            "billsec": 42, "duration": 50, "landing": landing}  # fmt: skip
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for i in range(20_000):
            handle.write(("," if i else "") + "\n" + json.dumps({**call, "uniqueid": f"j{i}"}))
        handle.write("\n]\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        lines = [r.line for r in islice(read_export(path, timezone=KYIV, default_region="UA"), 500)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines[:3] == [2, 3, 4] and len(lines) == 500
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"
    assert sum(1 for _ in read_export(path, timezone=KYIV, default_region="UA")) == 20_000
