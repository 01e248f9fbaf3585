"""End to end: `ringodesk sync` with ``recordings.attach`` on, against the sandbox's recordings
(Ringostat-like links: present, behind the Auth-key, missing, too large) and its call
attachments endpoint. Each answered call with a recording gets exactly one attachment, named
``rs-<id>.<ext>`` and holding the recording's bytes; reruns and replays attach nothing more;
a missing or oversized recording leaves the call delivered with its link and a counted
reason; a recording that appears later is attached by a later run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e import Call, Desk, ago, by_marker, keeps_call_descriptions, write_export
from sandbox_fixture import both_readings, sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.sandbox.recordings import digest_of

KB = 1024
# Under every reading of Zoho (docs/zoho-readings.md); the strict one has no list of a
# call's attachments, which a run without lost answers never needs.
pytestmark = both_readings


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    env = {**subprocess_env, "RINGODESK_RINGOSTAT_KEY": sandbox.cfg.ringostat_key}
    return Desk(sandbox, env, tmp_path)


def recording(sb: Sandbox, rid: str, **spec: Any) -> str:
    return sb.recordings.put({"uniqueid": rid, **spec})["recording"]


def attachments(sb: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """Attachment names by the Ringostat id of their call activity."""
    out: dict[str, list[dict[str, Any]]] = {}
    calls = {str(c["id"]): c for c in sb.records("calls")}
    for item in sb.attachments.all():
        subject = str(calls[item["callId"]]["subject"])
        rid = subject.split("[rs:", 1)[1].split("]", 1)[0]
        out.setdefault(rid, []).append(item)
    return out


def uploads(sb: Sandbox) -> int:
    return sb.request_counts().get("POST /api/v1/calls/{id}/attachments", 0)


def test_each_recording_is_attached_once_and_missing_ones_later(desk: Desk, tmp_path: Path) -> None:
    sb = desk.sb
    desk.setup(
        settings={
            "recordings.attach": True,
            "recordings.max_mb": 1,
            "ringostat.api_url": sb.url,
            # The sandbox stands in for Ringostat's recording hosts: listed as an origin.
            "recordings.hosts": f'["ringostat.com", "{sb.url}"]',
        }
    )
    calls = [
        Call("r-1", "0671230001", ago(300), recording=recording(sb, "r-1", size=200 * KB)),
        # behind the Auth-key: fetched again with the project's key
        Call(
            "r-2", "0671230002", ago(250), recording=recording(sb, "r-2", size=300 * KB, auth=True)
        ),
        # not made yet: the call is delivered with its link, the recording waits
        Call("r-3", "0671230003", ago(200), recording=recording(sb, "r-3", missing=True)),
        # over recordings.max_mb, and sent without a length: counted while read
        Call(
            "r-4",
            "0671230004",
            ago(150),
            recording=recording(sb, "r-4", size=1536 * KB, hide_length=True),
        ),
        Call("r-5", "0671230005", ago(100), disposition="NO ANSWER"),
        Call("r-6", "0671230006", ago(50)),  # its recording link comes with a later export
    ]
    export = write_export(tmp_path / "calls.csv", calls)

    dry = desk.sync("--dry-run", str(export))
    assert dry.code == 0, dry
    assert dry.json()["recordings"]["planned"] == 4  # every call with a recording link
    first = desk.sync(str(export))
    assert first.code == 0, first
    data = first.json()
    assert data["delivered"] == 6
    rec = data["recordings"]
    assert (rec["attached"], rec["waiting"], rec["too_large"]) == (2, 1, 1), rec
    assert rec["waiting_by_reason"] == {"missing": 1}
    assert any(line.startswith("r-4: ") and "over the limit" in line for line in rec["reasons"])
    found = attachments(sb)
    assert sorted(found) == ["r-1", "r-2"]
    for rid, size in (("r-1", 200 * KB), ("r-2", 300 * KB)):
        (item,) = found[rid]
        assert item["name"] == f"rs-{rid}.mp3"
        assert (int(item["size"]), item["sha256"]) == (size, digest_of(rid, "mp3", size))
    if keeps_call_descriptions(sb):
        for rid in ("r-3", "r-4"):
            (call,) = by_marker(sb.records("calls"), rid)
            assert f"/recordings/{rid}.mp3" in call["description"]

    # A rerun and a replay: nothing attached twice; the missing one is looked for again.
    again = desk.sync(str(export))
    assert again.code == 0, again
    assert again.json()["recordings"]["attached"] == 0
    assert again.json()["recordings"]["waiting"] == 1
    replay = desk.sync("--replay", "1d", str(export))
    assert replay.code == 0, replay
    assert replay.json()["recordings"]["attached"] == 0
    assert uploads(sb) == 2

    # The recording is ready now, and a new export brings r-6's link: both attached.
    recording(sb, "r-3", size=100 * KB)
    calls[5].recording = recording(sb, "r-6", size=50 * KB)
    write_export(export, calls)
    later = desk.sync(str(export))
    assert later.code == 0, later
    assert later.json()["updated"] == 1
    assert later.json()["recordings"]["attached"] == 2
    found = attachments(sb)
    assert sorted(found) == ["r-1", "r-2", "r-3", "r-6"]
    assert all(len(items) == 1 for items in found.values())
    human = desk.run("sync", str(export))
    assert human.code == 0, human
    assert "recordings: attached 0, waiting 0, too large 0" in human.stdout
    assert uploads(sb) == 4


def test_a_link_off_recordings_hosts_is_never_fetched_and_the_call_keeps_it(
    desk: Desk, tmp_path: Path
) -> None:
    sb = desk.sb
    # The default list (Ringostat's domains, https only); the API is elsewhere.
    desk.setup(settings={"recordings.attach": True})
    local = recording(sb, "h-1", size=10 * KB)  # http://127.0.0.1:<port>/...: loopback
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    lookalike = "https://ringostat.com.evil.invalid/rec/h-3.mp3"
    calls = [
        Call("h-1", "0671230011", ago(30), recording=local),
        Call("h-2", "0671230012", ago(20), recording=metadata),
        Call("h-3", "0671230013", ago(10), recording=lookalike),
    ]
    export = write_export(tmp_path / "calls.csv", calls)
    result = desk.run("sync", str(export))
    assert result.code == 0, result
    assert "delivered 3" in result.stdout
    assert "not allowed 3" in result.stdout
    for rid, host in (("h-1", "127.0.0.1"), ("h-2", "169.254.169.254"),
                      ("h-3", "ringostat.com.evil.invalid")):  # fmt: skip
        line = f"{rid}: recording not attached: not fetched: the link's host {host} is not in"
        assert line in result.stderr, result
    assert uploads(sb) == 0
    assert next(s for s in sb.recordings.listing() if s["uniqueid"] == "h-1")["fetched"] == 0
    if keeps_call_descriptions(sb):
        (call,) = by_marker(sb.records("calls"), "h-2")
        assert metadata in call["description"]
    # Skipped for good: a rerun does not try again.
    again = desk.sync(str(export))
    assert again.code == 0, again
    assert again.json()["recordings"]["not_allowed"] == 0
