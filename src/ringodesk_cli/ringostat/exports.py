"""Readers for Ringostat call-log files: calls/list CSV and JSON, and web-interface exports.

Formats (/work/shared/reference/ringostat.md §2): calls/list CSV is ``;``-separated with API
field names as headers; calls/list JSON is a top-level array of objects keyed by field names.
Exports saved from the web interface carry localised headers (see ``columns``), may be
``,``-separated, and come in UTF-8 (with or without a BOM) or, from older Windows tools, in
cp1251.

Everything streams: a file is read a chunk or a row at a time, so memory stays flat however
large the export (issue 5, item 1).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from ringodesk_cli.errors import InputError
from ringodesk_cli.ringostat.columns import resolve_headers
from ringodesk_cli.ringostat.records import BadRow, CallRecord, RowError, record_from_fields

_CHUNK = 1 << 16

# Without these no row can become a call; a file missing one is refused as a whole.
REQUIRED_FIELDS: dict[str, str] = {
    "uniqueid": "the call id",
    "calldate": "the call date",
    "call_type": "the call type",
    "disposition": "the call status",
    "caller": "the caller's number",
    "dst": "the number called",
}


def file_digest(path: Path) -> str:
    """SHA-256 of the file's content, streamed (the inbox skips files it has already read)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` with a BOM; ``utf-8`` when every byte decodes; else ``cp1251``.

    The whole file is checked (streamed), because a UTF-8 file may be pure ASCII for
    thousands of rows before its first Cyrillic name.
    """
    with path.open("rb") as handle:
        head = handle.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(head)
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1251"
    return "utf-8"


def read_export(
    path: Path,
    *,
    timezone: ZoneInfo,
    default_region: str,
    columns: Mapping[str, str] = {},
) -> Iterator[CallRecord | BadRow]:
    """Yield a ``CallRecord`` or a ``BadRow`` for every call in ``path``, in file order.

    ``columns`` is the profile's ``[source.columns]`` (export header -> API field name). A file
    that cannot be read, or lacks a required column, raises ``InputError`` before the first
    record; a bad row becomes a ``BadRow`` and reading goes on.
    """
    source = str(path)
    try:
        encoding = detect_encoding(path)
        handle = path.open("r", encoding=encoding, errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"{source}: cannot read the file ({exc.strerror or exc})") from None
    with handle:
        first = _first_significant_char(handle)
        if first == "":
            return
        if first == "[":
            rows = _json_rows(handle, source, columns)
        elif first == "{":
            raise InputError(
                f"{source}: a JSON object, not the array of calls calls/list returns",
                hint="save the calls/list answer as it came (export_type=json)",
            )
        else:
            rows = _csv_rows(handle, source, columns)
        for line, fields in rows:
            if isinstance(fields, BadRow):
                yield fields
                continue
            try:
                yield record_from_fields(
                    fields,
                    source=source,
                    line=line,
                    timezone=timezone,
                    default_region=default_region,
                )
            except RowError as exc:
                rid = (fields.get("uniqueid") or "").strip() or None
                yield BadRow(source, line, rid, exc.field, exc.reason)


def _first_significant_char(handle: IO[str]) -> str:
    """Peek at the first non-blank character, then rewind (``utf-8-sig`` skips the BOM)."""
    while True:
        chunk = handle.read(256)
        if not chunk:
            handle.seek(0)
            return ""
        stripped = chunk.lstrip("\ufeff \t\r\n")
        if stripped:
            handle.seek(0)
            return stripped[0]


def _check_required(fields: list[str], source: str, headers: list[str]) -> None:
    for name, meaning in REQUIRED_FIELDS.items():
        if name not in fields:
            shown = ", ".join(repr(h) for h in headers[:30])
            raise InputError(
                f"{source}: no column for {name!r} ({meaning}); the file has: {shown}",
                hint=f"map the header that holds it in [source.columns], e.g. "
                f'"<header>" = "{name}"',
            )


# --- CSV -------------------------------------------------------------------------------------

Row = tuple[int, dict[str, str] | BadRow]


def _csv_rows(handle: IO[str], source: str, columns: Mapping[str, str]) -> Iterator[Row]:
    header_line = handle.readline()
    delimiter = _delimiter(header_line)
    handle.seek(0)
    lines = _LinesTaken(handle)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        headers = next(reader)
    except csv.Error as exc:
        raise InputError(f"{source}:1: the header row cannot be read ({exc})") from None
    headers = [h.replace("\ufeff", "") for h in headers]
    fields = resolve_headers(headers, columns)
    _check_required(fields, source, headers)
    width = len(fields)
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        lines.taken.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous_end = reader.line_num
            limit = csv.field_size_limit()
            column = _oversized_column("".join(lines.taken), delimiter, limit)
            if column is not None and column < width:
                reason = f"longer than the csv module's limit of {limit} characters"
                yield start, BadRow(source, start, None, fields[column], reason)
            else:
                yield start, BadRow(source, start, None, None, f"the row cannot be read ({exc})")
            continue
        previous_end = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            reason = f"{len(row)} values for {width} columns (a stray {delimiter!r}?)"
            rid = dict(zip(fields, row, strict=False)).get("uniqueid") or None
            yield start, BadRow(source, start, rid, None, reason)
            continue
        yield start, dict(zip(fields, row, strict=False))


class _LinesTaken:
    """The file's lines as the csv reader takes them, keeping those of the current row so
    that a row the reader refuses can be looked at again (to name the field at fault)."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self.taken: list[str] = []

    def __iter__(self) -> _LinesTaken:
        return self

    def __next__(self) -> str:
        line = next(self._handle)
        self.taken.append(line)
        return line


def _oversized_column(text: str, delimiter: str, limit: int) -> int | None:
    """The index of the first field of ``text`` (one CSV row) longer than ``limit``."""
    column, size, quoted, i = 0, 0, False, 0
    while i < len(text):
        char = text[i]
        if quoted and char == '"':
            if text.startswith('""', i):
                i += 1
                size += 1
            else:
                quoted = False
        elif quoted:
            size += 1
        elif char == '"' and size == 0:
            quoted = True
        elif char == delimiter:
            column, size = column + 1, 0
        elif char not in "\r\n":
            size += 1
        if size > limit:
            return column
        i += 1
    return None


def _delimiter(header_line: str) -> str:
    """``;`` (calls/list), ``,`` (spreadsheets) or a tab: whichever splits the header most."""
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


# --- JSON ------------------------------------------------------------------------------------


def _json_rows(handle: IO[str], source: str, columns: Mapping[str, str]) -> Iterator[Row]:
    """The objects of a top-level JSON array, one at a time, with the line each starts on."""
    decoder = json.JSONDecoder()
    reader = _JsonBuffer(handle)
    reader.expect("[", source)
    fields_for: dict[tuple[str, ...], list[str]] = {}
    checked = False
    while True:
        char = reader.next_significant()
        if char == "]":
            return
        if char == ",":
            reader.pos += 1
            continue
        if char == "":
            raise InputError(f"{source}:{reader.line}: the JSON array is not closed")
        line = reader.line
        value = reader.decode(decoder, source)
        if not isinstance(value, dict):
            yield line, BadRow(source, line, None, None, "an array item that is not an object")
            continue
        keys = tuple(str(k) for k in value)
        if keys not in fields_for:
            fields_for[keys] = resolve_headers(keys, columns)
        names = fields_for[keys]
        if not checked:
            # The first call tells which fields the export asked calls/list for.
            _check_required(names, source, list(keys))
            checked = True
        yield line, {n: json_text(v) for n, v in zip(names, value.values(), strict=True)}


def json_text(value: Any) -> str:
    """A JSON value as the text a calls/list CSV would hold (shared with the API client, so
    a JSON answer and a saved file give identical records and content hashes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class _JsonBuffer:
    """A sliding window over the text: holds one object (plus a chunk) at a time."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        # Drop what was consumed so the buffer never grows with the file.
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def next_significant(self) -> str:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in "\ufeff \t\r\n":
                if self.buffer[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str, source: str) -> None:
        if self.next_significant() != char:
            raise InputError(f"{source}: not a JSON array of calls")
        self.pos += 1

    def decode(self, decoder: json.JSONDecoder, source: str) -> Any:
        while True:
            try:
                value, end = decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue
                line = self.line + self.buffer.count("\n", self.pos, exc.pos)
                raise InputError(f"{source}:{line}: broken JSON ({exc.msg})") from None
            # A value that ends exactly at the buffer's end may be cut (a number): read on.
            if end >= len(self.buffer) and self._more():
                continue
            self.line += self.buffer.count("\n", self.pos, end)
            self.pos = end
            return value
