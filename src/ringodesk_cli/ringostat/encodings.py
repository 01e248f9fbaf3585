"""How an export file's bytes become text: decided per file, by strict decoding.

A file is UTF-8 (with or without a BOM) unless it is cp1251 throughout: nearly every
non-ASCII byte fails to decode as UTF-8, and read as cp1251 those bytes form Cyrillic words.
A UTF-8 file with a few bad bytes stays UTF-8: the reader decodes it with
``surrogateescape`` (each bad byte becomes one lone surrogate), and every row holding one is
quarantined with the byte's offset, so that no text that does not round-trip is delivered.

A file that starts with a UTF-16 byte order mark is UTF-16: what Excel saves as "Unicode
text" (tab-separated). Its unpaired surrogates are kept as such and refuse their rows, as
bad bytes do in UTF-8.

A file that is no text at all (a zip, an Excel workbook, random bytes) is refused before it
is parsed, with what it looks like.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from ringodesk_cli.errors import InputError

_CHUNK = 1 << 16
# Offsets kept per file; a file with more bad bytes than this is not "a few bad bytes".
MAX_BAD_OFFSETS = 10_000

# A lone surrogate in decoded text: a byte that did not decode (``surrogateescape``).
BAD_CHAR = re.compile("[\udc80-\udcff]")
# Any surrogate: also an unpaired one from a JSON ``\\udXXX`` escape; neither can be sent.
SURROGATE = re.compile("[\ud800-\udfff]")

_LETTERS_1251 = bytes(range(0xC0, 0x100)) + bytes(
    [0xA8, 0xB8, 0xAA, 0xBA, 0xAF, 0xBF, 0xB2, 0xB3, 0xA5, 0xB4, 0xA1, 0xA2]
)
# Two or more cp1251 Cyrillic letters in a row: a word, not a stray byte.
_WORD_1251 = re.compile(b"[" + re.escape(_LETTERS_1251) + b"]{2,}")
_ASCII = bytes(range(0x80))

# What other files start with, as people save them by mistake under a .csv name.
_ZIP = "looks like an Excel/zip file: export CSV or JSON"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", _ZIP),
    (b"PK\x05\x06", _ZIP),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "looks like an old Excel (.xls) file: export CSV or JSON",
    ),
    (b"\x1f\x8b", "looks like a gzip archive: unpack it first"),
    (b"%PDF", "looks like a PDF: export CSV or JSON"),
    (b"SQLite format 3\x00", "looks like an SQLite database, not an export"),
)
_CONTROL = bytes(b for b in range(0x20) if b not in b"\t\n\r\f\v\x1a")


@dataclass(frozen=True)
class BadByte:
    offset: int  # from the start of the file, counting from 0
    line: int  # the physical line it is on, counting from 1
    value: int


@dataclass
class FileEncoding:
    """The codec a file is read with, and where its bytes fail to decode."""

    name: str  # "utf-8", "utf-8-sig", "cp1251" or "utf-16"
    bad: list[BadByte] = field(default_factory=list)
    bad_count: int = 0

    @property
    def label(self) -> str:
        return {"cp1251": "cp1251", "utf-16": "UTF-16"}.get(self.name, "UTF-8")

    @property
    def errors(self) -> str:
        """The decoding error handler: what does not decode stays visible as a surrogate."""
        return "surrogatepass" if self.name == "utf-16" else "surrogateescape"

    def reason_for(self, line: int) -> str:
        """Why a row starting on ``line`` that holds an undecodable byte is refused."""
        found = next((b for b in self.bad if b.line >= line), None)
        if found is None:
            return f"invalid {self.label}"
        return f"invalid {self.label} at byte {found.offset} (0x{found.value:02X})"


def refuse_binary(path: Path, head: bytes) -> None:
    """Raise ``InputError`` when the file's first bytes show it is no text export."""
    for magic, reason in _SIGNATURES:
        if head.startswith(magic):
            raise InputError(f"{path}: {reason}")
    nul = head.find(b"\x00")
    controls = len(head) - len(head.translate(None, _CONTROL))
    if nul >= 0 or (head and controls * 100 > len(head)):
        at = nul if nul >= 0 else next(i for i, b in enumerate(head) if b in _CONTROL)
        raise InputError(
            f"{path}: not a text file (binary content at byte {at}): export CSV or JSON",
            hint="Ringostat's call log exports as CSV or JSON; open this file to see what it is",
        )


def detect(path: Path) -> FileEncoding:
    """Scan the whole file (streamed) and decide its encoding; raise ``InputError`` for a
    file that is no text. A UTF-8 file may be pure ASCII for thousands of rows before its
    first Cyrillic name, so no prefix is enough."""
    with path.open("rb") as handle:
        head = handle.read(_CHUNK)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
            codecs.BOM_UTF32_LE
        ):
            return _utf16(path)
        refuse_binary(path, head)
        sig = head.startswith(codecs.BOM_UTF8)
        scan = _Scan("utf-8")
        stats = _Cyrillic1251()
        chunk = head[3:] if sig else head
        offset = 3 if sig else 0
        while chunk:
            scan.feed(chunk, offset)
            stats.feed(chunk)
            offset += len(chunk)
            chunk = handle.read(_CHUNK)
        scan.feed(b"", offset, final=True)
    name = "utf-8-sig" if sig else "utf-8"
    if scan.count and not sig and scan.count > 4 * scan.multibyte and stats.plausible():
        return _cp1251(path)
    return FileEncoding(name, scan.bad, scan.count)


def _utf16(path: Path) -> FileEncoding:
    """Excel's "Unicode text": decoded whole once (streamed) to count unpaired surrogates
    and to refuse a file cut in the middle of a character or holding binary zeros."""
    decoder = codecs.getincrementaldecoder("utf-16")("surrogatepass")
    lone = 0
    offset = 0
    with path.open("rb") as handle:
        try:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                text = decoder.decode(chunk)
                if "\x00" in text:
                    at = offset + 2 * text.index("\x00")
                    raise InputError(
                        f"{path}: not a text file (a zero character in UTF-16 text near byte "
                        f"{at}): export CSV or JSON"
                    )
                lone += len(SURROGATE.findall(text))
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: UTF-16 text cut short (an odd number of bytes): save or export it again"
            ) from None
    return FileEncoding("utf-16", [], lone)


def _cp1251(path: Path) -> FileEncoding:
    """cp1251 leaves one byte (0x98) undefined: a row holding it is refused too."""
    scan = _Scan("cp1251")
    offset = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            scan.feed(chunk, offset)
            offset += len(chunk)
    return FileEncoding("cp1251", scan.bad, scan.count)


class _Scan:
    """Decodes with ``surrogateescape`` and notes every byte that did not decode."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
        self.bad: list[BadByte] = []
        self.count = 0
        self.multibyte = 0  # bytes beyond the first of valid multi-byte characters
        self._line = 1
        self._pending = 0  # bytes held back by the decoder (a character cut by the chunk)

    def feed(self, chunk: bytes, offset: int, *, final: bool = False) -> None:
        text = self._decoder.decode(chunk, final=final)
        start = offset - self._pending  # the file offset of text[0]
        self._pending = len(self._decoder.getstate()[0])
        consumed = len(chunk) + (offset - start) - self._pending
        if BAD_CHAR.search(text) is None:
            self.multibyte += consumed - len(text)
            self._line += text.count("\n")
            return
        position, at = 0, start
        for match in BAD_CHAR.finditer(text):
            self.count += 1
            if len(self.bad) < MAX_BAD_OFFSETS:
                before = text[position : match.start()]
                at += len(before.encode(self._encoding, "surrogateescape"))
                self._line += before.count("\n")
                value = ord(match.group()) - 0xDC00
                self.bad.append(BadByte(at, self._line, value))
                at += 1
                position = match.end()
        tail = text[position:]
        self._line += tail.count("\n")
        self.multibyte += max(0, consumed - len(text))


class _Cyrillic1251:
    """Whether the non-ASCII bytes, read as cp1251, are mostly Cyrillic words."""

    def __init__(self) -> None:
        self.high = 0
        self.in_words = 0

    def feed(self, chunk: bytes) -> None:
        high = len(chunk.translate(None, _ASCII))
        if high:
            self.high += high
            self.in_words += sum(len(m) for m in _WORD_1251.findall(chunk))

    def plausible(self) -> bool:
        return self.high > 0 and self.in_words * 10 >= self.high * 7
