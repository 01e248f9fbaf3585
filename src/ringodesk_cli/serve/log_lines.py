"""The server's log: one line per event on stderr, JSON lines (``--json``) or ``key=value``
pairs. What a webhook carries is untrusted, so every value is escaped before it is written:
a control character (a newline, an escape sequence) never reaches the log as itself, and a
request cannot forge a line. Every secret the process knows is redacted, and ``--quiet``
keeps only errors and webhooks that could not be stored.

The receiver and the delivery worker (its own process) write through the same ``LogFormat``,
which is passed to the worker when it starts.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from ringodesk_cli.redact import redact


@dataclass(frozen=True)
class LogFormat:
    json_mode: bool = False
    quiet: bool = False

    def text(self, line: dict[str, Any]) -> str | None:
        """The line as written, or None when ``quiet`` keeps it out."""
        if self.quiet and "error" not in line and line.get("outcome") != "not-stored":
            return None
        if self.json_mode:
            # json.dumps escapes C0 controls; ``escape`` adds DEL and C1 (valid JSON still).
            return redact(escape(json.dumps(line, ensure_ascii=False, default=str)))
        return redact(" ".join(f"{_plain(k)}={_value(v)}" for k, v in line.items()))

    def emit(self, line: dict[str, Any]) -> None:
        text = self.text(line)
        if text is not None:
            print(text, file=sys.stderr, flush=True)


def _plain(text: object) -> str:
    return escape(str(text))


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = "-" if value is None else str(value)
    if not text or " " in text or '"' in text or "=" in text or text != escape(text):
        return escape(json.dumps(text, ensure_ascii=False))
    return text


def escape(text: str) -> str:
    """``text`` with each control character written as ``\\uXXXX`` (JSON escapes C0 only;
    DEL and C1, e.g. the terminal's CSI, are escaped here too)."""
    return "".join(
        ch if not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) else f"\\u{ord(ch):04x}" for ch in text
    )
