"""The sandbox's recordings (Ringostat-like links) and its call attachments endpoint, used
directly over HTTP: shapes from the copied CallAttachment.json schema, the readings, the
scopes, the size limit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from importlib import resources

import pytest
import requests
from jsonschema import Draft202012Validator
from sandbox_fixture import desk_session

from ringodesk_cli.sandbox import Sandbox, SandboxConfig, start_sandbox
from ringodesk_cli.sandbox.recordings import digest_of


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    box = start_sandbox(SandboxConfig(port=0, attachment_max_mb=1))
    try:
        yield box
    finally:
        box.stop()


def a_call(sb: Sandbox, session: requests.Session) -> str:
    body = {
        "subject": "Call [rs:x-1]",
        "startTime": "2026-05-14T09:00:00.000Z",
        "duration": "60",
        "direction": "inbound",
        "status": "Completed",
        "departmentId": sb.department_id,
        "contactId": sb.add_contact(lastName="X", phone="+380671230001")["id"],
    }
    answer = session.post(f"{sb.url}/api/v1/calls", json=body)
    assert answer.ok, answer.text
    return str(answer.json()["id"])


def schema() -> Draft202012Validator:
    text = (
        resources.files("ringodesk_cli.sandbox")
        .joinpath("schemas/call_attachments.json")
        .read_text()
    )
    return Draft202012Validator(json.loads(text)["attachmentResponse"])


def test_recordings_are_served_missing_or_behind_the_key(sb: Sandbox) -> None:
    links = sb.recordings.put({"uniqueid": "x-1", "size": 70_000})
    answer = requests.get(links["recording"], timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Length"] == "70000"
    assert answer.content.startswith(b"ID3")
    assert hashlib.sha256(answer.content).hexdigest() == digest_of("x-1", "mp3", 70_000)
    assert requests.get(links["recording_wav"], timeout=5).content.startswith(b"RIFF")
    sb.recordings.put({"uniqueid": "x-2", "size": 10, "auth": True})
    locked = f"{sb.url}/recordings/x-2.mp3"
    assert requests.get(locked, timeout=5).status_code == 401
    keyed = requests.get(locked, headers={"Auth-key": sb.cfg.ringostat_key}, timeout=5)
    assert keyed.status_code == 200 and len(keyed.content) == 10
    sb.recordings.put({"uniqueid": "x-3", "missing": True})
    assert requests.get(f"{sb.url}/recordings/x-3.mp3", timeout=5).status_code == 404
    assert requests.get(f"{sb.url}/recordings/nobody.mp3", timeout=5).status_code == 404
    sb.recordings.put({"uniqueid": "x-4", "size": 5000, "hide_length": True})
    unsized = requests.get(f"{sb.url}/recordings/x-4.mp3", timeout=5)
    assert "Content-Length" not in unsized.headers and len(unsized.content) == 5000


def test_an_attachment_is_answered_as_the_oas_says_and_listed_only_when_lenient(
    sb: Sandbox,
) -> None:
    session = desk_session(sb)
    call_id = a_call(sb, session)
    url = f"{sb.url}/api/v1/calls/{call_id}/attachments"
    answer = session.post(url, files={"file": ("rs-x-1.mp3", b"ID3abc", "audio/mpeg")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    schema().validate(body)
    assert (body["name"], body["size"]) == ("rs-x-1.mp3", "6")
    (kept,) = sb.attachments.all()
    assert kept["sha256"] == hashlib.sha256(b"ID3abc").hexdigest()
    assert kept["callId"] == call_id
    listed = session.get(url)
    assert (listed.status_code, listed.json()["errorCode"]) == (404, "URL_NOT_FOUND")
    sb.set_readings(call_attachments="present")
    assert [a["id"] for a in session.get(url).json()["data"]] == [body["id"]]
    assert session.delete(f"{url}/{body['id']}").status_code == 204
    assert session.get(url).status_code == 204


def test_an_attachment_needs_the_file_part_the_scope_and_a_small_file(sb: Sandbox) -> None:
    session = desk_session(sb)
    call_id = a_call(sb, session)
    url = f"{sb.url}/api/v1/calls/{call_id}/attachments"
    wrong = session.post(url, files={"other": ("a.txt", b"x")})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["fieldName"] == "/file"
    big = session.post(url, files={"file": ("big.mp3", b"x" * (1024 * 1024 + 1))})
    assert big.status_code == 422 and "larger than 1 MB" in big.text
    assert (
        session.post(
            f"{sb.url}/api/v1/calls/1/attachments", files={"file": ("a", b"x")}
        ).status_code
        == 404
    )
    reader = desk_session(sb, scopes="Desk.calls.READ,Desk.basic.READ")
    refused = reader.post(url, files={"file": ("a.mp3", b"x")})
    assert refused.json()["errorCode"] == "SCOPE_MISMATCH"
    assert sb.attachments.all() == []


def test_calls_list_carries_links_to_recordings_the_sandbox_serves(sb: Sandbox) -> None:
    sb.ringostat_add_calls(
        [{"uniqueid": "y-1", "calldate": "2020-01-01 10:00:00", "recording": "sandbox"}]
    )
    (call,) = sb.ringostat.calls()
    assert call["recording"] == f"{sb.url}/recordings/y-1.mp3"
    assert call["recording_wav"] == f"{sb.url}/recordings/y-1.wav"
    assert requests.get(call["recording"], timeout=5).status_code == 200
