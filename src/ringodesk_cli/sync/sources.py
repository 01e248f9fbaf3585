"""Where a sync's calls come from: files named on the command line, or the inbox folder.

Inbox files are tracked by content hash in the ledger: a file is read again only when its
content changed, so cron can run every few minutes over a folder that only grows.

A file that cannot be read as an export fails alone: it is reported with the reason, the
other files are read, and in the inbox it is moved to ``.failed/`` beside a
``<name>.reason.txt``, so that it never blocks a later run. Each file is read twice: a first
pass checks it whole (a file broken half-way adds no rows) and finds the Ringostat ids seen
more than once with different content; the second yields the records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from ringodesk_cli.errors import InputError, UsageError
from ringodesk_cli.ledger.store import Ledger
from ringodesk_cli.ringostat.exports import (
    export_rows,
    file_digest,
    is_symlink_loop,
    read_export,
)
from ringodesk_cli.ringostat.records import BadRow, CallRecord, Outcome

EXPORT_SUFFIXES = (".csv", ".json", ".txt")
FAILED_DIR = ".failed"  # inside the inbox: files that could not be read, with their reason


@dataclass
class SourcePlan:
    files: list[Path]
    digests: dict[Path, str] = field(default_factory=dict)
    unchanged: list[Path] = field(default_factory=list)
    api: bool = False  # calls come from Ringostat's calls/list (source.kind = "api")
    inbox: Path | None = None  # set for source.kind = "inbox": failed files go aside there


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
        folders = [str(p) for p in files if p.is_dir()]
        if folders:
            raise UsageError(
                f"a folder, not an export file: {', '.join(folders)}",
                hint="name the files in it (ringodesk sync FOLDER/*.csv), or set "
                "source.kind = inbox and source.inbox = FOLDER",
            )
        # A symlink loop is read (and fails) as a file: its own message, not "no such file".
        missing = [str(p) for p in files if not p.is_file() and not is_symlink_loop(p)]
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
        plan = SourcePlan(files=[], inbox=folder)
        # lstat: a symlink loop in the folder must not stop the listing.
        for path in sorted(folder.iterdir(), key=lambda p: (p.lstat().st_mtime, p.name)):
            if path.suffix.lower() not in EXPORT_SUFFIXES:
                continue
            if is_symlink_loop(path):
                plan.files.append(path)  # read_all names it and sets it aside, never silent
                continue
            if not path.is_file():
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


class ReadReport(Protocol):
    """Where reading reports what is not a row: the run's summary."""

    def file_failed(self, text: str) -> None: ...

    def file_empty(self, text: str) -> None: ...

    def notice(self, text: str) -> None: ...


def read_all(
    files: list[Path],
    *,
    timezone: ZoneInfo,
    default_region: str,
    columns: Mapping[str, str],
    report: ReadReport | None = None,
    plan: SourcePlan | None = None,
    set_aside: bool = False,
) -> Iterator[CallRecord | BadRow]:
    """The records of ``files``. A file that cannot be read is given to ``report`` (without
    one: raised) and skipped; with ``set_aside`` and an inbox ``plan`` it is moved aside and
    dropped from ``plan.digests`` (so a fixed copy put back is read)."""
    seen = _Duplicates()
    good: list[Path] = []
    for path in files:
        try:
            rows = seen.scan(path, columns)
        except (InputError, OSError) as exc:
            if report is None:
                raise
            _failed(path, exc, report, plan if set_aside else None)
            continue
        good.append(path)
        if rows == 0 and report is not None:
            report.file_empty(f"{path}: no calls in this file")
    held: dict[str, list[CallRecord]] = {}
    for path in good:
        try:
            for item in read_export(
                path, timezone=timezone, default_region=default_region, columns=columns
            ):
                if isinstance(item, CallRecord) and item.ringostat_id in seen.conflicts:
                    held.setdefault(item.ringostat_id, []).append(item)
                else:
                    yield item
        except (InputError, OSError) as exc:  # changed since the first pass
            if report is None:
                raise
            _failed(path, exc, report, plan if set_aside else None)
    for rid, records in held.items():
        yield from resolve_duplicates(rid, records, report)


class _Duplicates:
    """First pass: each row's content by Ringostat id, as read (a cheap hash of the raw
    fields); ids seen with different content are settled on the records (second pass)."""

    def __init__(self) -> None:
        self._content: dict[str, int] = {}
        self.conflicts: set[str] = set()

    def scan(self, path: Path, columns: Mapping[str, str]) -> int:
        rows = 0
        for row in export_rows(path, columns):
            rows += 1
            if isinstance(row.fields, BadRow):
                continue
            rid = (row.fields.get("uniqueid") or "").strip()
            if not rid:
                continue
            content = hash(tuple(sorted(row.fields.items())))
            if self._content.setdefault(rid, content) != content:
                self.conflicts.add(rid)
        return rows


def resolve_duplicates(
    rid: str, records: list[CallRecord], report: ReadReport | None
) -> Iterator[CallRecord | BadRow]:
    """One Ringostat id read more than once in a run with different content. A completed
    call wins over the IN PROGRESS states before it (a later state of the same call);
    two different completed versions cannot both be right, so every row of the id is
    quarantined. Either way it is reported."""
    distinct: dict[str, CallRecord] = {}
    for record in records:
        distinct.setdefault(record.content_hash(), record)
    versions = list(distinct.values())
    if len(versions) == 1:
        yield versions[-1]
        return
    where = [f"{r.source}:{r.line}" for r in records]
    completed = [r for r in versions if r.outcome is not Outcome.IN_PROGRESS]
    if len(completed) <= 1:
        kept = completed[0] if completed else versions[-1]
        state = "completed call" if completed else "last IN PROGRESS state"
        if report is not None:
            report.notice(
                f"{rid}: read {len(records)} times with different content ({', '.join(where)}); "
                f"kept the {state} from {kept.source}:{kept.line}"
            )
        yield kept
        return
    for record in records:
        others = ", ".join(w for w in where if w != f"{record.source}:{record.line}")
        yield BadRow(
            record.source,
            record.line,
            rid,
            None,
            f"the same Ringostat id with different content at {others}: neither is sent",
        )


def _failed(path: Path, exc: Exception, report: ReadReport, plan: SourcePlan | None) -> None:
    if isinstance(exc, InputError):
        reason = exc.message.removeprefix(f"{path}: ").removeprefix(f"{path}:")
        reason += f"; {exc.hint}" if exc.hint else ""
    else:
        reason = f"cannot read the file ({getattr(exc, 'strerror', None) or exc})"
    text = f"{path}: {reason}"
    if plan is not None and plan.inbox is not None:
        plan.digests.pop(path, None)
        try:
            moved = set_aside(path, plan.inbox, reason)
            text += f" (moved to {moved})"
        except OSError as move_error:
            text += f" (could not move it aside: {move_error.strerror or move_error})"
    report.file_failed(text)


def set_aside(path: Path, inbox: Path, reason: str) -> Path:
    """Move an inbox file that cannot be read into ``inbox/.failed/`` with its reason."""
    folder = inbox / FAILED_DIR
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    note = folder / f"{path.name}.reason.txt"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    note.write_text(
        f"{reason}\n\nMoved here by ringodesk sync at {when}. Fix or re-export the file, "
        f"then move it back into {inbox} (and delete this note).\n",
        encoding="utf-8",
    )
    os.replace(path, target)
    return target


def failed_inbox_files(inbox: Path) -> list[Path]:
    """The files set aside in ``inbox/.failed/`` (their reason notes excluded)."""
    folder = inbox / FAILED_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".reason.txt"))
