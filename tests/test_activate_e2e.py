"""`ringodesk activate` as a person runs it: the installed command on a pseudo-terminal,
signing in through the browser flow with a ``$BROWSER`` that waits for its page."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import sys
import time
from pathlib import Path

from e2e import RINGODESK
from sandbox_fixture import sandbox  # noqa: F401

from ringodesk_cli.config.settings import Paths, Settings
from ringodesk_cli.sandbox import Sandbox

# A terminal browser as a script drives it: it fetches the consent page, follows Zoho's
# redirect to the loopback listener, keeps what it was shown, and only then exits.
BROWSER_SCRIPT = """#!{python}
import pathlib, sys, urllib.request
page = urllib.request.urlopen(sys.argv[1], timeout=60).read().decode()
pathlib.Path({shown!r}).write_text(page)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_on_terminal(
    args: list[str], env: dict[str, str], answers: dict[str, str], timeout: float = 60
) -> tuple[int, str]:
    """Run ``args`` on a pseudo-terminal; type ``answers[prompt]`` when ``prompt`` appears.
    Returns (exit code, everything the terminal showed); a run that hangs is killed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.execve(args[0], args, env)
    shown, pending, deadline = b"", dict(answers), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            for prompt in [p for p in pending if p.encode() in shown]:
                os.write(fd, pending.pop(prompt).encode() + b"\r")
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"hung; the terminal showed:\n{shown.decode(errors='replace')}")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_browser_sign_in_on_a_terminal_with_a_browser_that_waits_for_its_page(
    sandbox: Sandbox,  # noqa: F811
    subprocess_env: dict[str, str],
    tmp_path: Path,
) -> None:
    shown = tmp_path / "browser-page.html"
    browser = tmp_path / "waiting-browser"
    browser.write_text(BROWSER_SCRIPT.format(python=sys.executable, shown=str(shown)))
    browser.chmod(0o755)
    secret = tmp_path / "client-secret.txt"
    secret.write_text(sandbox.client_secret + "\n")
    env = {k: v for k, v in subprocess_env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env |= {"BROWSER": str(browser), "TZ": "UTC", "TERM": "dumb", "COLUMNS": "200"}
    args = [
        str(RINGODESK), "activate", "--accounts-url", sandbox.url, "--desk-url", sandbox.url,
        "--client-id", sandbox.client_id, "--client-secret-file", str(secret),
        "--redirect-port", str(free_port()), "--department", "Support",
        "--senior-manager", "olena@sandbox.example", "--task-deadline", "2h",
    ]  # fmt: skip
    # The questions left open are the time zone and the recordings: Enter takes the offered
    # defaults.
    answers = {"Time zone of Ringostat's call times": "", "Attach call recordings": ""}
    code, terminal = run_on_terminal(args, env, answers)
    assert code == 0, terminal
    assert "Zoho data center" not in terminal  # both hosts were given
    assert "[Europe/Kyiv]" in terminal  # offered on a UTC system ...
    assert "time zone       Europe/Kyiv (the system zone is UTC" in terminal  # ... and said
    assert "Signed in to Zoho" in shown.read_text()  # the listener answered the browser
    settings = Settings.load("default", Paths.discover(env))
    assert settings.get("zoho.org_id") == sandbox.org_id
    assert settings.raw("ringostat.timezone") == "Europe/Kyiv"
    assert settings.raw("recordings.attach") is False  # the default answer, "no"
    assert "recordings      links only" in terminal
    assert settings.raw("zoho.region") is None
