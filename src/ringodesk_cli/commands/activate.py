"""`ringodesk activate`: the wizard. Every prompt has a flag; `--no-input` never prompts."""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer

from ringodesk_cli.commands.context import AppContext, JsonOpt, ProfileOpt, QuietOpt, use
from ringodesk_cli.errors import UsageError


def activate(
    ctx: typer.Context,
    region: Annotated[
        str | None,
        typer.Option(help="Zoho data center: com, eu, in, com.au, jp, ca, sa, uk, com.cn."),
    ] = None,
    accounts_url: Annotated[
        str | None, typer.Option(help="Zoho Accounts server (a loopback stand-in works too).")
    ] = None,
    desk_url: Annotated[
        str | None, typer.Option(help="Zoho Desk host root; ringodesk adds /api/v1.")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="OAuth client id.")] = None,
    client_secret_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the client secret ('-' = stdin). Also: piped stdin or "
            "RINGODESK_CLIENT_SECRET. Never a plain flag value."
        ),
    ] = None,
    grant_code: Annotated[
        str | None,
        typer.Option(help="Self Client grant code (single use, minutes-long); '-' = stdin."),
    ] = None,
    device: Annotated[bool, typer.Option("--device", help="Sign in with the device flow.")] = False,
    ringostat_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the Ringostat Auth-key ('-' = stdin), for source.kind = api; "
            "checked with one calls/list request, then kept with the other secrets."
        ),
    ] = None,
    redirect_port: Annotated[
        int | None, typer.Option(help="Port of http://127.0.0.1:PORT/callback (browser flow).")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Zoho Desk organization id.")] = None,
    department: Annotated[str | None, typer.Option(help="Department id or name.")] = None,
    senior_manager: Annotated[
        str | None, typer.Option(help="Senior manager: agent id or e-mail.")
    ] = None,
    task_deadline: Annotated[
        str | None, typer.Option(help="Task processing deadline, e.g. 4h or 90m.")
    ] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt.")] = False,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage", help="Keep secrets in a 0600 file when no keyring works."
        ),
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Sign in to Zoho and set the profile up: org, department, senior manager, deadline.

    Re-activating a profile keeps its field ids, employee links and mappings.
    """
    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    if no_input:
        app.no_input = True
    if insecure_storage:
        app.insecure_storage = True
    interactive = app.interactive

    from ringodesk_cli.activation import REFRESH_TOKEN_WARNING, ActivationResult, Activator

    session = app.session()
    act = Activator(session)
    out = app.output

    if interactive and not region and not session.settings.raw("zoho.region"):
        region = typer.prompt("Zoho data center", default="com")
    if interactive and not client_id and not session.settings.get("zoho.client_id"):
        client_id = typer.prompt("OAuth client id (api-console.zoho.com)")
    act.configure(
        region=region,
        accounts_url=accounts_url,
        desk_url=desk_url,
        client_id=client_id,
        redirect_port=redirect_port,
    )

    stdin_used = False
    if grant_code == "-":
        grant_code = sys.stdin.readline().strip()
        stdin_used = True
        if not grant_code:
            raise UsageError("--grant-code -: stdin was empty")
    secret = _client_secret(app, act, client_secret_file, interactive, stdin_used)
    if secret:
        act.store_client_secret(secret)

    if (
        not interactive
        and not senior_manager
        and not session.settings.get("integration.senior_manager")
    ):
        # Checked before signing in: a grant code is single-use, so failing after the
        # exchange would make the user mint another one.
        raise UsageError(
            "no senior manager chosen",
            hint="pass --senior-manager AGENT (id or e-mail of a Zoho Desk agent)",
        )
    signed_in = _sign_in(app, act, grant_code, device, interactive)
    act.save()  # the sign-in is kept even if a later step fails: re-run without a code

    orgs = act.organizations()
    if interactive and not org and len(orgs) > 1 and not session.settings.get("zoho.org_id"):
        org = _choose("Organization", orgs, "companyName")
    chosen_org = act.choose_org(orgs, org)

    departments = act.departments()
    if (
        interactive
        and not department
        and not session.settings.get("zoho.department_id")
        and len(departments) > 1
    ):
        department = _choose("Department", departments, "name")
    chosen_department = act.choose_department(departments, department)
    act.save()

    agents = act.agents()
    if (
        interactive
        and not senior_manager
        and not session.settings.get("integration.senior_manager")
    ):
        from ringodesk_cli.setup.employees import agent_name

        senior_manager = _choose(
            "Senior manager (owns missed-call work)",
            act.active_agents(agents),
            "emailId",
            label=agent_name,
        )
    manager = act.choose_senior_manager(agents, senior_manager)

    if (
        interactive
        and not task_deadline
        and session.settings.raw("integration.task_deadline") is None
    ):
        task_deadline = typer.prompt("Task processing deadline", default="4h")
    deadline = act.set_task_deadline(task_deadline)
    if ringostat_key_file is not None:
        from ringodesk_cli.commands.ringostat import store_checked_key

        store_checked_key(session, ringostat_key_file, stdin_used=stdin_used)
    act.save()

    accounts_final, desk_final = session.urls()
    result = ActivationResult(
        profile=session.profile,
        region=str(session.settings.get("zoho.region")),
        accounts_url=accounts_final,
        desk_url=desk_final,
        org=chosen_org,
        department=chosen_department,
        senior_manager=manager,
        task_deadline=deadline,
        agents=len(agents),
        signed_in=signed_in,
        credential_store=str(session.credentials.describe().get("store")),
        warnings=[REFRESH_TOKEN_WARNING] if signed_in != "stored-token" else [],
    )
    if app.json_mode:
        out.json(result.as_dict())
        return
    data = result.as_dict()
    out.result(f"Activated profile {data['profile']!r} ({session.settings.path})")
    out.result(f"  organization    {data['org']['name']} ({data['org']['id']})")
    out.result(f"  department      {data['department']['name']} ({data['department']['id']})")
    out.result(f"  senior manager  {data['senior_manager']['name']}")
    out.result(f"  task deadline   {deadline}")
    out.result(f"  agents loaded   {len(agents)}")
    out.result(f"  secrets kept in {data['credential_store']}")
    for warning in result.warnings:
        out.info(f"note: {warning}")
    out.info("next: `ringodesk fields create`, then `ringodesk employees link`")


def _client_secret(
    app: AppContext, act: Any, path: Path | None, interactive: bool, stdin_used: bool
) -> str | None:
    from ringodesk_cli.credentials import read_secret

    if path is not None:
        if str(path) == "-" and stdin_used:
            raise UsageError("stdin already carried the grant code; pass the secret as a file")
        return read_secret(path, sys.stdin, what="client secret", stdin_is_tty=sys.stdin.isatty())
    if act.has_client_secret():
        return None  # environment variable or already stored
    if not sys.stdin.isatty() and not stdin_used:
        return read_secret(None, sys.stdin, what="client secret", stdin_is_tty=False)
    if interactive:
        value: str = typer.prompt("OAuth client secret", hide_input=True)
        return value.strip()
    raise UsageError(
        "no client secret",
        hint="pass --client-secret-file FILE, pipe it on stdin, or set RINGODESK_CLIENT_SECRET",
    )


def _sign_in(
    app: AppContext, act: Any, grant_code: str | None, device: bool, interactive: bool
) -> str:
    out = app.output
    if grant_code:
        act.sign_in_with_code(grant_code)
        return "grant-code"
    if device:

        def show(code: Any) -> None:
            out.info(f"Open {code.verification_url} and enter the code {code.user_code}")

        act.sign_in_with_device(show, on_wait=None)
        return "device"
    if interactive:

        def open_url(url: str) -> None:
            out.info(f"Opening the Zoho consent page; if no browser opens, visit:\n{url}")
            webbrowser.open(url)

        act.sign_in_with_browser(open_url)
        return "browser"
    if act.has_refresh_token():
        return "stored-token"
    raise UsageError(
        "no way to sign in without prompting",
        hint="pass --grant-code CODE (Self Client) or --device",
    )


def _choose(
    title: str,
    items: list[dict[str, Any]],
    label_key: str,
    label: Any = None,
) -> str:
    for number, item in enumerate(items, start=1):
        text = label(item) if label else item.get(label_key, "")
        extra = f" <{item.get(label_key)}>" if label and item.get(label_key) else ""
        print(f"  {number}. {text}{extra}  ({item.get('id')})", file=sys.stderr)
    choice: int = typer.prompt(f"{title} [1-{len(items)}]", type=int, default=1)
    if not 1 <= choice <= len(items):
        raise UsageError(f"{title}: {choice} is not in 1-{len(items)}")
    return str(items[choice - 1]["id"])
