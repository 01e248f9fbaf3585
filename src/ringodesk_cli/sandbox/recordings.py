"""Ringostat's call recordings, as the sandbox serves them: ``GET /recordings/<uniqueid>.mp3``
(and ``.wav``), generated audio bytes of a chosen size, streamed in pieces.

Each recording is set up through the admin API, ``POST /__sandbox__/recordings`` with
``{"uniqueid", "size" (bytes), "missing", "auth", "delay", "hide_length"}``, which answers the
two links to put in a call's ``recording`` and ``recording_wav``. ``missing``: 404 (not made
yet, or deleted by retention); ``auth``: 401 unless the request carries the project's
``Auth-key``; ``delay``: seconds before the answer starts (a slow store); ``hide_length``: no
Content-Length (the client must count what it reads). A link of an unknown id is 404.
``GET /__sandbox__/recordings`` lists them with how often each was fetched.

Nothing is kept in memory but the settings: the bytes are generated as they are sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

PREFIX = "/recordings/"
_PIECE = 64 * 1024
_HEADS = {"mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00", "wav": b"RIFF\x00\x00\x00\x00WAVEfmt "}


@dataclass
class RecordingSpec:
    uniqueid: str
    size: int = 200_000
    missing: bool = False
    auth: bool = False
    delay: float = 0.0
    hide_length: bool = False
    fetched: int = 0


def audio_bytes(uniqueid: str, ext: str, size: int) -> Iterator[bytes]:
    """The recording's bytes, in pieces: a format header, then a repeated pseudo-random
    block derived from the id (the same bytes each time)."""
    block = hashlib.sha256(uniqueid.encode()).digest() * (_PIECE // 32)
    head = _HEADS.get(ext, b"")[:size]
    if head:
        yield head
    left = size - len(head)
    while left > 0:
        piece = block[: min(left, _PIECE)]
        left -= len(piece)
        yield piece


def digest_of(uniqueid: str, ext: str, size: int) -> str:
    """The SHA-256 of what ``audio_bytes`` serves, for tests comparing an attachment."""
    h = hashlib.sha256()
    for piece in audio_bytes(uniqueid, ext, size):
        h.update(piece)
    return h.hexdigest()


class RecordingShelf:
    """The recordings the sandbox serves. Thread-safe."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._lock = threading.Lock()
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._specs: dict[str, RecordingSpec] = {}

    def put(self, body: dict[str, Any]) -> dict[str, str]:
        uniqueid = str(body.get("uniqueid") or "").strip()
        if not uniqueid or "/" in uniqueid:
            raise ValueError("a recording needs a uniqueid without '/'")
        spec = RecordingSpec(
            uniqueid=uniqueid,
            size=int(body.get("size", 200_000)),
            missing=bool(body.get("missing", False)),
            auth=bool(body.get("auth", False)),
            delay=float(body.get("delay", 0.0)),
            hide_length=bool(body.get("hide_length", False)),
        )
        if spec.size < 0:
            raise ValueError("size must be 0 or more")
        with self._lock:
            old = self._specs.get(uniqueid)
            if old is not None:
                spec.fetched = old.fetched
            self._specs[uniqueid] = spec
        return self.links(uniqueid)

    def links(self, uniqueid: str) -> dict[str, str]:
        base = f"{self.base_url}{PREFIX}{uniqueid}"
        return {"recording": f"{base}.mp3", "recording_wav": f"{base}.wav"}

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(s) for s in self._specs.values()]

    def answer(self, path: str, headers: Any) -> tuple[int, RecordingSpec | None, str]:
        """(status, the recording, its extension) for ``GET path``."""
        name = path[len(PREFIX) :]
        uniqueid, dot, ext = name.rpartition(".")
        if not dot or ext not in _HEADS:
            return 404, None, ""
        with self._lock:
            spec = self._specs.get(uniqueid)
            if spec is not None:
                spec.fetched += 1
        if spec is None or spec.missing:
            return 404, None, ext
        if spec.delay:
            time.sleep(spec.delay)
        if spec.auth and headers.get("Auth-key") != self.key:
            return 401, None, ext
        return 200, spec, ext


def send_recording(handler: Any, shelf: RecordingShelf, path: str) -> int:
    """Answer ``GET path`` on ``handler`` (a ``BaseHTTPRequestHandler``), streaming the
    bytes; the status sent."""
    status, spec, ext = shelf.answer(path, handler.headers)
    if spec is None:
        text = b'{"error": "Unauthorized"}' if status == 401 else b'{"error": "Not found"}'
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text)
        return status
    handler.send_response(200)
    handler.send_header("Content-Type", "audio/mpeg" if ext == "mp3" else "audio/wav")
    if spec.hide_length:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    else:
        handler.send_header("Content-Length", str(spec.size))
    handler.end_headers()
    try:
        for piece in audio_bytes(spec.uniqueid, ext, spec.size):
            handler.wfile.write(piece)
    except OSError:  # the client stopped reading (a size limit): normal
        handler.close_connection = True
    return 200
