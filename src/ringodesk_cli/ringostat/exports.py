"""Readers for Ringostat call-log files: calls/list CSV and JSON, and web-interface exports.

Formats: calls/list CSV is ``;``-separated with API field names as headers; calls/list JSON
is a top-level array of objects keyed by field names. Exports saved from the web interface
carry localised headers (see ``columns``), may be ``,``-separated, and come in UTF-8 (with or
without a BOM) or, from older Windows tools, in cp1251 (decided per file: ``encodings``).

Everything streams: a file is read a chunk or a row at a time, so memory stays flat however
large the export.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from ringodesk_cli.errors import InputError
from ringodesk_cli.ringostat.columns import resolve_headers
from ringodesk_cli.ringostat.encodings import SURROGATE, FileEncoding, detect
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
    """``utf-8-sig`` with a BOM, ``cp1251`` for a file that is cp1251 throughout, else
    ``utf-8`` (rows holding bytes that do not decode are refused one by one)."""
    return detect(path).name


def read_export(
    path: Path,
    *,
    timezone: ZoneInfo,
    default_region: str,
    columns: Mapping[str, str] = {},
    now: datetime | None = None,
) -> Iterator[CallRecord | BadRow]:
    """Yield a ``CallRecord`` or a ``BadRow`` for every call in ``path``, in file order.

    ``columns`` is the profile's ``[source.columns]`` (export header -> API field name). A file
    that cannot be read as an export (no text, no array, a required column missing) raises
    ``InputError``, before the first record unless it breaks further on (broken JSON); a bad
    row becomes a ``BadRow`` and reading goes on.
    """
    source = str(path)
    for row in export_rows(path, columns):
        if isinstance(row.fields, BadRow):
            yield row.fields
            continue
        try:
            yield record_from_fields(
                row.fields,
                source=source,
                line=row.line,
                timezone=timezone,
                default_region=default_region,
                now=now,
            )
        except RowError as exc:
            yield row.bad(source, exc.field, exc.reason)


@dataclass(frozen=True)
class Row:
    """One call's fields keyed by API field names (or why it cannot be read), with where it
    starts: the line, and for JSON the item's index in the array (from 0, as ``jq .[7]``)."""

    line: int
    fields: dict[str, str] | BadRow
    item: int | None = None

    def bad(self, source: str, field: str | None, reason: str) -> BadRow:
        fields = self.fields if isinstance(self.fields, dict) else {}
        rid = (fields.get("uniqueid") or "").strip() or None
        return BadRow(source, self.line, rid, field, reason, item=self.item)


def is_symlink_loop(path: Path) -> bool:
    """Whether ``path`` is a symbolic link that leads back to itself, never to a file."""
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def symlink_loop(path: Path) -> str:
    return (
        f"{path}: a symbolic link that leads back to itself (a symlink loop), never to a "
        "file: point it at the export, or name the export itself"
    )


def export_rows(path: Path, columns: Mapping[str, str] = {}) -> Iterator[Row]:
    """The rows of an export file before they become calls (see ``read_export``)."""
    source = str(path)
    if path.is_dir():
        raise InputError(
            f"{source}: a folder, not an export file",
            hint="name the export files in it, or set source.kind = inbox and source.inbox",
        )
    try:
        encoding = detect(path)
        handle = path.open("r", encoding=encoding.name, errors=encoding.errors, newline="")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(symlink_loop(path)) from None
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
            rows = _csv_rows(handle, source, columns, encoding)
        check = encoding.bad_count > 0 or first == "["
        for row in rows:
            yield _undecodable(row, source, encoding) if check else row


def _undecodable(row: Row, source: str, encoding: FileEncoding) -> Row:
    """A row holding a byte that did not decode (or an unpaired surrogate) is refused,
    naming the field: such text cannot be sent as it was written."""
    if isinstance(row.fields, BadRow):
        return row
    for name, value in row.fields.items():
        if SURROGATE.search(value) or SURROGATE.search(name):
            reason = encoding.reason_for(row.line)
            if reason == f"invalid {encoding.label}":
                reason = "holds text that is not valid Unicode (an unpaired surrogate)"
            field = None if SURROGATE.search(name) else name
            return Row(row.line, row.bad(source, field, reason), row.item)
    return row


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


def _csv_rows(
    handle: IO[str], source: str, columns: Mapping[str, str], encoding: FileEncoding
) -> Iterator[Row]:
    skip, delimiter = _header_position(handle, columns)
    handle.seek(0)
    lines = _LinesTaken(handle)
    for _ in range(skip):  # a title above the header (Excel), taken as plain lines
        next(lines)
    reader = csv.reader(lines, delimiter=delimiter)
    at = skip + 1  # the header's line
    try:
        headers = next(reader)
    except csv.Error as exc:
        raise InputError(f"{source}:{at}: the header row cannot be read ({exc})") from None
    headers = [h.replace("\ufeff", "") for h in headers]
    if any(SURROGATE.search(h) for h in headers):
        raise InputError(f"{source}:{at}: the header row holds {encoding.reason_for(at)}")
    fields = resolve_headers(headers, columns)
    _check_required(fields, source, headers)
    width = len(fields)
    previous_end = skip + reader.line_num
    while True:
        start = previous_end + 1
        lines.taken.clear()
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous_end = skip + reader.line_num
            limit = csv.field_size_limit()
            column = _oversized_column("".join(lines.taken), delimiter, limit)
            if column is not None and column < width:
                reason = f"longer than the csv module's limit of {limit} characters"
                yield Row(start, BadRow(source, start, None, fields[column], reason))
            else:
                reason = f"the row cannot be read ({exc})"
                yield Row(start, BadRow(source, start, None, None, reason))
            continue
        previous_end = skip + reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        values = dict(zip(fields, row, strict=False))
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            reason = f"{len(row)} values for {width} columns (a stray {delimiter!r}?)"
            yield Row(start, Row(start, values).bad(source, None, reason))
            continue
        if len(row) < width:
            # A missing value would shift or blank the columns after it: never guess which.
            reason = f"{len(row)} values for {width} columns (a value or a {delimiter!r} missing?)"
            yield Row(start, Row(start, values).bad(source, None, reason))
            continue
        yield Row(start, values)


# Excel puts a report title (and maybe a date range) above the header: the header is the
# first of these lines that names every required column.
HEADER_SEARCH_LINES = 5


def _header_position(handle: IO[str], columns: Mapping[str, str]) -> tuple[int, str]:
    """(lines above the header, the delimiter); (0, the first line's) when no line of the
    first few names every required column (the first is then reported as the header)."""
    handle.seek(0)
    found: list[tuple[int, str]] = []
    for index in range(HEADER_SEARCH_LINES):
        line = handle.readline(1 << 16)
        if not line:
            break
        delimiter = _delimiter(line)
        found.append((index, delimiter))
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        fields = resolve_headers([c.replace("\ufeff", "") for c in cells], columns)
        if all(name in fields for name in REQUIRED_FIELDS):
            return index, delimiter
    return found[0] if found else (0, ";")


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
    item = -1
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
        item += 1
        value = reader.decode(decoder, source)
        if not isinstance(value, dict):
            reason = "an array item that is not an object"
            yield Row(line, BadRow(source, line, None, None, reason, item=item), item)
            continue
        keys = tuple(str(k) for k in value)
        if keys not in fields_for:
            fields_for[keys] = resolve_headers(keys, columns)
        names = fields_for[keys]
        if not checked:
            # The first call tells which fields the export asked calls/list for.
            _check_required(names, source, list(keys))
            checked = True
        yield Row(line, {n: json_text(v) for n, v in zip(names, value.values(), strict=True)}, item)


def json_text(value: Any) -> str:
    """A JSON value as the text a calls/list CSV would hold (shared with the API client, so
    a JSON answer and a saved file give identical records and content hashes). ``null`` is
    an empty value, also inside an object or array: ``{"url": null}`` is no link."""
    if isinstance(value, dict | list):
        value = _without_nulls(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _without_nulls(value: Any) -> Any:
    """``value`` with its nulls and empty strings dropped; None when nothing is left."""
    if isinstance(value, dict):
        pairs = ((k, _without_nulls(v)) for k, v in value.items())
        return {k: v for k, v in pairs if v is not None} or None
    if isinstance(value, list):
        items = [v for v in (_without_nulls(v) for v in value) if v is not None]
        return items or None
    return None if value is None or value == "" else value


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
