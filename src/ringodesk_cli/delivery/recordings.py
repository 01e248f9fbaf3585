"""The attachment pass: each delivered call's recording, downloaded from Ringostat and attached
to its Zoho Desk call activity as ``rs-<Ringostat id>.<ext>``, exactly once.

It runs after the call activities of the run are delivered, with the same cap on requests in
flight (``zoho.concurrency`` workers). Its calls are the ones this run delivered, plus those
whose recording earlier runs are still waiting for. A recording that cannot be fetched never
fails its call (the link stays in the activity's description): it is looked for again by
later runs for ``recordings.retry_days``, then given up and counted. One over
``recordings.max_mb`` is skipped with its reason.

Exactly once: the upload is the ledger operation ``attachment``, written ``intended`` before
the request and ``done`` with Zoho's attachment id after. An ``intended`` one (a crash or a
lost answer) is reconciled first by listing the call's attachments and looking for the file
name; a portal that cannot list them leaves it ``unconfirmed``: counted, never sent again.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ringodesk_cli.config.hosts import AllowedHosts
from ringodesk_cli.errors import (
    AuthError,
    Interrupted,
    OutcomeUnknownError,
    RingodeskError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.interrupts import result_of
from ringodesk_cli.ledger.record_json import from_json
from ringodesk_cli.ledger.recording_states import (
    ATTACHED,
    FINAL,
    GIVEN_UP,
    SKIPPED,
    UNCONFIRMED,
    WAITING,
    RecordingReport,
    RecordingStates,
)
from ringodesk_cli.ledger.store import CallState, Ledger, OpKind
from ringodesk_cli.ringostat.recordings import (
    NOT_ALLOWED,
    PART_GLOB,
    TOO_LARGE,
    Download,
    RecordingFetcher,
)

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings
    from ringodesk_cli.delivery.summary import Summary
    from ringodesk_cli.ringostat.records import CallRecord
    from ringodesk_cli.session import Session
    from ringodesk_cli.zoho.desk import DeskClient
    from ringodesk_cli.zoho.desk_attachments import AttachmentClient

__all__ = [
    "AttachmentPass",
    "RecordingOptions",
    "RecordingReport",
    "attachment_pass",
    "planned_uploads",
    "recording_link",
    "report_into",
]

CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}
# The reasons printed in the summary: at most this many lines per run.
REASONS_SHOWN = 20


@dataclass(frozen=True)
class RecordingOptions:
    attach: bool = False
    format: str = "mp3"
    max_mb: int = 20
    retry_days: int = 3

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024

    @classmethod
    def of(cls, settings: Settings) -> RecordingOptions:
        return cls(
            attach=bool(settings.get("recordings.attach")),
            format=str(settings.get("recordings.format")),
            max_mb=int(settings.get("recordings.max_mb")),
            retry_days=int(settings.get("recordings.retry_days")),
        )


def recording_link(record: CallRecord, fmt: str) -> tuple[str, str] | None:
    """(URL, extension) of the call's recording in the chosen format, or None. ``mp3``
    takes Ringostat's ``recording`` (which is ``recording_wav`` when ``recording`` is empty),
    ``wav`` takes ``recording_wav`` (else ``recording``)."""
    wav = record.extra.get("recording_wav") or None
    url = (wav or record.recording_url) if fmt == "wav" else (record.recording_url or wav)
    if not url:
        return None
    return url, "wav" if url == wav else "mp3"


class _Stop(Exception):
    """Internal: Zoho refuses every request now (auth, unavailable): the pass ends."""


class AttachmentPass:
    """One run's attachments. ``client`` uploads and lists; ``fetcher`` downloads."""

    def __init__(
        self,
        ledger: Ledger,
        client: AttachmentClient,
        fetcher: RecordingFetcher,
        options: RecordingOptions,
        *,
        concurrency: int = 5,
        stop: threading.Event | None = None,
        now: datetime | None = None,
    ) -> None:
        self.ledger, self.client, self.fetcher, self.options = ledger, client, fetcher, options
        self.states = RecordingStates(ledger)
        self.concurrency = max(1, concurrency)
        self.stop = stop or threading.Event()
        self.now = now or datetime.now(UTC)
        self.report = RecordingReport()
        self.error: RingodeskError | None = None
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def run(self) -> RecordingReport:
        """Attach the recordings of the calls delivered within ``retry_days`` (this run's
        among them) and of the calls earlier runs are waiting for."""
        ids = self.states.candidates(self.now - timedelta(days=self.options.retry_days))
        with ThreadPoolExecutor(
            max_workers=self.concurrency, thread_name_prefix="recordings"
        ) as pool:
            for future in [pool.submit(self.attach_one, rid) for rid in ids]:
                result_of(future)  # wakes for a signal's handler (interrupts.WAKE_EVERY)
        return self.report

    def attach_one(self, rid: str) -> None:
        """The recording of one delivered call (the server's stream calls it as each call is
        delivered); a stop of the pass (Zoho refusing every request) ends it quietly."""
        if self.stop.is_set() or self._halt.is_set():
            return
        try:
            self._attach(rid)
        except (_Stop, Interrupted):
            self._halt.set()

    def _count(self, name: str, rid: str | None = None, why: str | None = None) -> None:
        with self._lock:
            setattr(self.report, name, getattr(self.report, name) + 1)
            if rid is not None and why is not None and len(self.report.reasons) < REASONS_SHOWN:
                self.report.reasons.append(f"{rid}: {why}")

    def _attach(self, rid: str) -> None:
        row = self.ledger.get_call(rid)
        call = self.ledger.op(rid, OpKind.CALL)
        if row is None or row.state is not CallState.DELIVERED or call is None:
            return
        call_id = call.done_id
        link = recording_link(from_json(row.record), self.options.format)
        if call_id is None or link is None:
            return
        url, ext = link
        name = f"rs-{rid}.{ext}"
        known = self.states.get(rid)
        op = self.ledger.op(rid, OpKind.ATTACHMENT)
        if op is not None and op.done_id:
            if known is None or known.state != ATTACHED:
                self.states.set(rid, ATTACHED, self.now)
            return
        if known is not None and known.state in FINAL:
            return
        if op is not None and op.intended and self._reconciled(rid, call_id, name):
            return
        if known is not None and self._expired(known.first_tried):
            self.states.set(rid, GIVEN_UP, self.now, reason=known.reason, detail=known.detail)
            self._count("given_up", rid, f"given up after {self.options.retry_days} day(s)")
            return
        download = self.fetcher.download(url)
        try:
            self._upload(rid, call_id, name, ext, download, known is None)
        finally:
            download.discard()

    def _expired(self, first_tried: datetime) -> bool:
        return self.now - first_tried >= timedelta(days=self.options.retry_days)

    def _reconciled(self, rid: str, call_id: str, name: str) -> bool:
        """True when the outcome of an earlier upload is settled (found, or unknowable)."""
        try:
            listed = self.client.list(call_id)
        except (AuthError, ZohoUnavailableError) as exc:
            self._stop_on(exc)
            raise _Stop from None
        except ZohoError as exc:
            # No listing on this portal: the earlier upload may have landed; never send twice.
            detail = f"an upload's answer was lost and Zoho cannot list attachments ({exc})"
            self.states.set(rid, UNCONFIRMED, self.now, reason="unconfirmed", detail=detail)
            self._count("unconfirmed", rid, "upload unconfirmed: Zoho cannot list attachments")
            return True
        for item in listed:
            if str(item.get("name") or "") == name and item.get("id"):
                self.ledger.done(rid, OpKind.ATTACHMENT, str(item["id"]))
                self.states.set(rid, ATTACHED, self.now)
                self._count("reconciled")
                return True
        return False

    def _upload(
        self, rid: str, call_id: str, name: str, ext: str, download: Download, first: bool
    ) -> None:
        if download.path is None:
            if download.reason in (TOO_LARGE, NOT_ALLOWED):
                reason = str(download.reason)
                self.states.set(
                    rid, SKIPPED, self.now, reason=reason, detail=download.detail, tried=True
                )
                counter = "too_large" if reason == TOO_LARGE else "not_allowed"
                self._count(counter, rid, f"recording not attached: {download.detail}")
                return
            reason = str(download.reason)
            self.states.set(
                rid, WAITING, self.now, reason=reason, detail=download.detail, tried=True
            )
            with self._lock:
                self.report.waiting += 1
                by = self.report.waiting_by_reason
                by[reason] = by.get(reason, 0) + 1
            return
        if self.stop.is_set() or self._halt.is_set():
            return
        if first:
            self.states.set(rid, WAITING, self.now, tried=True)
        self.ledger.intend(rid, OpKind.ATTACHMENT)
        try:
            answer = self.client.upload(call_id, download.path, name, CONTENT_TYPES[ext])
        except OutcomeUnknownError:
            self._count("unknown")  # stays intended: the next run lists before sending
            return
        except Interrupted:
            raise _Stop from None
        except (AuthError, ZohoUnavailableError) as exc:
            self._stop_on(exc)
            raise _Stop from None
        except ZohoError as exc:
            self.states.set(rid, SKIPPED, self.now, reason="refused", detail=str(exc))
            self._count("refused", rid, f"Zoho refused the recording: {exc}")
            return
        attachment_id = answer.get("id") if isinstance(answer, dict) else None
        if not attachment_id:
            # Zoho answered without an id: the upload may have landed. It stays intended, so
            # the next run lists the call's attachments before sending (never twice).
            self._count("unknown", rid, "Zoho's answer to the upload had no attachment id")
            return
        self.ledger.done(rid, OpKind.ATTACHMENT, str(attachment_id))
        self.states.set(rid, ATTACHED, self.now)
        self._count("attached")

    def _stop_on(self, exc: RingodeskError) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc


def planned_uploads(ledger: Ledger, options: RecordingOptions, now: datetime) -> int:
    """Dry run: the uploads a live run would try for calls already delivered (lately, or
    waiting for their recording); the calls the run would deliver are counted by the
    preview as it plans them."""
    states = RecordingStates(ledger)
    ids = states.candidates(now - timedelta(days=options.retry_days))
    count = 0
    for rid in ids:
        op = ledger.op(rid, OpKind.ATTACHMENT) if not ledger.empty else None
        known = states.get(rid)
        if (op is None or not op.done_id) and (known is None or known.state not in FINAL):
            count += 1
    return count


def attachment_pass(
    session: Session,
    ledger: Ledger,
    desk: DeskClient,
    options: RecordingOptions,
    *,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> AttachmentPass:
    """The pass of one batch or stream (``engine.Engine.attachments``): the Desk client's
    uploads, the Ringostat downloads (the key sent only where ``RecordingFetcher`` allows)."""
    from ringodesk_cli.zoho.desk_attachments import AttachmentClient

    settings = session.settings
    # Pieces left by a run killed mid-download (the caller holds the run lock: none is in use).
    for stale in session.state_dir.glob(PART_GLOB):
        stale.unlink(missing_ok=True)
    try:
        key = session.credentials.get("ringostat_key")
    except RingodeskError:  # no working secret store: links that need the key wait
        key = None
    fetcher = RecordingFetcher(
        max_bytes=options.max_bytes,
        key=key,
        api_url=str(settings.get("ringostat.api_url")),
        folder=session.state_dir,
        hosts=AllowedHosts.of(settings.get("recordings.hosts")),
    )
    return AttachmentPass(
        ledger,
        AttachmentClient(desk),
        fetcher,
        options,
        concurrency=int(settings.get("zoho.concurrency")),
        stop=stop,
        now=now,
    )


def report_into(summary: Summary, attach: AttachmentPass, desk: DeskClient) -> None:
    """The pass's counts written into ``summary`` (``recordings``, the requests, and a stop
    when Zoho refused the token or stayed unavailable)."""
    from ringodesk_cli.zoho.desk_attachments import UPLOAD_KEY

    requests = dict(desk.stats)
    if attach.client.uploads:
        requests[UPLOAD_KEY] = requests.get(UPLOAD_KEY, 0) + attach.client.uploads
    summary.requests = dict(sorted(requests.items()))
    summary.recordings = attach.report.as_dict()
    if attach.error is not None:
        summary.stop(attach.error)
