"""Where secrets live: keyring round trips, the timeout, the fallbacks, and read_secret."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from file_keyring import MemoryKeyring
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from ringodesk_cli.credentials import (
    ENV_VARS,
    SECRET_NAMES,
    SERVICE,
    CredentialStore,
    forget_keyring_failures,
    read_secret,
)
from ringodesk_cli.errors import CredentialStoreError, ExitCode, UsageError
from ringodesk_cli.redact import redact

SECRET = "1000.secretvalue-abcdef"
TOKEN = "1000.refreshtoken-0123456789"


@pytest.fixture(autouse=True)
def _fresh_failures() -> Iterator[None]:
    forget_keyring_failures()
    yield
    forget_keyring_failures()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state" / "default"


class HangingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, seconds: float = 3.0) -> None:
        super().__init__()
        self.seconds = seconds
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        time.sleep(self.seconds)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.get_password(service, username)

    def delete_password(self, service: str, username: str) -> None:
        self.get_password(service, username)


class RaisingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("collection is locked")


# -- keyring ------------------------------------------------------------------------------


def test_keyring_round_trip_stores_under_service_and_profile_username(
    state_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    store = CredentialStore("default", state_dir)
    assert store.kind == "keyring"
    assert store.get("refresh_token") is None
    store.set("refresh_token", TOKEN)
    assert store.get("refresh_token") == TOKEN
    assert memory_keyring.store == {(SERVICE, "default:refresh_token"): TOKEN}
    assert store.source("refresh_token") == "keyring"
    store.delete("refresh_token")
    assert store.get("refresh_token") is None
    assert store.source("refresh_token") is None
    assert not state_dir.exists()  # the keyring store writes no file


def test_deleting_a_missing_secret_is_fine(state_dir: Path) -> None:
    CredentialStore("default", state_dir).delete("client_secret")


def test_profiles_do_not_see_each_others_secrets(tmp_path: Path) -> None:
    work = CredentialStore("work", tmp_path / "work")
    home = CredentialStore("home", tmp_path / "home")
    work.set("client_secret", SECRET)
    assert home.get("client_secret") is None
    home.set("client_secret", "home-secret-value")
    assert work.get("client_secret") == SECRET


def test_values_read_and_written_are_redacted(state_dir: Path) -> None:
    store = CredentialStore("default", state_dir)
    store.set("ringostat_key", "rs-key-plain-123")
    assert redact("key=rs-key-plain-123") == "key=***"


def test_unknown_secret_name_is_a_programming_error(state_dir: Path) -> None:
    with pytest.raises(ValueError, match="password"):
        CredentialStore("default", state_dir).get("password")


def test_hanging_keyring_fails_within_timeout_and_then_fails_fast(state_dir: Path) -> None:
    backend = HangingKeyring(seconds=3.0)
    keyring.set_keyring(backend)
    store = CredentialStore("default", state_dir, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CredentialStoreError, match=r"did not answer within 0\.2s") as info:
        store.get("refresh_token")
    assert time.monotonic() - started < 1.5
    assert info.value.exit_code == ExitCode.CONFIG
    assert "--insecure-storage" in (info.value.hint or "")

    # Remembered for the process: a new store (same backend) does not wait again.
    started = time.monotonic()
    with pytest.raises(CredentialStoreError, match="did not answer"):
        CredentialStore("other", state_dir, timeout=0.2).set("client_secret", SECRET)
    assert time.monotonic() - started < 0.1
    assert backend.calls == 1


def test_hung_keyring_thread_does_not_keep_the_process_alive(state_dir: Path) -> None:
    keyring.set_keyring(HangingKeyring(seconds=3.0))
    with pytest.raises(CredentialStoreError):
        CredentialStore("default", state_dir, timeout=0.1).get("client_secret")
    hung = [t for t in threading.enumerate() if t.name == "ringodesk-keyring"]
    assert hung and all(t.daemon for t in hung)


def test_raising_keyring_becomes_credential_store_error(state_dir: Path) -> None:
    keyring.set_keyring(RaisingKeyring())
    store = CredentialStore("default", state_dir)
    with pytest.raises(CredentialStoreError, match="collection is locked") as info:
        store.set("refresh_token", TOKEN)
    assert TOKEN not in str(info.value)
    with pytest.raises(CredentialStoreError, match="collection is locked"):
        store.get("refresh_token")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_usable_keyring_names_the_ways_out(state_dir: Path, backend: KeyringBackend) -> None:
    keyring.set_keyring(backend)
    with pytest.raises(CredentialStoreError, match="no usable system keyring") as info:
        CredentialStore("default", state_dir).set("refresh_token", TOKEN)
    hint = info.value.hint or ""
    assert "--insecure-storage" in hint
    assert "RINGODESK_REFRESH_TOKEN" in hint


def test_failed_keyring_is_forgotten_when_another_backend_is_installed(state_dir: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(CredentialStoreError):
        CredentialStore("default", state_dir).get("client_secret")
    keyring.set_keyring(MemoryKeyring())
    store = CredentialStore("default", state_dir)
    store.set("client_secret", SECRET)
    assert store.get("client_secret") == SECRET


# -- environment --------------------------------------------------------------------------


def test_env_var_wins_over_stored_value(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = CredentialStore("default", state_dir)
    store.set("refresh_token", TOKEN)
    monkeypatch.setenv("RINGODESK_REFRESH_TOKEN", " env-token-value\n")
    assert store.get("refresh_token") == "env-token-value"
    assert store.source("refresh_token") == "env RINGODESK_REFRESH_TOKEN"
    assert redact("env-token-value") == "***"


def test_env_vars_work_without_any_keyring(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("RINGODESK_CLIENT_SECRET", SECRET)
    assert CredentialStore("default", state_dir).get("client_secret") == SECRET


def test_env_vars_come_from_the_given_mapping_not_the_process(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINGODESK_CLIENT_SECRET", "from-the-process")
    store = CredentialStore("default", state_dir, env={"RINGODESK_CLIENT_SECRET": SECRET})
    assert store.get("client_secret") == SECRET
    assert store.source("client_secret") == "env RINGODESK_CLIENT_SECRET"
    bare = CredentialStore("default", state_dir, env={})
    assert bare.get("client_secret") is None
    assert bare.source("client_secret") is None


def test_env_var_names_are_the_documented_ones() -> None:
    assert set(ENV_VARS) == set(SECRET_NAMES)
    assert ENV_VARS["client_secret"] == "RINGODESK_CLIENT_SECRET"
    assert ENV_VARS["refresh_token"] == "RINGODESK_REFRESH_TOKEN"
    assert ENV_VARS["ringostat_key"] == "RINGODESK_RINGOSTAT_KEY"


# -- insecure file ------------------------------------------------------------------------


def test_insecure_file_is_created_0600_and_warns_once_when_a_secret_is_stored(
    state_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    warnings: list[str] = []
    store = CredentialStore("default", state_dir, insecure=True, warn=warnings.append)
    assert store.kind == "file"
    old_umask = os.umask(0)  # even a permissive umask must not widen the file
    try:
        store.set("refresh_token", TOKEN)
    finally:
        os.umask(old_umask)
    path = state_dir / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"refresh_token": TOKEN}
    assert len(warnings) == 1
    assert "plain file" in warnings[0] and str(path) in warnings[0]
    store.set("client_secret", SECRET)  # another secret stored: no second warning
    assert store.get("refresh_token") == TOKEN
    assert store.source("refresh_token") == f"file {path}"
    assert len(warnings) == 1
    # Reading, as every later command and cron run does: no warning at all.
    later: list[str] = []
    reader = CredentialStore("default", state_dir, warn=later.append)
    assert reader.get("client_secret") == SECRET and reader.describe()["store"] == (
        f"file {path} (insecure)"
    )
    assert later == []
    assert memory_keyring.store == {}


def test_existing_insecure_file_selects_the_file_store(state_dir: Path) -> None:
    CredentialStore("default", state_dir, insecure=True).set("client_secret", SECRET)
    later = CredentialStore("default", state_dir)  # e.g. cron, without the flag
    assert later.kind == "file"
    assert later.get("client_secret") == SECRET


def test_insecure_file_readable_by_others_is_fixed_and_warned(state_dir: Path) -> None:
    CredentialStore("default", state_dir, insecure=True).set("client_secret", SECRET)
    path = state_dir / "secrets.json"
    path.chmod(0o644)
    warnings: list[str] = []
    store = CredentialStore("default", state_dir, warn=warnings.append)
    assert store.get("client_secret") == SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any("readable by others" in w and "0644" in w for w in warnings)


def test_insecure_file_delete_removes_only_that_secret(state_dir: Path) -> None:
    store = CredentialStore("default", state_dir, insecure=True)
    store.set("client_secret", SECRET)
    store.set("refresh_token", TOKEN)
    store.delete("refresh_token")
    store.delete("refresh_token")
    assert store.get("refresh_token") is None
    assert store.get("client_secret") == SECRET


def test_corrupt_insecure_file_is_an_error_without_its_content(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    path = state_dir / "secrets.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"client_secret": "half-a-secret-val')
    os.close(fd)
    with pytest.raises(CredentialStoreError, match="not valid JSON") as info:
        CredentialStore("default", state_dir).get("client_secret")
    assert "half-a-secret" not in str(info.value)


def test_insecure_set_leaves_no_temporary_files(state_dir: Path) -> None:
    store = CredentialStore("default", state_dir, insecure=True)
    store.set("client_secret", SECRET)
    store.set("client_secret", "second-secret-value")
    assert sorted(p.name for p in state_dir.iterdir()) == ["secrets.json"]


# -- describe -----------------------------------------------------------------------------


def test_describe_names_store_and_sources_but_never_values(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CredentialStore("default", state_dir)
    store.set("client_secret", SECRET)
    monkeypatch.setenv("RINGODESK_REFRESH_TOKEN", TOKEN)
    info = store.describe()
    assert str(info["store"]).startswith("keyring (")
    assert info["secrets"] == {
        "client_secret": "keyring",
        "refresh_token": "env RINGODESK_REFRESH_TOKEN",
        "ringostat_key": None,
        "webhook_secret": None,
    }
    text = json.dumps(info)
    assert SECRET not in text and TOKEN not in text


def test_describe_insecure_file_store(state_dir: Path) -> None:
    warnings: list[str] = []
    store = CredentialStore("default", state_dir, insecure=True, warn=warnings.append)
    store.set("ringostat_key", "rs-key-plain-123")
    warnings.clear()
    info = store.describe()
    path = state_dir / "secrets.json"
    assert info["store"] == f"file {path} (insecure)"
    assert info["secrets"] == {
        "client_secret": None,
        "refresh_token": None,
        "ringostat_key": f"file {path}",
        "webhook_secret": None,
    }
    assert "rs-key-plain-123" not in json.dumps(info)
    assert warnings == []  # the store says "(insecure)"; reading it warns no more


def test_describe_reports_a_broken_keyring_instead_of_raising(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("RINGODESK_CLIENT_SECRET", SECRET)
    info = CredentialStore("default", state_dir).describe()
    assert info["store"] == "keyring (unavailable)"
    assert "no usable system keyring" in str(info["problem"])
    assert info["secrets"] == {
        "client_secret": "env RINGODESK_CLIENT_SECRET",
        "refresh_token": None,
        "ringostat_key": None,
        "webhook_secret": None,
    }


# -- read_secret --------------------------------------------------------------------------


def test_read_secret_from_file_strips_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(f"  {SECRET}\n")
    stdin = io.StringIO("ignored")
    assert read_secret(path, stdin, what="client secret", stdin_is_tty=True) == SECRET
    assert redact(SECRET) == "***"


@pytest.mark.parametrize("path", [Path("-"), None], ids=["dash", "piped"])
def test_read_secret_from_stdin(path: Path | None) -> None:
    value = read_secret(path, io.StringIO(TOKEN + "\n"), what="refresh token", stdin_is_tty=False)
    assert value == TOKEN


def test_read_secret_dash_reads_even_a_terminal() -> None:
    value = read_secret(Path("-"), io.StringIO(SECRET), what="client secret", stdin_is_tty=True)
    assert value == SECRET


def test_read_secret_empty_names_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n")
    with pytest.raises(UsageError, match=r"client secret .* is empty"):
        read_secret(path, io.StringIO(""), what="client secret", stdin_is_tty=False)
    with pytest.raises(UsageError, match="Ringostat key from stdin is empty"):
        read_secret(None, io.StringIO(""), what="Ringostat key", stdin_is_tty=False)


def test_read_secret_refuses_a_terminal_without_a_file() -> None:
    with pytest.raises(UsageError, match="no client secret given") as info:
        read_secret(None, io.StringIO(SECRET), what="client secret", stdin_is_tty=True)
    assert info.value.exit_code == ExitCode.USAGE


def test_read_secret_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the client secret"):
        read_secret(tmp_path / "nope", io.StringIO(""), what="client secret", stdin_is_tty=False)


def test_read_secret_refuses_several_lines(tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text("first-line\nsecond-line\n")
    with pytest.raises(UsageError, match="several lines"):
        read_secret(path, io.StringIO(""), what="client secret", stdin_is_tty=False)


def test_describe_reports_a_corrupt_insecure_file_instead_of_raising(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    fd = os.open(state_dir / "secrets.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not json")
    os.close(fd)
    info = CredentialStore("default", state_dir).describe()
    assert str(info["store"]).endswith("(insecure)")
    assert "not valid JSON" in str(info["problem"])
    assert info["secrets"] == dict.fromkeys(SECRET_NAMES)
