"""The console entry point: maps every exception to a message and an exit code."""

from __future__ import annotations

import sys
import traceback

from ringodesk_cli import __version__
from ringodesk_cli.errors import ExitCode, RingodeskError
from ringodesk_cli.redact import redact


def __getattr__(name: str) -> object:
    # `from ringodesk_cli.main import app` keeps working; the app is built on first use.
    if name == "app":
        from ringodesk_cli.commands.root import app

        return app
    raise AttributeError(name)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: never lets an expected error end in a traceback."""
    sys.exit(invoke(argv))


def invoke(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        # Answered before Typer and the commands are imported: cheap for scripts and cron.
        print(f"ringodesk {__version__}")
        return ExitCode.OK
    from ringodesk_cli.commands import root
    from ringodesk_cli.commands.context import AppContext

    root.state = AppContext()
    _state = root.state
    try:
        # Standalone mode: Typer prints usage errors itself and exits with 2.
        root.app(args=args, prog_name="ringodesk")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ExitCode.UNEXPECTED)
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130
    except RingodeskError as exc:
        if _state.verbose:
            print(redact(traceback.format_exc()), file=sys.stderr)
        _state.output.error(str(exc), exc.hint)
        return int(exc.exit_code)
    except Exception as exc:
        if _state.verbose:
            print(redact(traceback.format_exc()), file=sys.stderr)
            _state.output.error(f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            _state.output.error(
                f"unexpected error: {type(exc).__name__}: {exc}",
                "run again with -v for the traceback, and report it",
            )
        return ExitCode.UNEXPECTED
    return ExitCode.OK
