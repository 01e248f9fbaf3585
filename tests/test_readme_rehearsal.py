"""README's "Rehearse against the sandbox", followed literally: its code blocks are read from
README.md and run as a new user would, the sandbox in one process and every other line in a
shell of its own that carries the previous lines' environment and directory."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from support.e2e import CREATING, RINGODESK

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "### Rehearse against the sandbox"
PASTE_ACTIVATE = re.compile(r"^#.*`ringodesk activate …` line")


def section_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION) + len(SECTION)
    end = re.compile(r"^#{2,3} ", re.M).search(text, start)
    assert end is not None
    return re.findall(r"^```\n(.*?)^```$", text[start : end.start()], flags=re.M | re.S)


def steps(block: str) -> list[str]:
    """The block's lines, a heredoc kept with the line that opens it as one step."""
    out: list[str] = []
    lines = iter(block.splitlines())
    for line in lines:
        if not line.strip():
            continue
        heredoc = re.search(r"<<'?(\w+)'?", line)
        if heredoc:
            body = [line]
            for more in lines:
                body.append(more)
                if more == heredoc.group(1):
                    break
            line = "\n".join(body)
        out.append(line)
    return out


def admin(info: dict[str, Any], path: str) -> Any:
    with urllib.request.urlopen(f"{info['admin_url']}/{path}", timeout=10) as reply:
        return json.loads(reply.read())


def creating(info: dict[str, Any]) -> int:
    counts = admin(info, "requests")["counts"]
    return sum(v for k, v in counts.items() if k in CREATING)


class Terminal:
    """A shell session: each step is its own `bash -c`, state carried like a terminal's."""

    def __init__(self, env: dict[str, str], cwd: Path, state: Path) -> None:
        self.env, self.cwd, self.state = env, cwd, state

    def run(self, step: str) -> subprocess.CompletedProcess[str]:
        script = f'{step}\nrc=$?\nenv -0 > "$1/env"; pwd > "$1/pwd"; exit $rc\n'
        proc = subprocess.run(
            ["bash", "-c", script, "step", str(self.state)],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        raw = (self.state / "env").read_bytes().decode()
        self.env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
        self.cwd = Path((self.state / "pwd").read_text().strip())
        return proc


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGODESK_")}
    home = tmp_path / "home"
    (tmp_path / "tmp").mkdir()
    home.mkdir()
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp_path / "tmp"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local/state"),
        # Any keyring use fails instead of reaching a real one: the printed activate line
        # keeps the sandbox's secrets in a file.
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PATH=f"{RINGODESK.parent}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
    )
    return env


@pytest.mark.parametrize("readings", ["as written", "lenient"])
def test_readme_rehearsal_runs_end_to_end(
    tmp_path: Path, clean_env: dict[str, str], readings: str
) -> None:
    serve_block, session_block = section_blocks()
    serve = serve_block.strip()
    assert serve.startswith("ringodesk sandbox serve --port 8800"), serve
    # The only substitution on this side: any free port, and the printout as JSON. The
    # README's line starts the strict default; the lenient run adds the README's other option.
    argv = serve.replace("--port 8800", "--port 0 --json").split()
    if readings == "lenient":
        argv += ["--readings", "lenient"]
    argv[0] = str(RINGODESK)
    server = subprocess.Popen(
        argv, env=clean_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:
            printed.append(line)
            if line.rstrip() == "}":
                break
        info = json.loads("".join(printed))
        assert info["activate"].startswith("ringodesk activate ")
        assert "--insecure-storage" in info["activate"]

        term = Terminal(clean_env, tmp_path, tmp_path / "tmp")
        lines = steps(session_block)
        pasted = [i for i, s in enumerate(lines) if PASTE_ACTIVATE.match(s)]
        assert len(pasted) == 1, lines
        lines[pasted[0]] = info["activate"]
        syncs = [i for i, s in enumerate(lines) if s.split()[:2] == ["ringodesk", "sync"]]
        assert len(syncs) == 2, lines

        before_second = None
        for i, step in enumerate(lines):
            if i == syncs[1]:
                before_second = creating(info)
            result = term.run(step)
            assert result.returncode == 0, (step, result.stdout, result.stderr)
            if step.startswith("ringodesk doctor"):
                assert "FAIL" not in result.stdout, result.stdout

        home = Path(term.env["RINGODESK_HOME"])
        assert home.is_relative_to(tmp_path / "tmp"), home
        assert (home / "calls.csv").is_file()

        tickets = admin(info, "records/tickets")["data"]
        first = [t for t in tickets if "[rs:rehearsal-0001]" in str(t.get("subject"))]
        assert len(first) == 1, tickets
        assert first[0]["cf"]["cf_landing_page"] == "https://kuhni.example.com/kyiv"
        assert before_second is not None and before_second > 0
        assert creating(info) == before_second
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
