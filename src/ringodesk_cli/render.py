"""The one place that prints: messages, tables, progress, ``--json``.

Data goes to stdout, messages to stderr. ``--json`` prints exactly one JSON document on
stdout. ``--quiet`` silences everything but errors. A progress bar appears only when stderr is
a terminal. Every string is redacted before it is printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from ringodesk_cli.redact import redact
from ringodesk_cli.setup.employees import agent_name


class Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def total(self, n: int) -> None: ...


class _NoProgress:
    def advance(self, n: int = 1) -> None:
        return None

    def total(self, n: int) -> None:
        return None


@dataclass
class Output:
    """Console output shaped by the root options; tests build one over StringIO streams."""

    json_mode: bool = False
    quiet: bool = False
    verbose: int = 0
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _warned: set[str] = field(default_factory=set, repr=False)

    # -- plain messages ------------------------------------------------------------------
    def info(self, message: str) -> None:
        """A human message on stderr; hidden by --quiet and --json."""
        if not self.quiet and not self.json_mode:
            print(redact(message), file=self.stderr)

    def result(self, message: str) -> None:
        """A human result line on stdout (not in --json mode, not with --quiet)."""
        if not self.quiet and not self.json_mode:
            print(redact(message), file=self.stdout)

    def warn(self, message: str) -> None:
        # The same warning (e.g. "secrets are in a plain file") is said once per run.
        if not self.quiet and message not in self._warned:
            self._warned.add(message)
            print(redact(f"warning: {message}"), file=self.stderr)

    def error(self, message: str, hint: str | None = None) -> None:
        print(redact(f"error: {message}"), file=self.stderr)
        if hint:
            print(redact(f"hint: {hint}"), file=self.stderr)

    def debug(self, message: str) -> None:
        if self.verbose > 0:
            print(redact(message), file=self.stderr)

    # -- structured output ---------------------------------------------------------------
    def json(self, data: Any) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False, default=str)
        print(redact(text), file=self.stdout)

    def json_rows(self, rows: Iterable[Any]) -> None:
        """A JSON array, one compact object per line: for long lists (the fast encoder)."""
        body = ",\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in rows)
        print(redact(f"[\n{body}\n]" if body else "[]"), file=self.stdout)

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
    ) -> None:
        """A Rich table on stdout (plain when not a terminal)."""
        if self.quiet:
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        # Data is never markup: a subject like "[rs:ua-1]" must print as written.
        table = Table(title=escape(title) if title else None, show_lines=False)
        for column in columns:
            table.add_column(escape(column), overflow="fold")
        for row in rows:
            table.add_row(*(escape(redact("" if cell is None else cell)) for cell in row))
        interactive = bool(getattr(self.stdout, "isatty", lambda: False)())
        # Piped or captured output is read by scripts and mail: never fold it at 80 columns.
        Console(file=self.stdout, width=None if interactive else 240).print(table)

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Progress]:
        """A Rich progress bar on a terminal; silent anywhere else (cron, pipes, --json)."""
        interactive = bool(getattr(self.stderr, "isatty", lambda: False)())
        if self.quiet or self.json_mode or not interactive:
            yield _NoProgress()
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        console = Console(file=self.stderr)
        with RichProgress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(description, total=total)

            class _Bar:
                def advance(self, n: int = 1) -> None:
                    bar.advance(task, n)

                def total(self, n: int) -> None:
                    bar.update(task, total=n)

            yield _Bar()


def agent_row(agent: Mapping[str, Any]) -> dict[str, Any]:
    """A Zoho Desk agent as `agents list` and `manager show` print it."""
    return {
        "id": str(agent.get("id")),
        "name": agent_name(agent),
        "email": agent.get("emailId"),
        "status": str(agent.get("status") or "ACTIVE").upper(),
    }
