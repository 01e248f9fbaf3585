"""A running `ringodesk serve --port 0 --json` for end-to-end tests: its webhook URL, its
health answer, waiting until the ledger's queue is empty, and a SIGTERM stop."""

from __future__ import annotations

import json
import signal
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from e2e import Desk


class Server:
    """A running `ringodesk serve --port 0 --json` and its webhook URL."""

    def __init__(self, desk: Desk) -> None:
        setup = desk.run("serve", "setup", "--public-url", "https://calls.example.com", "--json")
        assert setup.code == 0, setup
        form = setup.json()
        self.key = parse_qs(urlsplit(form["after"]).query)["key"][0]
        self.parameters = form["parameters"]
        self.proc = desk.popen("serve", "--port", "0", "--json")
        assert self.proc.stderr is not None
        first = json.loads(self.proc.stderr.readline())
        self.url = first["serving"]
        self.lines: list[dict[str, Any]] = []

    def hook_url(self, event: str = "after", key: str | None = None) -> str:
        return f"{self.url}/ringostat/webhook?event={event}&key={key or self.key}"

    def health(self) -> requests.Response:
        return requests.get(f"{self.url}/healthz", timeout=10)

    def drained(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.health().json()
            if answer.get("queue") == 0 and not answer.get("before_call_pending"):
                return dict(answer)
            assert time.monotonic() < deadline, answer
            time.sleep(0.1)

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, err
