"""A call activity's attachments: ``POST /api/v1/calls/{callId}/attachments`` (multipart, one
part ``file``), ``DELETE .../attachments/{attachmentId}`` and, under the reading
``call_attachments=present`` only, ``GET .../attachments`` (in no OAS version). Shapes from
``schemas/call_attachments.json`` (copied from Zoho's CallAttachment.json).

Only what describes a file is kept (name, size, SHA-256), never its bytes.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import TYPE_CHECKING, Any

from ringodesk_cli.sandbox.replies import (
    ApiError,
    DeskRequest,
    Reply,
    field_error,
    invalid_data,
    json_reply,
    list_reply,
    not_found,
)
from ringodesk_cli.sandbox.store import iso

if TYPE_CHECKING:
    from ringodesk_cli.sandbox.desk_records import RecordEndpoints

MB = 1024 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_FILENAME = re.compile(rb'filename="([^"]*)"')
_NAME = re.compile(rb'\bname="([^"]*)"')


def parse_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """The ``file`` part of a multipart/form-data body, described: ``{"file": {"filename",
    "size", "sha256", "content_type"}}``. Raises ApiError for anything else."""
    found = _BOUNDARY.search(content_type or "")
    if "multipart/form-data" not in (content_type or "") or found is None:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send multipart/form-data.")
    delimiter = b"--" + found.group(1).encode()
    if delimiter + b"--" not in raw:
        # Cut short (a client that died mid-upload): nothing is stored.
        raise invalid_data([field_error("/file", "invalid", "The multipart body is incomplete.")])
    parts: dict[str, Any] = {}
    for chunk in raw.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise invalid_data([field_error("/file", "invalid", "A multipart part is malformed.")])
        data = data[:-2] if data.endswith(b"\r\n") else data
        name = _NAME.search(head)
        filename = _FILENAME.search(head)
        ctype = re.search(rb"Content-Type:\s*([^\r\n]+)", head, re.IGNORECASE)
        if name is None:
            continue
        parts[name.group(1).decode()] = {
            "filename": filename.group(1).decode() if filename else None,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content_type": ctype.group(1).decode().strip() if ctype else None,
        }
    if "file" not in parts or parts["file"]["filename"] is None:
        raise invalid_data([field_error("/file", "missing", "The file part is required.")])
    return {"file": parts["file"]}


class AttachmentEndpoints:
    """Thread-safe; ``records`` gives the calls, the readings and the agent answering."""

    def __init__(self, records: RecordEndpoints, max_mb: int = 20) -> None:
        self.records = records
        self.max_mb = max_mb
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._by_call: dict[str, list[dict[str, Any]]] = {}
            self._files: dict[str, dict[str, Any]] = {}  # attachment id -> name, size, sha256

    def _call(self, call_id: str) -> dict[str, Any]:
        call = self.records.store.record("calls", call_id)
        if call is None:
            raise not_found()
        return call

    def create(self, req: DeskRequest) -> Reply:
        call_id = req.args[0]
        self._call(call_id)
        described = (req.body or {}).get("file") or {}
        if int(described.get("size", 0)) > self.max_mb * MB:
            raise invalid_data(
                [field_error("/file", "invalid", f"The file is larger than {self.max_mb} MB.")]
            )
        store = self.records.store
        with store.lock:
            attachment_id = store.new_id()
        base = f"https://desk.zoho.com/api/v1/calls/{call_id}/attachments/{attachment_id}"
        answer = {
            "id": attachment_id,
            "name": str(described.get("filename") or ""),
            "size": str(described.get("size", 0)),
            "href": base + "/content",
            "previewurl": base + "/content?inline=true",
            "creatorId": str(store.agents[0]["id"]),
            "createdTime": iso(req.now),
        }
        with self._lock:
            self._by_call.setdefault(call_id, []).append(answer)
            self._files[attachment_id] = {**answer, "sha256": described.get("sha256")}
        return json_reply(answer)

    def listing(self, req: DeskRequest) -> Reply:
        if self.records.reading("call_attachments") != "present":
            raise not_found()
        self._call(req.args[0])
        with self._lock:
            return list_reply([dict(a) for a in self._by_call.get(req.args[0], [])])

    def delete(self, req: DeskRequest) -> Reply:
        call_id, attachment_id = req.args
        with self._lock:
            items = self._by_call.get(call_id, [])
            kept = [a for a in items if a["id"] != attachment_id]
            if len(kept) == len(items):
                raise not_found()
            self._by_call[call_id] = kept
            self._files.pop(attachment_id, None)
        return Reply(204)

    def all(self) -> list[dict[str, Any]]:
        """Every attachment with its call id and the SHA-256 of its bytes (admin API)."""
        with self._lock:
            return [
                {**self._files[a["id"]], "callId": call_id}
                for call_id, items in self._by_call.items()
                for a in items
            ]
