"""Shared fixtures. Every test runs with RINGODESK_HOME in a temporary folder and an
in-memory keyring, so no test ever touches the user's real config, state or keyring."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from hypothesis import settings as hypothesis_settings

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))

from file_keyring import MemoryKeyring  # noqa: E402

from ringodesk_cli.redact import forget_all_secrets  # noqa: E402

# Property tests: a fixed, reproducible set of examples in CI (a red CI must mean a bug, not
# bad luck), random ones locally so that new counter-examples keep being looked for. A failure
# found locally is kept as an explicit example in its test. `HYPOTHESIS_PROFILE` overrides.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "ringodesk-home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("RINGODESK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RINGODESK_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    forget_all_secrets()
    yield home
    forget_all_secrets()
    # `-v` runs reconfigure the "ringodesk" logger; give the next test the default.
    import logging

    logger = logging.getLogger("ringodesk")
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def subprocess_env(isolated_home: Path) -> dict[str, str]:
    """Environment for running the installed ``ringodesk`` as a subprocess in tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGODESK_")}
    env["RINGODESK_HOME"] = str(isolated_home)
    env["PYTHON_KEYRING_BACKEND"] = "file_keyring.FileKeyring"
    env["PYTHONPATH"] = str(SUPPORT)
    env["NO_COLOR"] = "1"
    return env


class CliResult:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> object:
        import json

        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ringodesk in-process through the same entry point as the console script."""
    from ringodesk_cli.main import invoke

    def run(*args: str, stdin: str | None = None) -> CliResult:
        import io

        capsys.readouterr()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin or "")
        try:
            code = invoke(list(args))
        finally:
            sys.stdin = old_stdin
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
