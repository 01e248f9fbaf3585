"""The console entry point: maps every exception to a message and an exit code.

The one place that reads the process: it builds the :class:`Environment` once and hands it
to the commands; the exit code of every run is decided here.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING

from ringodesk_cli import __version__
from ringodesk_cli.errors import ExitCode, RingodeskError, from_os_error
from ringodesk_cli.redact import redact

if TYPE_CHECKING:
    from ringodesk_cli.interrupts import Interrupts

_SIGINT_EXIT = 130


def run(argv: list[str] | None = None) -> None:
    """Console entry point: never lets an expected error end in a traceback."""
    # The signal handlers stay until the process ends: a second Ctrl-C while it exits still
    # ends it with 130, not with Python's default death by SIGINT.
    sys.exit(invoke(argv, restore_signals=False))


def invoke(argv: list[str] | None = None, *, restore_signals: bool = True) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        # Answered before Typer and the commands are imported: cheap for scripts and cron.
        print(f"ringodesk {__version__}")
        return ExitCode.OK
    from ringodesk_cli.interrupts import Interrupts

    # Taken before the heavier imports: a Ctrl-C or SIGTERM at any later moment is ours.
    interrupts = Interrupts()
    interrupts.install()
    try:
        return _run_app(args, interrupts)
    finally:
        if restore_signals:  # an in-process caller (a test) gets its own handlers back
            interrupts.restore()


def _run_app(args: list[str], interrupts: Interrupts) -> int:
    from ringodesk_cli.commands.context import AppContext
    from ringodesk_cli.commands.root import app
    from ringodesk_cli.environment import Environment

    state = AppContext(Environment.from_process(), interrupts=interrupts)
    try:
        # Standalone mode: Typer prints usage errors itself and exits with 2 (and turns a
        # KeyboardInterrupt into exit 130).
        app(args=args, prog_name="ringodesk", obj=state)
    except SystemExit as exc:
        code = exc.code
        code = code if isinstance(code, int) else (0 if code is None else ExitCode.UNEXPECTED)
        if code == _SIGINT_EXIT and interrupts.exit_code and not interrupts.asked_to_stop:
            # A command that cannot stop gracefully was interrupted (Typer made it exit
            # 130): say so, and tell SIGTERM (143) from Ctrl-C (130).
            print(f"aborted ({interrupts.name})", file=sys.stderr)
            return interrupts.exit_code
        return code
    except KeyboardInterrupt:
        print(f"aborted ({interrupts.name or 'SIGINT'})", file=sys.stderr)
        return interrupts.exit_code or _SIGINT_EXIT
    except RingodeskError as exc:
        if state.verbose:
            print(redact(traceback.format_exc()), file=sys.stderr)
        state.output.error(str(exc), exc.hint)
        return int(exc.exit_code)
    except Exception as exc:
        known = from_os_error(exc) if isinstance(exc, OSError) else None
        if known is not None:  # a read-only folder, a full disk: named, with the fix
            state.output.error(str(known), known.hint)
            return int(known.exit_code)
        if state.verbose:
            print(redact(traceback.format_exc()), file=sys.stderr)
            state.output.error(f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            state.output.error(
                f"unexpected error: {type(exc).__name__}: {exc}",
                "run again with -v for the traceback, and report it",
            )
        return ExitCode.UNEXPECTED
    return ExitCode.OK
