"""Where a sync's calls come from: files named on the command line, or the inbox folder.

Inbox files are tracked by content hash in the ledger: a file is read again only when its
content changed, so cron can run every few minutes over a folder that only grows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ringodesk_cli.errors import InputError, UsageError
from ringodesk_cli.ringostat.exports import file_digest, read_export
from ringodesk_cli.ringostat.records import BadRow, CallRecord
from ringodesk_cli.sync.ledger import Ledger

EXPORT_SUFFIXES = (".csv", ".json", ".txt")


@dataclass
class SourcePlan:
    files: list[Path]
    digests: dict[Path, str] = field(default_factory=dict)
    unchanged: list[Path] = field(default_factory=list)
    api: bool = False  # calls come from Ringostat's calls/list (source.kind = "api")


def plan_sources(
    files: list[Path],
    *,
    kind: str,
    inbox: str | None,
    ledger: Ledger,
    replay: bool = False,
) -> SourcePlan:
    """The files to read. ``replay``: `sync --replay 3d` with no files is the cron form of
    re-sending what is pending, so with ``source.kind = files`` it reads nothing."""
    if files:
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise UsageError(f"no such export file: {', '.join(missing)}")
        return SourcePlan(files=list(files))
    if kind == "inbox":
        if not inbox:
            raise UsageError(
                "source.kind is inbox but source.inbox is not set",
                hint="ringodesk config set source.inbox /path/to/folder",
            )
        folder = Path(inbox).expanduser()
        if not folder.is_dir():
            raise InputError(f"{folder}: the inbox folder does not exist")
        plan = SourcePlan(files=[])
        for path in sorted(folder.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
            if not path.is_file() or path.suffix.lower() not in EXPORT_SUFFIXES:
                continue
            digest = file_digest(path)
            if ledger.file_digest(str(path.resolve())) == digest:
                plan.unchanged.append(path)
                continue
            plan.files.append(path)
            plan.digests[path] = digest
        return plan
    if replay and kind == "files":
        return SourcePlan(files=[])
    if kind == "api":
        return SourcePlan(files=[], api=True)
    raise UsageError(
        "no export files given",
        hint="run `ringodesk sync FILE...`, or set source.kind = inbox and source.inbox",
    )


def read_all(
    files: list[Path], *, timezone: ZoneInfo, default_region: str, columns: Mapping[str, str]
) -> Iterator[CallRecord | BadRow]:
    for path in files:
        yield from read_export(
            path, timezone=timezone, default_region=default_region, columns=columns
        )
