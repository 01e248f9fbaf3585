"""End to end: a lost, emptied or damaged ledger and an unusable state folder, through the
installed `ringodesk` against the sandbox under the strict and the lenient readings.

A ledger emptied to 0 bytes or deleted recovers what ringodesk made in Zoho Desk before it
creates anything: the rerun creates nothing twice and says what it recovered. A damaged
ledger, a read-only state folder and a full disk each end in exit 3 with the file, the
cause and the fix, never "unexpected error".
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from e2e import Call, Desk, ago, by_marker, write_export
from sandbox_fixture import both_readings, sandbox  # noqa: F401

from ringodesk_cli.sandbox import Sandbox

pytestmark = both_readings

TOTALS = ("contacts", "tickets", "calls", "tasks")


@pytest.fixture
def desk(sandbox: Sandbox, subprocess_env: dict[str, str], tmp_path: Path) -> Desk:  # noqa: F811
    d = Desk(sandbox, subprocess_env, tmp_path)
    d.setup()
    return d


def ledger_of(home: Path) -> Path:
    return home / "state" / "default" / "ledger.sqlite3"


def totals(sb: Sandbox) -> dict[str, int]:
    return {k: len(sb.records(k)) for k in TOTALS}


def day_of_calls() -> list[Call]:
    """Two new callers (inbound answered: contact + ticket + call; inbound missed: + task),
    a repeat caller (its second call: a call activity only) and an outbound call."""
    return [
        Call("lost-1", "0671110001", when=ago(300), sip="anna_sip"),
        Call("lost-2", "0671110002", when=ago(240), disposition="NO ANSWER", billsec=0),
        Call("lost-3", "0671110001", when=ago(120), sip="petro_sip"),
        Call("lost-4", "0671110003", when=ago(60), call_type="out", sip="anna_sip"),
    ]


@pytest.mark.parametrize("loss", ["emptied", "deleted", "folder"])
def test_a_lost_ledger_recovers_from_zoho_and_the_rerun_creates_nothing_twice(
    desk: Desk, tmp_path: Path, isolated_home: Path, loss: str
) -> None:
    export = write_export(tmp_path / "day.csv", day_of_calls())
    first = desk.sync(str(export))
    assert first.code == 0, first
    # By hand: contacts 3 (three numbers), tickets 2 (the new inbound callers lost-1 and
    # lost-2), calls 4, tasks 1 (lost-2 missed).
    before = {"contacts": 3, "tickets": 2, "calls": 4, "tasks": 1}
    assert totals(desk.sb) == before
    ledger = ledger_of(isolated_home)
    if loss == "emptied":
        ledger.write_bytes(b"")
    elif loss == "folder":  # the whole state folder: token cache, contact index, ledger
        shutil.rmtree(ledger.parent)
    else:
        for name in ("", "-wal", "-shm"):
            Path(f"{ledger}{name}").unlink(missing_ok=True)
    creates_before = desk.creating()
    rerun = desk.sync("--replay", "3d", str(export))
    assert rerun.code == 0, rerun
    assert totals(desk.sb) == before
    assert desk.creating() == creates_before
    for rid in ("lost-1", "lost-2", "lost-3", "lost-4"):
        assert len(by_marker(desk.sb.records("calls"), rid)) == 1
    data = rerun.json()
    recovered = data["recovered"]
    assert (recovered["calls"], recovered["tickets"], recovered["tasks"]) == (4, 2, 1)
    assert recovered["contacts"] == 3
    assert data["delivered"] == 4 and data["failed"] == 0 and data["pending"] == 0
    (notice,) = [n for n in data["notices"] if "recovered" in n]
    assert "4 call activities, 2 tickets, 1 tasks, 3 contacts" in notice
    third = desk.sync("--replay", "3d", str(export))
    assert third.json()["recovered"] is None and third.json()["already_delivered"] == 4
    assert totals(desk.sb) == before
    human = desk.run("log", "show", "lost-2")
    assert human.code == 0 and "recovered" in human.stdout, human


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_text("my notes, not a database\n" * 50), id="text"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:1500]), id="truncated"),
        pytest.param(lambda p: p.write_bytes(os.urandom(8192)), id="garbage"),
    ],
)
def test_a_damaged_ledger_is_exit_3_naming_the_file_and_the_way_out(
    desk: Desk, tmp_path: Path, isolated_home: Path, damage: object
) -> None:
    export = write_export(tmp_path / "day.csv", [Call("dmg-1", "0671110009", when=ago(30))])
    assert desk.sync(str(export)).code == 0
    ledger = ledger_of(isolated_home)
    for side in ("-wal", "-shm"):
        Path(f"{ledger}{side}").unlink(missing_ok=True)
    damage(ledger)  # type: ignore[operator]
    for command in (["sync", "--replay", "3d"], ["log"], ["quarantine", "list"]):
        result = desk.run(*command)
        assert result.code == 3, (command, result)
        assert f"{ledger}: the ledger is damaged" in result.stderr, (command, result.stderr)
        assert f"mv {ledger} {ledger}.damaged" in result.stderr
        assert "ringodesk sync --replay 3d" in result.stderr
        assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    doctor = desk.run("doctor")
    assert f"{ledger}: the ledger is damaged" in doctor.stdout + doctor.stderr
    assert doctor.code != 1
    # The way out the message gives: moved aside, the next replay recovers from Zoho.
    ledger.rename(ledger.with_name(ledger.name + ".damaged"))
    rerun = desk.sync("--replay", "3d", str(export))
    assert rerun.code == 0, rerun
    assert len(by_marker(desk.sb.records("calls"), "dmg-1")) == 1
    assert rerun.json()["recovered"]["calls"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_state_folder_is_exit_3_naming_it(
    desk: Desk, tmp_path: Path, isolated_home: Path
) -> None:
    export = write_export(tmp_path / "day.csv", [Call("ro-1", "0671110010", when=ago(30))])
    assert desk.sync(str(export)).code == 0
    folder = ledger_of(isolated_home).parent
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = desk.sync(str(export))
    finally:
        folder.chmod(stat.S_IRWXU)
    assert result.code == 3, result
    assert str(folder) in result.stderr and "writable" in result.stderr
    assert "unexpected error" not in result.stderr


def test_a_ledger_left_0644_by_an_older_version_is_made_0600(
    desk: Desk, tmp_path: Path, isolated_home: Path
) -> None:
    export = write_export(tmp_path / "day.csv", [Call("mode-1", "0671110011", when=ago(30))])
    assert desk.sync(str(export)).code == 0
    ledger = ledger_of(isolated_home)
    os.chmod(ledger, 0o644)  # as versions before this one left it
    assert desk.sync("--replay", "3d", str(export)).code == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in ledger.parent.glob("ledger.sqlite3*")}
    assert modes.get("ledger.sqlite3") == 0o600, modes
    assert all(mode == 0o600 for mode in modes.values()), modes  # -wal, -shm when left


# -- in-process: faults no subprocess can be given (a full disk; a read-only folder as root)
@pytest.fixture
def file_keyring() -> None:
    """The in-process command reads the secrets `desk.setup()` stored for the subprocesses."""
    import keyring
    from file_keyring import FileKeyring

    keyring.set_keyring(FileKeyring())


def test_a_full_disk_mid_delivery_is_exit_3_and_the_rerun_creates_nothing_twice(
    desk: Desk, tmp_path: Path, cli: Any, file_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringodesk_cli.delivery.runner import Runner

    calls = [Call(f"full-{i}", f"067111002{i}", when=ago(100 - 10 * i)) for i in range(6)]
    export = write_export(tmp_path / "day.csv", calls)
    deliver = Runner.deliver

    def on_a_full_disk(runner: Runner) -> Any:
        with runner.ledger.reading() as db:  # not one page more: SQLite's SQLITE_FULL
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")
        return deliver(runner)

    monkeypatch.setattr(Runner, "deliver", on_a_full_disk)
    full = cli("sync", str(export))
    monkeypatch.setattr(Runner, "deliver", deliver)
    assert full.code == 3, (full.stdout, full.stderr)
    assert "ledger.sqlite3: the disk is full (database or disk is full)" in full.stderr
    assert "free space on the disk" in full.stderr and "unexpected error" not in full.stderr
    rerun = desk.sync("--replay", "3d", str(export))
    assert rerun.code == 0, rerun
    for call in calls:
        assert len(by_marker(desk.sb.records("calls"), call.id)) == 1, call.id
    # By hand: six new inbound answered callers: a contact and a ticket each.
    assert (len(desk.sb.records("contacts")), len(desk.sb.records("tickets"))) == (6, 6)


def test_a_read_only_state_folder_is_exit_3_naming_the_file_even_as_root(
    desk: Desk, tmp_path: Path, isolated_home: Path, cli: Any, file_keyring: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    export = write_export(tmp_path / "day.csv", [Call("ro-2", "0671110012", when=ago(30))])
    state = ledger_of(isolated_home).parent
    real_open = os.open

    def read_only(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # What a read-only folder answers a user who is not root (tests may run as root).
        if str(path).startswith(str(state)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    result = cli("sync", str(export))
    monkeypatch.setattr(os, "open", real_open)
    assert result.code == 3, (result.stdout, result.stderr)
    assert f"{state}/" in result.stderr and "Permission denied" in result.stderr
    assert "writable by the user that runs ringodesk" in result.stderr
    assert "unexpected error" not in result.stderr
    assert desk.sb.records("calls") == []


def test_log_and_quarantine_read_an_emptied_ledger_as_an_empty_one(
    desk: Desk, tmp_path: Path, isolated_home: Path
) -> None:
    export = write_export(tmp_path / "day.csv", [Call("empty-1", "0671110013", when=ago(30))])
    assert desk.sync(str(export)).code == 0
    ledger_of(isolated_home).write_bytes(b"")
    log = desk.run("log")
    assert (log.code, log.stdout.strip()) == (0, "no calls match"), log
    listed = desk.run("quarantine", "list")
    assert (listed.code, listed.stdout.strip()) == (0, "no quarantined rows"), listed


def test_a_dry_run_over_a_lost_ledger_says_a_live_run_recovers_first(
    desk: Desk, tmp_path: Path, isolated_home: Path
) -> None:
    export = write_export(tmp_path / "day.csv", day_of_calls())
    assert desk.sync(str(export)).code == 0
    before = desk.sync("--dry-run", str(export))
    assert not any("recovers from Zoho" in n for n in before.json()["notices"])
    ledger_of(isolated_home).unlink()
    dry = desk.sync("--dry-run", str(export))
    assert dry.code == 0, dry
    assert any(
        n.startswith("the ledger holds nothing delivered yet: a live run first recovers")
        for n in dry.json()["notices"]
    ), dry.json()["notices"]
