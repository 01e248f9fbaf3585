"""The attachment pass over a real ledger, with a scripted Zoho and a scripted Ringostat:
which calls it looks at, the ``attachment`` operation (intended before, done after), the
reconciliation of a lost answer, the retry window and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ringodesk_cli.delivery.recordings import AttachmentPass, RecordingOptions, recording_link
from ringodesk_cli.errors import ExitCode, NotFoundError, OutcomeUnknownError, ZohoAuthError
from ringodesk_cli.ledger.record_json import to_json
from ringodesk_cli.ledger.recording_states import RecordingStates
from ringodesk_cli.ledger.store import CallState, Ledger, OpKind, OpState
from ringodesk_cli.ringostat.recordings import Download
from ringodesk_cli.ringostat.records import record_from_fields

# The pass's clock, injected; taken from the machine's clock because the ledger stamps its
# operations with the real time (the retry window is counted from those stamps).
NOW = datetime.now(UTC).replace(microsecond=0)
CALL_TIME = (NOW - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")  # a UTC wall time


def fields(rid: str, **more: str) -> dict[str, str]:
    return {
        "uniqueid": rid,
        "calldate": CALL_TIME,
        "call_type": "in",
        "disposition": "ANSWERED",
        "caller": "+380671230001",
        "dst": "+380443334455",
        "billsec": "60",
        "duration": "70",
        **more,
    }


def deliver(ledger: Ledger, rid: str, **more: str) -> None:
    record = record_from_fields(
        fields(rid, **more), source="t", line=1, timezone=ZoneInfo("UTC"), default_region="UA"
    )
    ledger.upsert_call(
        ringostat_id=rid,
        started_at=record.started_at.isoformat(),
        client_number=record.client_number,
        content_hash=record.content_hash(),
        state=CallState.PENDING,
        record=to_json(record),
        source="t",
        line=1,
    )
    ledger.intend(rid, OpKind.CALL)
    ledger.done(rid, OpKind.CALL, f"9{len(rid)}{rid[-1]}")
    ledger.set_call_state(rid, CallState.DELIVERED, delivered_hash=record.content_hash())


@dataclass
class Zoho:
    listing: list[dict[str, Any]] | Exception = field(default_factory=list)
    fail: Exception | None = None
    answer: dict[str, Any] | None = None  # what an upload answers instead of an id
    uploads: list[tuple[str, str]] = field(default_factory=list)
    lists: int = 0

    def list(self, call_id: str) -> list[dict[str, Any]]:
        self.lists += 1
        if isinstance(self.listing, Exception):
            raise self.listing
        return self.listing

    def upload(self, call_id: str, path: Path, name: str, content_type: str) -> dict[str, Any]:
        assert path.read_bytes() == b"audio"
        self.uploads.append((call_id, name))
        if self.fail is not None:
            raise self.fail
        if self.answer is not None:
            return self.answer
        return {"id": f"70{len(self.uploads)}", "name": name}


@dataclass
class Ringostat:
    tmp: Path
    missing: set[str] = field(default_factory=set)
    fetched: list[str] = field(default_factory=list)

    def download(self, url: str) -> Download:
        self.fetched.append(url)
        if any(m in url for m in self.missing):
            return Download(reason="missing", detail="HTTP 404")
        path = self.tmp / f"dl-{len(self.fetched)}"
        path.write_bytes(b"audio")
        return Download(path=path, size=5)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


def run(ledger: Ledger, zoho: Zoho, ringostat: Ringostat, now: datetime = NOW) -> Any:
    options = RecordingOptions(attach=True, retry_days=3)
    passed = AttachmentPass(ledger, zoho, ringostat, options, concurrency=2, now=now)  # type: ignore[arg-type]
    report = passed.run()
    return report, passed


def test_links_by_format() -> None:
    record = record_from_fields(
        fields("a", recording="https://r/a.mp3", recording_wav="https://r/a.wav"),
        source="t", line=1, timezone=ZoneInfo("UTC"), default_region="UA",
    )  # fmt: skip
    assert recording_link(record, "mp3") == ("https://r/a.mp3", "mp3")
    assert recording_link(record, "wav") == ("https://r/a.wav", "wav")
    only_wav = record_from_fields(
        fields("b", recording_wav="https://r/b.wav"),
        source="t", line=1, timezone=ZoneInfo("UTC"), default_region="UA",
    )  # fmt: skip
    assert recording_link(only_wav, "mp3") == ("https://r/b.wav", "wav")
    none = record_from_fields(
        fields("c"), source="t", line=1, timezone=ZoneInfo("UTC"), default_region="UA"
    )
    assert recording_link(none, "mp3") is None


def test_delivered_calls_get_one_attachment_each_then_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    deliver(ledger, "a1", recording="https://r/a1.mp3")
    deliver(ledger, "a2", recording="https://r/a2.mp3")
    deliver(ledger, "a3")  # no recording: not looked at
    zoho, rs = Zoho(), Ringostat(tmp_path)
    report, _ = run(ledger, zoho, rs)
    assert report.attached == 2
    assert sorted(n for _, n in zoho.uploads) == ["rs-a1.mp3", "rs-a2.mp3"]
    op = ledger.op("a1", OpKind.ATTACHMENT)
    assert op is not None and op.state is OpState.DONE and op.zoho_id in ("701", "702")
    report, _ = run(ledger, zoho, rs)
    assert (report.attached, len(zoho.uploads), len(rs.fetched)) == (0, 2, 2)
    assert not list(tmp_path.glob("dl-*"))  # every download deleted


def test_a_lost_answer_is_found_by_name_and_not_sent_again(ledger: Ledger, tmp_path: Path) -> None:
    deliver(ledger, "b1", recording="https://r/b1.mp3")
    zoho, rs = Zoho(fail=OutcomeUnknownError("no answer")), Ringostat(tmp_path)
    report, _ = run(ledger, zoho, rs)
    assert (report.attached, report.unknown) == (0, 1)
    op = ledger.op("b1", OpKind.ATTACHMENT)
    assert op is not None and op.intended
    # Next run: Zoho lists the call's attachments; the earlier upload is there.
    zoho = Zoho(listing=[{"id": "55", "name": "other.pdf"}, {"id": "56", "name": "rs-b1.mp3"}])
    report, _ = run(ledger, zoho, rs)
    assert (report.reconciled, report.attached, zoho.uploads) == (1, 0, [])
    done = ledger.op("b1", OpKind.ATTACHMENT)
    assert done is not None and done.done_id == "56"


def test_a_lost_answer_not_listed_is_uploaded_again(ledger: Ledger, tmp_path: Path) -> None:
    deliver(ledger, "c1", recording="https://r/c1.mp3")
    ledger.intend("c1", OpKind.ATTACHMENT)  # a crash after the intent, before the POST
    zoho = Zoho(listing=[])
    report, _ = run(ledger, zoho, Ringostat(tmp_path))
    assert (zoho.lists, report.attached, [n for _, n in zoho.uploads]) == (1, 1, ["rs-c1.mp3"])


def test_without_a_listing_a_lost_answer_is_never_sent_twice(
    ledger: Ledger, tmp_path: Path
) -> None:
    deliver(ledger, "d1", recording="https://r/d1.mp3")
    ledger.intend("d1", OpKind.ATTACHMENT)
    zoho = Zoho(listing=NotFoundError("GET /calls/1/attachments: 404", status=404))
    report, _ = run(ledger, zoho, Ringostat(tmp_path))
    assert (report.unconfirmed, zoho.uploads) == (1, [])
    row = RecordingStates(ledger).get("d1")
    assert row is not None and row.state == "unconfirmed"
    report, _ = run(ledger, zoho, Ringostat(tmp_path))
    assert (report.unconfirmed, zoho.uploads, zoho.lists) == (0, [], 1)


def test_a_missing_recording_waits_then_is_given_up(ledger: Ledger, tmp_path: Path) -> None:
    deliver(ledger, "e1", recording="https://r/e1.mp3")
    rs = Ringostat(tmp_path, missing={"e1"})
    zoho = Zoho()
    report, _ = run(ledger, zoho, rs)
    assert (report.waiting, report.waiting_by_reason) == (1, {"missing": 1})
    # Later runs look again, even once the call is older than the delivery window.
    report, _ = run(ledger, zoho, rs, NOW + timedelta(days=2))
    assert report.waiting == 1 and len(rs.fetched) == 2
    report, _ = run(ledger, zoho, rs, NOW + timedelta(days=3))
    assert (report.given_up, report.waiting, len(rs.fetched)) == (1, 0, 2)
    report, _ = run(ledger, zoho, rs, NOW + timedelta(days=4))
    assert (report.given_up, len(rs.fetched), zoho.uploads) == (0, 2, [])


def test_a_recording_found_on_a_later_run_is_attached(ledger: Ledger, tmp_path: Path) -> None:
    deliver(ledger, "f1", recording="https://r/f1.mp3")
    rs, zoho = Ringostat(tmp_path, missing={"f1"}), Zoho()
    run(ledger, zoho, rs)
    rs.missing.clear()
    report, _ = run(ledger, zoho, rs, NOW + timedelta(hours=5))
    assert (report.attached, [n for _, n in zoho.uploads]) == (1, ["rs-f1.mp3"])


def test_calls_delivered_before_the_window_are_left_alone(ledger: Ledger, tmp_path: Path) -> None:
    deliver(ledger, "g1", recording="https://r/g1.mp3")
    report, _ = run(ledger, Zoho(), Ringostat(tmp_path), datetime.now(UTC) + timedelta(days=4))
    assert report.attached == 0


def test_a_broken_token_stops_the_pass_and_leaves_the_rest_waiting(
    ledger: Ledger, tmp_path: Path
) -> None:
    for rid in ("h1", "h2", "h3"):
        deliver(ledger, rid, recording=f"https://r/{rid}.mp3")
    zoho = Zoho(fail=ZohoAuthError("401 INVALID_OAUTH", status=401))
    report, passed = run(ledger, zoho, Ringostat(tmp_path))
    assert isinstance(passed.error, ZohoAuthError)
    assert report.attached == 0 and len(zoho.uploads) <= 2  # two workers at most
    zoho.fail = None
    report, _ = run(ledger, zoho, Ringostat(tmp_path))
    assert report.attached == 3


def test_doctor_counts_recordings_and_warns_about_lost_ones(ledger: Ledger, tmp_path: Path) -> None:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.doctor.recordings_check import check_recordings

    settings = Settings("t", tmp_path / "config.toml", "")
    off = check_recordings(settings, ledger)
    assert off.ok and off.skipped and "links only" in off.detail
    settings.set("recordings.attach", True)
    deliver(ledger, "k1", recording="https://r/k1.mp3")
    deliver(ledger, "k2", recording="https://r/k2.mp3")
    run(ledger, Zoho(), Ringostat(tmp_path, missing={"k2"}))
    result = check_recordings(settings, ledger)
    assert result.ok and "attached 1" in result.detail and "waiting 1" in result.detail
    run(ledger, Zoho(), Ringostat(tmp_path, missing={"k2"}), NOW + timedelta(days=3))
    result = check_recordings(settings, ledger)
    assert not result.ok and result.exit_code == ExitCode.PARTIAL and "given-up 1" in result.detail
    assert "retry_days" in (result.fix or "")


@pytest.mark.parametrize("answer", [{}, {"name": "rs-e1.mp3"}, {"id": None}, {"id": ""}])
def test_an_upload_answered_without_an_id_is_unknown_and_never_sent_twice(
    ledger: Ledger, tmp_path: Path, answer: dict[str, Any]
) -> None:
    deliver(ledger, "e1", recording="https://r/e1.mp3")
    deliver(ledger, "e2", recording="https://r/e2.mp3")
    zoho = Zoho(answer=answer, listing=NotFoundError("GET /calls/1/attachments: 404", status=404))
    report, passed = run(ledger, zoho, Ringostat(tmp_path))  # no crash: the pass goes on
    assert passed.error is None
    assert (report.attached, report.unknown, len(zoho.uploads)) == (0, 2, 2)
    op = ledger.op("e1", OpKind.ATTACHMENT)
    assert op is not None and op.intended and not op.done_id
    # The next run asks Zoho for the list first; a portal without one: unconfirmed, not resent.
    report, _ = run(ledger, zoho, Ringostat(tmp_path))
    assert (report.unconfirmed, len(zoho.uploads)) == (2, 2)
