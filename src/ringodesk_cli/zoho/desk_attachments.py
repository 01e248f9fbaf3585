"""A call activity's attachments in Zoho Desk: the upload (``POST /calls/{callId}/attachments``,
multipart/form-data with one part ``file``; Zoho's OpenAPI file CallAttachment.json, scope
``Desk.activities.calls.UPDATE``) and the listing used to reconcile an upload whose answer was
lost (``GET /calls/{callId}/attachments``, which Zoho does not document: see
``docs/zoho-readings.md``, "call_attachments").

The upload streams the file from disk: the multipart body is a small file-like object that
reads the file piece by piece, with its length known in advance (no chunked encoding), so an
upload of a 20 MB recording holds 64 KB of it in memory. It takes the token, the API root,
the organization and the retry policy from the Desk client's public attributes and sends its
own request: uploads are rare, and their body is not JSON.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import requests

from ringodesk_cli.errors import OutcomeUnknownError, ZohoError, ZohoUnavailableError
from ringodesk_cli.http_retry import RetryableFailure, may_resend, new_session, retryable_status
from ringodesk_cli.redact import redact, register_secret
from ringodesk_cli.zoho import desk_errors
from ringodesk_cli.zoho.desk import api_path
from ringodesk_cli.zoho.desk_errors import error_from_answer
from ringodesk_cli.zoho.paging import rows_of

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk_transport import DeskTransport

__all__ = ["AttachmentClient", "MultipartFile"]

log = logging.getLogger("ringodesk.desk")

UPLOAD_KEY = "POST /calls/{id}/attachments"
LIST_KEY = "GET /calls/{id}/attachments"
_PIECE = 64 * 1024


class MultipartFile:
    """``multipart/form-data`` with one file part, read from disk as it is sent. ``len()``
    is the exact body length (requests sends it as Content-Length)."""

    def __init__(self, path: Path, field: str, filename: str, content_type: str) -> None:
        self.boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._path = path
        self._size = os.path.getsize(path)
        self._file: IO[bytes] | None = None
        self._pos = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = _PIECE
        out = bytearray()
        while len(out) < size:
            piece = self._next(size - len(out))
            if not piece:
                break
            out += piece
        return bytes(out)

    def _next(self, size: int) -> bytes:
        head, body_end = len(self._head), len(self._head) + self._size
        if self._pos < head:
            piece = self._head[self._pos : self._pos + size]
        elif self._pos < body_end:
            if self._file is None:
                self._file = self._path.open("rb")
            piece = self._file.read(min(size, body_end - self._pos))
        else:
            start = self._pos - body_end
            piece = self._tail[start : start + size]
        self._pos += len(piece)
        return piece

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class AttachmentClient:
    """Uploads and lists a call's attachments over the Desk client's token and policy."""

    def __init__(self, desk: DeskTransport, *, session: requests.Session | None = None) -> None:
        self.desk = desk
        self.session = session if session is not None else new_session(pool_maxsize=32)
        self.uploads = 0  # requests sent (retries included), for the run's request counts

    def list(self, call_id: str) -> list[dict[str, Any]]:
        """The call's attachments (undocumented list; its refusal is the caller's to read)."""
        path = api_path("/calls/{}/attachments", call_id)
        return rows_of(self.desk.request("GET", path))

    def upload(self, call_id: str, path: Path, name: str, content_type: str) -> dict[str, Any]:
        """Zoho's answer (``id``, ``name``, ``size``...). Raises ``OutcomeUnknownError`` when
        the request may have reached Zoho without an answer (never resent then), and the other
        ``ZohoError`` kinds for refusals."""
        url_path = api_path("/calls/{}/attachments", call_id)
        desk = self.desk
        auth_retried = False

        def attempt() -> dict[str, Any]:
            nonlocal auth_retried
            while True:
                token = desk.tokens.access_token()
                register_secret(token)
                resp = self._send(url_path, token, path, name, content_type)
                if resp.status_code == 401 and not auth_retried:
                    code = desk_errors.error_code(desk_errors.parse_body(resp.text or ""))
                    if code in desk_errors.TOKEN_REFRESH_CODES:
                        auth_retried = True
                        desk.tokens.invalidate(token)
                        continue
                return self._answer(url_path, resp)

        return desk.retry.run(attempt, label=f"POST {url_path}", logger=log)

    def _send(
        self, url_path: str, token: str, path: Path, name: str, content_type: str
    ) -> requests.Response:
        body = MultipartFile(path, "file", name, content_type)
        headers = {
            "Authorization": f"Zoho-oauthtoken {token}",
            "Accept": "application/json",
            "Content-Type": body.content_type,
            "Content-Length": str(len(body)),
        }
        if self.desk.org_id:
            headers["orgId"] = str(self.desk.org_id)
        self.uploads += 1
        try:
            return self.session.post(
                self.desk.api_root + url_path, data=body, headers=headers, timeout=self.desk.timeout
            )
        except requests.RequestException as exc:
            message = redact(
                f"POST {url_path}: Zoho Desk could not be reached ({type(exc).__name__})"
            )
            if may_resend("POST", exc=exc):
                raise RetryableFailure(ZohoUnavailableError(message)) from None
            raise OutcomeUnknownError(message) from None
        finally:
            body.close()

    def _answer(self, url_path: str, resp: requests.Response) -> dict[str, Any]:
        status = resp.status_code
        if status < 400:
            try:
                data = resp.json()
            except ValueError:
                data = None
            if not isinstance(data, dict) or not data.get("id"):
                raise ZohoError(
                    f"POST {url_path}: Zoho Desk answered {status} without an attachment id",
                    status=status,
                )
            return data
        error = error_from_answer("POST", url_path, status, resp.text or "")
        if retryable_status(status):
            if not may_resend("POST", status=status):
                raise OutcomeUnknownError(
                    str(error), status=status, error_code=error.error_code, payload=error.payload
                )
            raise RetryableFailure(
                error, self.desk.retry.retry_after(resp.headers.get("Retry-After"))
            )
        raise error
