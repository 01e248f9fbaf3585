"""The recording's two transfers against requests-mock: the download from Ringostat
(streamed into a bounded file, the Auth-key only when needed and only to Ringostat) and the
multipart upload to a call activity (streamed from disk, never resent without an answer)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock as rm

from ringodesk_cli.errors import OutcomeUnknownError
from ringodesk_cli.ringostat.recordings import RecordingFetcher
from ringodesk_cli.sandbox.call_attachments import parse_multipart
from ringodesk_cli.sandbox.replies import ApiError
from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.zoho.desk_attachments import AttachmentClient, MultipartFile

KEY = "rs-key-SECRET-4411"
API = "https://api.ringostat.net"
REC = "https://api.ringostat.net/recordings/r-1.mp3"
DESK = "http://127.0.0.1:8800"
UPLOAD = DESK + "/api/v1/calls/900/attachments"


def fetcher(tmp_path: Path, max_bytes: int = 1000, **kw: Any) -> RecordingFetcher:
    folder = tmp_path / "rec"
    folder.mkdir(exist_ok=True)
    return RecordingFetcher(max_bytes=max_bytes, key=KEY, api_url=API, folder=folder, **kw)


def test_a_recording_is_saved_to_a_file_and_the_key_is_sent_only_after_a_refusal(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    def answer(request: Any, context: Any) -> bytes:
        if request.headers.get("Auth-key") != KEY:
            context.status_code = 401
            return b"no"
        return b"A" * 700

    requests_mock.get(REC, content=answer)
    got = fetcher(tmp_path).download(REC)
    assert got.ok and got.size == 700
    assert got.path is not None and got.path.read_bytes() == b"A" * 700
    assert [r.headers.get("Auth-key") for r in requests_mock.request_history] == [None, KEY]
    got.discard()
    assert list((tmp_path / "rec").iterdir()) == []


def test_another_host_is_never_asked_with_or_without_the_key(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    other = "https://storage.example.com/r-1.mp3"
    requests_mock.get(other, status_code=403)
    got = fetcher(tmp_path).download(other)
    assert (got.ok, got.reason) == (False, "not-allowed")
    assert (
        got.detail == "not fetched: the link's host storage.example.com is not in recordings.hosts"
    )
    assert requests_mock.request_history == []


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "missing"), (410, "missing"), (500, "error"), (403, "denied")]
)
def test_an_answer_without_a_recording_is_a_reason_not_an_error(
    requests_mock: rm.Mocker, tmp_path: Path, status: int, reason: str
) -> None:
    requests_mock.get(REC, status_code=status)
    got = fetcher(tmp_path).download(REC)
    assert (got.ok, got.reason) == (False, reason)
    assert list((tmp_path / "rec").iterdir()) == []


def test_a_timeout_is_a_reason(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.get(REC, exc=requests.ReadTimeout)
    assert fetcher(tmp_path).download(REC).reason == "timeout"


def test_too_large_by_its_length_or_by_what_was_read(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    requests_mock.get(REC, content=b"B" * 1500, headers={"Content-Length": "1500"})
    declared = fetcher(tmp_path).download(REC)
    assert declared.reason == "too-large"
    assert "over the limit" in declared.detail and not declared.detail.startswith("more")
    # No length announced: the bytes are counted as they come, and the file removed.
    requests_mock.get(REC, body=io.BytesIO(b"C" * 1500))
    counted = fetcher(tmp_path).download(REC)
    assert counted.reason == "too-large"
    assert counted.detail.startswith("more than ")  # found by counting, not announced
    assert list((tmp_path / "rec").iterdir()) == []


def test_the_multipart_body_is_read_from_disk_with_its_exact_length(tmp_path: Path) -> None:
    path = tmp_path / "r.mp3"
    payload = bytes(range(256)) * 1000
    path.write_bytes(payload)
    body = MultipartFile(path, "file", "rs-r-1.mp3", "audio/mpeg")
    pieces = []
    while piece := body.read(8192):
        assert len(piece) <= 8192
        pieces.append(piece)
    raw = b"".join(pieces)
    assert len(raw) == len(body)
    described = parse_multipart(raw, body.content_type)["file"]
    assert described["filename"] == "rs-r-1.mp3"
    assert described["content_type"] == "audio/mpeg"
    assert described["sha256"] == hashlib.sha256(payload).hexdigest()
    with pytest.raises(ApiError, match="INVALID_DATA"):  # cut short: the sandbox stores nothing
        parse_multipart(raw[: len(raw) // 2], body.content_type)


class Tokens:
    def __init__(self) -> None:
        self.tokens = ["tok-A", "tok-B"]
        self.invalidated: list[str] = []

    def access_token(self) -> str:
        return self.tokens[0]

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.tokens.pop(0)


def client(tokens: Tokens | None = None) -> AttachmentClient:
    desk = DeskClient(DESK, tokens or Tokens(), "20080", sleep=lambda _s: None, max_attempts=3)
    return AttachmentClient(desk)


def test_the_upload_sends_the_file_as_multipart_with_token_and_org(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    path = tmp_path / "r.mp3"
    path.write_bytes(b"ID3" + b"x" * 5000)
    seen: dict[str, Any] = {}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        raw = request.body.read(1 << 20)
        seen.update(parse_multipart(raw, request.headers["Content-Type"])["file"])
        seen["auth"] = request.headers["Authorization"]
        seen["org"] = request.headers["orgId"]
        seen["length"] = int(request.headers["Content-Length"])
        seen["raw"] = len(raw)
        return {"id": "7001", "name": seen["filename"], "size": str(seen["size"])}

    requests_mock.post(UPLOAD, json=answer)
    got = client().upload("900", path, "rs-r-1.mp3", "audio/mpeg")
    assert got["id"] == "7001"
    assert seen["filename"] == "rs-r-1.mp3" and seen["size"] == 5003
    assert (seen["auth"], seen["org"]) == ("Zoho-oauthtoken tok-A", "20080")
    assert seen["length"] == seen["raw"]


def test_an_upload_without_an_answer_is_never_resent(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    path = tmp_path / "r.mp3"
    path.write_bytes(b"x" * 10)
    requests_mock.post(UPLOAD, status_code=500, json={"errorCode": "INTERNAL_SERVER_ERROR"})
    with pytest.raises(OutcomeUnknownError):
        client().upload("900", path, "rs-r-1.mp3", "audio/mpeg")
    assert requests_mock.call_count == 1
    requests_mock.post(UPLOAD, exc=requests.ReadTimeout)
    with pytest.raises(OutcomeUnknownError):
        client().upload("900", path, "rs-r-1.mp3", "audio/mpeg")
    assert requests_mock.call_count == 2


def test_a_refused_or_stale_token_upload_is_sent_again(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    path = tmp_path / "r.mp3"
    path.write_bytes(b"x" * 10)
    requests_mock.post(
        UPLOAD,
        [
            {"status_code": 429, "json": {"errorCode": "TOO_MANY_REQUESTS"}},
            {"status_code": 401, "json": {"errorCode": "INVALID_OAUTH"}},
            {"json": {"id": "7002"}},
        ],
    )
    tokens = Tokens()
    assert client(tokens).upload("900", path, "rs-r-1.mp3", "audio/mpeg")["id"] == "7002"
    assert tokens.invalidated == ["tok-A"]
    auth = [r.headers["Authorization"] for r in requests_mock.request_history]
    assert auth == ["Zoho-oauthtoken tok-A"] * 2 + ["Zoho-oauthtoken tok-B"]
