"""The sync service asked to stop (the event `ringodesk sync` sets on Ctrl-C or SIGTERM):
in-process against the sandbox, with a profile set up through the installed command."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from e2e import KYIV, Call, Desk, ago, write_export
from file_keyring import FileKeyring
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.config.settings import Paths
from ringodesk_cli.ringostat.records import CallRecord
from ringodesk_cli.sandbox import Sandbox
from ringodesk_cli.session import Session
from ringodesk_cli.sync.service import SyncOptions, run_sync
from ringodesk_cli.sync.sources import read_all

CALLS = [Call(f"svc-{i}", f"+38067120{i:04d}", ago(40 - i), sip="anna_sip") for i in range(6)]


@pytest.fixture
def session(
    sandbox: Sandbox,  # noqa: F811
    subprocess_env: dict[str, str],
    tmp_path: Path,
) -> Iterator[Session]:
    Desk(sandbox, subprocess_env, tmp_path).setup()
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())  # where the installed command kept the secrets
    try:
        yield Session.open("default", Paths.discover())
    finally:
        keyring.set_keyring(previous)


def desk_requests(sb: Sandbox) -> int:
    return sum(sb.request_counts().values())


def test_a_run_asked_to_stop_before_it_starts_sends_nothing_and_keeps_every_call_pending(
    session: Session,
    sandbox: Sandbox,  # noqa: F811
    tmp_path: Path,
) -> None:
    export = write_export(tmp_path / "calls.csv", CALLS)
    before = desk_requests(sandbox)
    stop = threading.Event()
    stop.set()
    result = run_sync(session, [export], stop=stop)
    assert result.summary.interrupted
    assert (result.summary.read, result.summary.delivered) == (0, 0)
    assert desk_requests(sandbox) == before
    # Not marked as read: the next run reads the file again and delivers all of it.
    again = run_sync(session, [export])
    assert not again.summary.interrupted and again.unchanged_files == []
    assert (again.summary.read, again.summary.delivered) == (len(CALLS), len(CALLS))


def test_a_stop_while_reading_ends_the_reading_and_what_was_read_stays_pending(
    session: Session,
    sandbox: Sandbox,  # noqa: F811
    tmp_path: Path,
) -> None:
    export = write_export(tmp_path / "calls.csv", CALLS)
    stop = threading.Event()
    items = list(read_all([export], timezone=KYIV, default_region="UA", columns={}))
    assert all(isinstance(i, CallRecord) for i in items)

    def handed_in() -> Iterator[CallRecord]:
        for number, item in enumerate(items, start=1):
            yield item  # type: ignore[misc]
            if number == 2:
                stop.set()  # the signal lands after the second record

    before = desk_requests(sandbox)
    result = run_sync(session, records=handed_in(), stop=stop)
    assert result.summary.interrupted
    assert result.summary.read == 2 and result.summary.pending == 2
    assert desk_requests(sandbox) == before
    replayed = run_sync(session, [export], SyncOptions(replay="3d"))
    assert replayed.summary.delivered == len(CALLS)
    assert len(sandbox.records("calls")) == len(CALLS)


def test_the_run_reads_its_time_from_the_clock_it_is_handed(
    session: Session,
    tmp_path: Path,
) -> None:
    # The command layer hands in its Environment's clock: the run's "now" and the time of
    # its last_sync record come from it, not from the system clock.
    from datetime import UTC, datetime

    from ringodesk_cli.delivery.summary import LastSync
    from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger

    export = write_export(tmp_path / "calls.csv", CALLS[:2])
    frozen = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = run_sync(session, [export], clock=lambda: frozen)
    assert result.summary.delivered == 2
    last = LastSync.load(Ledger(session.state_dir / LEDGER_FILE))
    assert last is not None and last.at == frozen.isoformat()
