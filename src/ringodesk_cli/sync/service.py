"""One sync run as a library call: `ringodesk sync`, `ringodesk demo` (and a server taking
records from webhooks) parse their input, call ``run_sync`` and render its ``SyncResult``.

A run holds the profile's run lock (not a dry run), reads its records (export files, the
inbox, Ringostat's API, or records handed in by the caller), stores them in the ledger,
delivers them to Zoho Desk (or plans them: ``--dry-run``) and records its outcome for
`doctor`. Progress is reported through callbacks: the library draws nothing.

A caller that wants to stop a run (``sync`` on Ctrl-C or SIGTERM) sets the ``stop`` event it
passed: reading ends, no new request starts, the requests in flight finish and are recorded,
and the result is marked ``interrupted``; what was not sent stays pending in the ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ringodesk_cli.contacts.index import ContactIndex
from ringodesk_cli.delivery.engine import Engine
from ringodesk_cli.delivery.runner import Runner
from ringodesk_cli.delivery.summary import LastSync, Summary
from ringodesk_cli.errors import (
    AuthError,
    Interrupted,
    UsageError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger
from ringodesk_cli.ringostat.records import BadRow, CallRecord
from ringodesk_cli.rules.planner import Policy, policy_from_settings
from ringodesk_cli.sync.preview import Preview
from ringodesk_cli.sync.sources import SourcePlan, plan_sources, read_all

if TYPE_CHECKING:
    from ringodesk_cli.session import Session
    from ringodesk_cli.sync.api_source import Window

Item = CallRecord | BadRow
Advance = Callable[[int], None]
# (label, total or None) -> a context whose value advances the bar by n.
ProgressFactory = Callable[[str, int | None], AbstractContextManager[Advance]]


@dataclass(frozen=True)
class SyncOptions:
    """``replay``: a duration such as ``3d`` (today and the two previous days) or ``12h``;
    ``since``/``until``: a backfill window for ``source.kind = api``."""

    replay: str | None = None
    dry_run: bool = False
    offline: bool = False  # with dry_run: no read-only searches either
    since: str | None = None
    until: str | None = None
    # `ringodesk retry`: these calls of the ledger (and, with retry_failed, every failed
    # one) are re-attempted, and no source is read.
    retry: tuple[str, ...] = ()
    retry_failed: bool = False

    @property
    def retrying(self) -> bool:
        return bool(self.retry) or self.retry_failed

    def __post_init__(self) -> None:
        if self.offline and not self.dry_run:
            raise UsageError("--offline only makes sense with --dry-run")
        if self.replay:
            _check_duration(self.replay)


@dataclass(frozen=True)
class SyncHooks:
    progress: ProgressFactory | None = None  # "Reading exports", "Delivering to Zoho Desk"
    on_plan: Callable[[CallRecord, list[str]], None] | None = None  # dry run, per record


@dataclass(frozen=True)
class SyncResult:
    summary: Summary
    files: list[Path] = field(default_factory=list)
    unchanged_files: list[Path] = field(default_factory=list)
    ledger: Path | None = None
    window: Window | None = None  # what was fetched from Ringostat's API

    @property
    def exit_code(self) -> int:
        return int(self.summary.exit_code)

    def as_dict(self) -> dict[str, Any]:
        data = self.summary.as_dict()
        data["files"] = [str(p) for p in self.files]
        data["unchanged_files"] = [str(p) for p in self.unchanged_files]
        data["ledger"] = str(self.ledger)
        data["ringostat_window"] = self.window.as_dict() if self.window else None
        return data


def run_sync(
    session: Session,
    files: Sequence[Path] = (),
    options: SyncOptions | None = None,
    hooks: SyncHooks | None = None,
    *,
    records: Iterable[Item] | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    wait_for_server: bool = True,
) -> SyncResult:
    """One sync run. ``files``: exports named by the user (none: the profile's source);
    ``records``: records handed in directly (a webhook), read instead of any source;
    ``stop``: set it to end the run early (see the module's docstring); ``clock``: the
    process's clock (the command layer hands in its Environment's).
    Raises UsageError for bad options, BusyError when another run holds the lock."""
    opts = options or SyncOptions()
    hooks = hooks or SyncHooks()
    settings = session.settings
    policy = policy_from_settings(settings)  # a config error stops the run before the lock
    timezone = ZoneInfo(settings.get("ringostat.timezone"))
    # One "now" for the whole run: the replay window, the API window and the replay itself
    # must agree, even when the run straddles midnight.
    now = clock()
    replay_from = _replay_start(opts.replay, timezone, now)
    state_dir = session.state_dir
    with ExitStack() as stack:
        if not opts.dry_run:
            from ringodesk_cli.locks import run_lock

            state_dir.mkdir(parents=True, exist_ok=True)
            # Beside a running `ringodesk serve`, wait for its delivery instead of exit 7
            # (not the server's own catch-up: it tries again later, ``wait_for_server``).
            stack.enter_context(run_lock(state_dir, wait_for_server=wait_for_server))
        ledger = Ledger(state_dir / LEDGER_FILE, readonly=opts.dry_run)
        stack.callback(ledger.close)
        run = _Run(session, ledger, policy, opts, hooks, timezone, replay_from, now, stop, clock)
        return run.run(files, records)
    raise AssertionError("unreachable")  # pragma: no cover


def _check_duration(replay: str) -> None:
    from ringodesk_cli.config.durations import parse_duration

    try:
        parse_duration(replay)
    except ValueError as exc:
        raise UsageError(f"--replay: {exc}") from None


def _replay_start(replay: str | None, timezone: ZoneInfo, now: datetime) -> datetime | None:
    from ringodesk_cli.sync.window import replay_start

    return replay_start(replay, timezone, now) if replay else None


class _Run:
    """The steps of one run, sharing its ledger, options and clock."""

    def __init__(
        self,
        session: Session,
        ledger: Ledger,
        policy: Policy,
        opts: SyncOptions,
        hooks: SyncHooks,
        timezone: ZoneInfo,
        replay_from: datetime | None,
        now: datetime,
        stop: threading.Event | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session, self.ledger, self.policy = session, ledger, policy
        self.opts, self.hooks = opts, hooks
        self.settings = session.settings
        self.timezone, self.now, self.replay_from = timezone, now, replay_from
        self.region = str(self.settings.get("ringostat.default_region"))
        self.stop = stop or threading.Event()
        self.clock = clock

    def run(self, files: Sequence[Path], records: Iterable[Item] | None) -> SyncResult:
        if self.opts.retrying and not files and records is None:
            records = ()  # nothing is read: the calls come from the ledger
        engine = self._engine()
        sources = self._sources(files, records)
        window, complete = self._read_everything(engine, sources, records)
        summary = self._deliver(engine)
        self._attach_recordings(engine, summary)
        summary.interrupted = self.stop.is_set()
        summary.open_quarantine = self.ledger.quarantine_count()
        if not self.opts.dry_run:
            if window is not None and complete:
                # The fetch itself succeeded and every call is in the ledger: the next plain
                # run starts here (minus the overlap), whatever happened at Zoho.
                from ringodesk_cli.sync.api_source import LAST_FETCH

                self.ledger.set_meta(LAST_FETCH, window.end.isoformat())
            LastSync.of(summary, self.clock()).save(self.ledger)
        return SyncResult(
            summary=summary,
            files=list(sources.files),
            unchanged_files=list(sources.unchanged),
            ledger=self.ledger.path,
            window=window,
        )

    def _read_everything(
        self, engine: Engine | Preview, sources: SourcePlan, records: Iterable[Item] | None
    ) -> tuple[Window | None, bool]:
        """Every source into the engine, and whether all of it was read: a run asked to
        stop reads no further, marks no file as read and leaves the API window where it was
        (the next run reads them again; the ledger knows what it already has)."""
        window = None
        reader = engine.runner if isinstance(engine, Engine) else engine
        try:
            if sources.api:
                window = self._fetch_from_api(reader)
            if records is not None:
                reader.ingest(self._unless_stopped(records))
            with self._progress("Reading exports", None) as advance:
                reader.ingest(
                    _counted(self._unless_stopped(self._read(sources, reader.summary)), advance)
                )
            complete = not self.stop.is_set()
            if complete and not self.opts.dry_run:
                for path, digest in sources.digests.items():
                    self.ledger.remember_file(str(path.resolve()), digest)
            if complete and self.replay_from is not None:
                reader.add_replay(self.replay_from.isoformat())
            if self.opts.retrying and isinstance(reader, Runner):
                from ringodesk_cli.ledger.history import retry_rows

                rows, notes = retry_rows(
                    self.ledger, self.opts.retry, failed=self.opts.retry_failed
                )
                reader.add_calls(rows)
                reader.summary.notices.extend(notes)
        except Interrupted:  # a dry run searches Zoho while it plans
            complete = False
        return window, complete

    def _unless_stopped(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            if self.stop.is_set():
                return
            yield item

    def _engine(self) -> Engine | Preview:
        """The delivery engine (``engine.Engine``: the one sync, serve, retry and demo
        share), or for a dry run the preview, which plans with the same rules."""
        if not self.opts.dry_run:
            return Engine.open(self.session, self.ledger, stop=self.stop, policy=self.policy)
        desk = None
        if not self.opts.offline:
            try:
                desk = self.session.desk()
                desk.stop_when(self.stop)
            except AuthError:
                desk = None
        self.index = ContactIndex(
            self.ledger, self.region, index_max=int(self.settings.get("contacts.index_max"))
        )
        return Preview(
            desk=desk,
            ledger=self.ledger,
            policy=self.policy,
            default_region=self.region,
            on_plan=self.hooks.on_plan,
            replay_since=self.replay_from.isoformat() if self.replay_from else None,
            contact_index=self.index,
            recording_format=self._recording_format(),
        )

    def _recording_format(self) -> str | None:
        """The recordings' format when they are attached, else None."""
        attach = bool(self.settings.get("recordings.attach"))
        return str(self.settings.get("recordings.format")) if attach else None

    def _sources(self, files: Sequence[Path], records: Iterable[Item] | None) -> SourcePlan:
        if records is not None and not files:
            sources = SourcePlan(files=[])
        else:
            sources = plan_sources(
                list(files),
                kind=self.settings.get("source.kind"),
                inbox=self.settings.get("source.inbox"),
                ledger=self.ledger,
                replay=bool(self.opts.replay),
            )
        if (self.opts.since or self.opts.until) and not sources.api:
            raise UsageError("--since/--until need source.kind = api (files carry their own dates)")
        return sources

    def _read(self, sources: SourcePlan, summary: Summary) -> Iterator[Item]:
        return read_all(
            sources.files,
            timezone=self.timezone,
            default_region=self.region,
            columns=self.settings.table("source.columns"),
            report=summary,
            plan=sources,
            set_aside=not self.opts.dry_run,
        )

    def _deliver(self, engine: Engine | Preview) -> Summary:
        if isinstance(engine, Preview):
            return engine.finish()
        runner = engine.runner
        if engine.desk is None or self.stop.is_set():
            # Zoho cannot be reached at all (tokens), or asked to stop before the first
            # request: everything read stays pending in the ledger.
            if engine.desk_error is not None:
                runner.summary.stop(engine.desk_error)
            runner.summary.pending = runner.to_attempt
            return runner.summary
        if runner.to_attempt:
            try:
                with self._progress("Indexing Zoho Desk contacts", None) as advance:
                    engine.refresh_index(progress=advance)
            except Interrupted:
                # Asked to stop while the index was refreshed: everything read stays pending.
                runner.summary.pending = runner.to_attempt
                return runner.summary
            except ZohoError as exc:
                if isinstance(exc, AuthError | ZohoUnavailableError):
                    runner.summary.stop(exc)
                    runner.summary.pending = runner.to_attempt
                    return runner.summary
                # Any other refusal: the index stays as it was (look-ups fall back to
                # search while it is not built).
        with self._progress("Delivering to Zoho Desk", runner.to_attempt) as advance:
            runner.on_progress = advance
            return engine.deliver(replay_from=self.replay_from)

    def _attach_recordings(self, engine: Engine | Preview, summary: Summary) -> None:
        """After the call activities: their recordings (``recordings.attach``), counted in
        the summary; a dry run counts the uploads it would try."""
        from ringodesk_cli.delivery import recordings

        options = recordings.RecordingOptions.of(self.settings)
        if not options.attach:
            return
        if isinstance(engine, Preview):
            known = (
                0
                if self.ledger.empty
                else recordings.planned_uploads(self.ledger, options, self.now)
            )
            planned = recordings.RecordingReport(planned=engine.recordings_planned + known)
            summary.recordings = planned.as_dict()
            return
        if summary.stopped or self.stop.is_set():
            return  # the next run attaches them (they are read from the ledger)
        attach = engine.attachments()
        if attach is None or engine.desk is None:
            return
        attach.run()
        recordings.report_into(summary, attach, engine.desk)

    def _progress(self, label: str, total: int | None) -> AbstractContextManager[Advance]:
        if self.hooks.progress is None:
            return nullcontext(_ignore)
        return self.hooks.progress(label, total)

    def _fetch_from_api(self, engine: Runner | Preview) -> Window:
        from ringodesk_cli.sync.api_source import fetch_records, parse_moment, plan_window

        opts, tz = self.opts, self.timezone
        window = plan_window(
            self.ledger,
            now=self.now,
            timezone=tz,
            replay_since=self.replay_from,
            since=parse_moment(opts.since, tz, "--since") if opts.since else None,
            until=parse_moment(opts.until, tz, "--until") if opts.until else None,
        )
        items = fetch_records(
            api_url=self.settings.get("ringostat.api_url"),
            key=self.session.credentials.get("ringostat_key"),
            window=window,
            timezone=tz,
            default_region=self.region,
            mappings={
                **self.settings.table("mapping.ticket"),
                **self.settings.table("mapping.contact"),
            },
        )
        engine.ingest(self._unless_stopped(items))
        return window


def _ignore(_n: int) -> None:
    return None


def _counted(items: Iterable[Item], advance: Advance) -> Iterator[Item]:
    for item in items:
        advance(1)
        yield item
