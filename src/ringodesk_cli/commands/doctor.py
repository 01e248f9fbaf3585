"""`ringodesk doctor`: one line per check, with the fix for each failure."""

from __future__ import annotations

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.doctor import CheckResult, overall_exit_code, run_doctor


def doctor(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Check the whole setup: one line per check, with the fix for each failure.

    Checks, in order: settings, credentials, token, organization (and its
    department), scopes, the 12 rs_* fields, senior manager, linked agents,
    mappings, inbox (when source.kind = inbox), ledger (pending, failed,
    oldest pending, integrity), last sync. Zoho is only read (about a dozen
    API credits; a cached access token is reused).

    --json prints a list of {name, ok, detail, fix, skipped, exit_code};
    --quiet prints only the failures, on stderr.

    Exit code: 0 when every check passes, else the most severe failure's:
    4 auth, then 3 configuration (or a damaged ledger), then 5 Zoho
    unavailable (or calls pending over a day), then 6 failed calls or a
    partial last sync, then 1 a check crashed.
    """
    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    results = run_doctor(app.session)
    out = app.output
    if app.json_mode:
        out.json([r.as_dict() for r in results])
    elif app.quiet:
        for r in results:
            if not r.ok and not r.skipped:
                out.error(f"{r.name}: {r.detail}", r.fix)
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            out.result(_line(r, width))
        passed = sum(r.ok for r in results)
        out.result(f"{passed} of {len(results)} checks passed")
    code = overall_exit_code(results)
    if code:
        raise typer.Exit(int(code))


def _line(result: CheckResult, width: int) -> str:
    if result.ok:
        mark = "n/a " if result.skipped else "ok  "
    else:
        mark = "skip" if result.skipped else "FAIL"
    line = f"{mark}  {result.name:<{width}}  {result.detail}"
    if result.fix and not result.ok:
        line += f"\n      {'':<{width}}  fix: {result.fix}"
    return line
