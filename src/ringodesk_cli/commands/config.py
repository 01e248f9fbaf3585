"""`ringodesk config path|show|get|set|unset|edit|check`: the profile's settings file."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from typing import Annotated

import typer

from ringodesk_cli.commands.context import JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.config.settings import KEYS, TABLES, Settings, write_atomic
from ringodesk_cli.errors import ConfigError, UsageError

app = typer.Typer(
    help="Show and edit the profile's settings (never secrets).", no_args_is_help=True
)


@app.command("path")
def path_cmd(ctx: typer.Context, json_mode: JsonOpt = False, profile: ProfileOpt = None) -> None:
    """Print where the profile's settings file and state folder are."""
    app_ctx = use(ctx, json_mode=json_mode, profile=profile)
    paths = app_ctx.paths
    data = {
        "profile": app_ctx.profile,
        "config_file": str(paths.config_file(app_ctx.profile)),
        "state_dir": str(paths.state_dir(app_ctx.profile)),
    }
    if app_ctx.json_mode:
        app_ctx.output.json(data)
    else:
        app_ctx.output.result(data["config_file"])


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Show every setting with its effective value and where it comes from."""
    app_ctx = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    if app_ctx.json_mode:
        app_ctx.output.json(
            {
                "profile": settings.profile,
                "file": str(settings.path),
                "settings": {
                    name: {"value": settings.get(name), "source": settings.source_of(name)}
                    for name in KEYS
                },
                "tables": {name: settings.table(name) for name in TABLES},
            }
        )
        return
    rows = [
        (name, _show(settings.get(name)), settings.source_of(name), KEYS[name].description)
        for name in KEYS
    ]
    app_ctx.output.table(["key", "value", "source", "meaning"], rows, title=f"{settings.path}")
    for name in TABLES:
        entries = settings.table(name)
        if entries:
            app_ctx.output.table(["key", "value"], sorted(entries.items()), title=f"[{name}]")


def _show(value: object) -> str:
    if isinstance(value, list):  # as TOML writes it, so it can be pasted into `config set`
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


@app.command("check")
def check_cmd(
    ctx: typer.Context,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not ask Zoho (the file alone).")
    ] = False,
    json_mode: JsonOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Check the settings file: every value, every [templates] text (unknown placeholders, a
    subject without its [rs:<id>] marker), and, where a token works, what the team rules
    name in Zoho Desk: each route's department and senior manager, the business-hours set.
    Exit 3 if anything is wrong."""
    from ringodesk_cli.rules.team_rules import online_problems
    from ringodesk_cli.rules.templates import problems

    app_ctx = use(ctx, json_mode=json_mode, profile=profile)
    settings = app_ctx.settings()  # values are checked as the file loads
    found = [str(p) for p in problems(settings)]
    note = "not checked against Zoho Desk (--offline)" if offline else None
    if not offline:
        online, note = online_problems(app_ctx.session)
        found += online
    if app_ctx.json_mode:
        app_ctx.output.json({"ok": not found, "problems": found, "note": note})
    elif not found:
        app_ctx.output.result(f"{settings.path}: ok")
    if note and not app_ctx.json_mode:
        app_ctx.output.info(note)
    if found:
        for problem in found:
            app_ctx.output.error(problem)
        raise typer.Exit(int(ConfigError.exit_code))


@app.command("get")
def get_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. integration.task_deadline.")],
    json_mode: JsonOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Print one setting's effective value."""
    app_ctx = use(ctx, json_mode=json_mode, profile=profile)
    settings = app_ctx.settings()
    if key in TABLES:
        value: object = settings.table(key)
    else:
        value = settings.get(key)
    if app_ctx.json_mode:
        app_ctx.output.json({"key": key, "value": value})
    else:
        print(
            _show(value)
            if not isinstance(value, dict)
            else "\n".join(f"{k} = {v}" for k, v in value.items())
        )


@app.command("set")
def set_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. integration.task_deadline.")],
    value: Annotated[str, typer.Argument(help="New value; checked before anything is saved.")],
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Set one setting (validated, comments kept, saved atomically)."""
    app_ctx = use(ctx, quiet=quiet, profile=profile)
    settings = app_ctx.settings()
    settings.set(key, value)
    settings.save()
    app_ctx.output.info(f"{key} = {_show(settings.get(key))}  ({settings.path})")


@app.command("unset")
def unset_cmd(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key to remove (its default applies).")],
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Remove a setting from the file so its default applies again."""
    app_ctx = use(ctx, quiet=quiet, profile=profile)
    if key not in KEYS:
        raise ConfigError(f"unknown setting {key!r}")
    settings = app_ctx.settings()
    if settings.unset(key):
        settings.save()
    app_ctx.output.info(f"{key} now uses its default: {_show(settings.get(key))}")


@app.command("edit")
def edit_cmd(ctx: typer.Context, profile: ProfileOpt = None) -> None:
    """Open the settings file in $VISUAL/$EDITOR; the result is validated before it is kept."""
    app_ctx = use(ctx, profile=profile)
    if not app_ctx.interactive:
        raise UsageError("`config edit` needs a terminal; use `ringodesk config set KEY VALUE`")
    settings = app_ctx.settings()
    editor = app_ctx.env.get("VISUAL") or app_ctx.env.get("EDITOR") or _first_editor()
    draft = settings.path.with_name(f".{settings.path.name}.edit.toml")
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(settings.text(), encoding="utf-8")
    try:
        subprocess.run([*shlex.split(editor), str(draft)], check=False)
        text = draft.read_text(encoding="utf-8")
        Settings(settings.profile, settings.path, text)  # raises ConfigError with file:line
        write_atomic(settings.path, text)
    finally:
        draft.unlink(missing_ok=True)
    app_ctx.output.info(f"saved {settings.path}")


def _first_editor() -> str:
    for name in ("sensible-editor", "nano", "vim", "vi"):
        if shutil.which(name):
            return name
    raise UsageError("no editor found: set $EDITOR")
