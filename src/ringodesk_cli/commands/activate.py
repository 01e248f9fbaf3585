"""`ringodesk activate`: the wizard. Every prompt has a flag; `--no-input` never prompts.

The steps live in ``ringodesk_cli.setup.activation``; this module parses the flags, answers the
wizard's questions on the terminal (:class:`_Terminal`), reads secrets and prints the result.
"""

from __future__ import annotations

import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ringodesk_cli.commands.context import (
    AppContext,
    InsecureStorageOpt,
    JsonOpt,
    NoInputOpt,
    ProfileOpt,
    QuietOpt,
    use,
)
from ringodesk_cli.errors import UsageError

if TYPE_CHECKING:
    from ringodesk_cli.session import Session
    from ringodesk_cli.setup.activation import ActivationResult
    from ringodesk_cli.zoho.accounts import DeviceCode

RegionOpt = Annotated[
    str | None,
    typer.Option(help="Zoho data center: com, eu, in, com.au, jp, ca, sa, uk, com.cn."),
]
AccountsUrlOpt = Annotated[
    str | None, typer.Option(help="Zoho Accounts server (a loopback stand-in works too).")
]
DeskUrlOpt = Annotated[
    str | None, typer.Option(help="Zoho Desk host root; ringodesk adds /api/v1.")
]
ClientIdOpt = Annotated[str | None, typer.Option(help="OAuth client id.")]
ClientSecretFileOpt = Annotated[
    Path | None,
    typer.Option(
        help="File holding the client secret ('-' = stdin). Also: piped stdin or "
        "RINGODESK_CLIENT_SECRET. Never a plain flag value."
    ),
]
GrantCodeOpt = Annotated[
    str | None,
    typer.Option(help="Self Client grant code (single use, minutes-long); '-' = stdin."),
]
DeviceOpt = Annotated[bool, typer.Option("--device", help="Sign in with the device flow.")]
RingostatKeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        help="File holding the Ringostat Auth-key ('-' = stdin), for source.kind = api; "
        "checked with one calls/list request, then kept with the other secrets."
    ),
]
RedirectPortOpt = Annotated[
    int | None, typer.Option(help="Port of http://127.0.0.1:PORT/callback (browser flow).")
]
OrgOpt = Annotated[str | None, typer.Option(help="Zoho Desk organization id.")]
DepartmentOpt = Annotated[str | None, typer.Option(help="Department id or name.")]
SeniorManagerOpt = Annotated[str | None, typer.Option(help="Senior manager: agent id or e-mail.")]
TaskDeadlineOpt = Annotated[
    str | None, typer.Option(help="Task processing deadline, e.g. 4h or 90m.")
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        help="IANA zone of Ringostat's call times, e.g. Europe/Kyiv. Default: the system "
        "zone, or Europe/Kyiv when the system runs on UTC."
    ),
]
AttachRecordingsOpt = Annotated[
    bool | None,
    typer.Option(
        "--attach-recordings/--no-attach-recordings",
        help="Attach each call's recording to its Zoho Desk call activity "
        "(recordings.attach; asked when not given, off with --no-input).",
    ),
]


def activate(
    ctx: typer.Context,
    region: RegionOpt = None,
    accounts_url: AccountsUrlOpt = None,
    desk_url: DeskUrlOpt = None,
    client_id: ClientIdOpt = None,
    client_secret_file: ClientSecretFileOpt = None,
    grant_code: GrantCodeOpt = None,
    device: DeviceOpt = False,
    ringostat_key_file: RingostatKeyFileOpt = None,
    redirect_port: RedirectPortOpt = None,
    org: OrgOpt = None,
    department: DepartmentOpt = None,
    senior_manager: SeniorManagerOpt = None,
    task_deadline: TaskDeadlineOpt = None,
    timezone: TimezoneOpt = None,
    attach_recordings: AttachRecordingsOpt = None,
    no_input: NoInputOpt = False,
    insecure_storage: InsecureStorageOpt = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    profile: ProfileOpt = None,
) -> None:
    """Sign in to Zoho and set the profile up: org, department, senior manager, deadline.

    Re-activating a profile keeps its field ids, employee links and mappings.
    """
    from ringodesk_cli.setup.activation import ActivationRequest
    from ringodesk_cli.setup.activation_wizard import activate as run_wizard

    app = use(ctx, json_mode=json_mode, quiet=quiet, profile=profile)
    app.no_input = app.no_input or no_input
    app.insecure_storage = app.insecure_storage or insecure_storage
    session = app.session(new_profile=True)
    request = ActivationRequest(
        region=region,
        accounts_url=accounts_url,
        desk_url=desk_url,
        client_id=client_id,
        redirect_port=redirect_port,
        device=device,
        org=org,
        department=department,
        senior_manager=senior_manager,
        task_deadline=task_deadline,
        timezone=timezone,
        attach_recordings=attach_recordings,
    )
    talk = _Terminal(app, grant_code, client_secret_file, ringostat_key_file)
    _render(app, session, run_wizard(session, request, talk))


class _Terminal:
    """Answers the wizard: prompts on the terminal, secrets from files or stdin."""

    def __init__(
        self,
        app: AppContext,
        grant_code: str | None,
        client_secret_file: Path | None,
        ringostat_key_file: Path | None,
    ) -> None:
        self.interactive = app.interactive
        self._out = app.output
        self._stdin_is_tty = app.env.stdin_is_tty
        self._grant_code = grant_code
        self._secret_file = client_secret_file
        self._key_file = ringostat_key_file
        self._stdin_used = False

    def ask(self, question: str, default: str | None = None) -> str:
        return str(typer.prompt(question, default=default))

    def tell(self, message: str) -> None:
        self._out.warn(message)

    def choose(
        self,
        title: str,
        items: list[dict[str, Any]],
        key: str,
        label: Callable[[dict[str, Any]], str] | None = None,
    ) -> str:
        for number, item in enumerate(items, start=1):
            text = label(item) if label else item.get(key, "")
            extra = f" <{item.get(key)}>" if label and item.get(key) else ""
            print(f"  {number}. {text}{extra}  ({item.get('id')})", file=sys.stderr)
        choice: int = typer.prompt(f"{title} [1-{len(items)}]", type=int, default=1)
        if not 1 <= choice <= len(items):
            raise UsageError(f"{title}: {choice} is not in 1-{len(items)}")
        return str(items[choice - 1]["id"])

    def grant_code(self) -> str | None:
        if self._grant_code != "-":
            return self._grant_code
        code = sys.stdin.readline().strip()
        self._stdin_used = True
        if not code:
            raise UsageError("--grant-code -: stdin was empty")
        return code

    def client_secret(self, stored: bool) -> str | None:
        from ringodesk_cli.credentials import read_secret

        what = "client secret"
        if self._secret_file is not None:
            if str(self._secret_file) == "-" and self._stdin_used:
                raise UsageError("stdin already carried the grant code; pass the secret as a file")
            return read_secret(
                self._secret_file, sys.stdin, what=what, stdin_is_tty=self._stdin_is_tty
            )
        if stored:
            return None  # environment variable or already stored
        if not self._stdin_is_tty and not self._stdin_used:
            return read_secret(None, sys.stdin, what=what, stdin_is_tty=False)
        if self.interactive:
            value: str = typer.prompt("OAuth client secret", hide_input=True)
            return value.strip()
        raise UsageError(
            "no client secret",
            hint="pass --client-secret-file FILE, pipe it on stdin, or set RINGODESK_CLIENT_SECRET",
        )

    def ringostat_key(self) -> str | None:
        from ringodesk_cli.credentials import read_secret

        if self._key_file is None:
            return None
        if str(self._key_file) == "-" and self._stdin_used:
            raise UsageError("stdin already carried another secret; pass the Auth-key as a file")
        return read_secret(
            self._key_file, sys.stdin, what="Ringostat Auth-key", stdin_is_tty=self._stdin_is_tty
        )

    def show_device_code(self, code: DeviceCode) -> None:
        self._out.info(f"Open {code.verification_url} and enter the code {code.user_code}")

    def open_consent_page(self, url: str) -> None:
        self._out.info(f"Opening the Zoho consent page; if no browser opens, visit:\n{url}")
        webbrowser.open(url)


def _render(app: AppContext, session: Session, result: ActivationResult) -> None:
    out = app.output
    data = result.as_dict()
    if app.json_mode:
        out.json(data)
        return
    out.result(f"Activated profile {data['profile']!r} ({session.settings.path})")
    out.result(f"  organization    {data['org']['name']} ({data['org']['id']})")
    out.result(f"  department      {data['department']['name']} ({data['department']['id']})")
    out.result(f"  senior manager  {data['senior_manager']['name']}")
    out.result(f"  task deadline   {result.task_deadline}")
    out.result(f"  time zone       {result.timezone} ({result.timezone_reason})")
    out.result(f"  agents loaded   {result.agents}")
    out.result(f"  recordings      {'attached' if result.attach_recordings else 'links only'}")
    out.result(f"  secrets kept in {data['credential_store']}")
    for warning in result.warnings:
        out.info(f"note: {warning}")
    out.info("next: `ringodesk fields create`, then `ringodesk employees link`")
