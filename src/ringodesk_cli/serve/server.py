"""`ringodesk serve` as a library call: the locks, the inbox, the worker and uvicorn.

One server per profile (the ``serve`` lock, held for the server's life; a cron `sync` seeing
it waits for the worker's delivery instead of failing busy). uvicorn runs in the calling
thread without its own signal handlers: the caller's ``stop`` event (set by the first
SIGTERM or Ctrl-C) ends it the uvicorn way: the socket stops accepting, the requests in
flight finish (each webhook already answered is in the ledger), then the worker (its own
process, ``supervisor.py``) finishes the Zoho requests in flight and what is left stays pending
in the ledger for the next start or `sync`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import uvicorn

from ringodesk_cli.errors import ConfigError, UsageError
from ringodesk_cli.ledger.store import LEDGER_FILE, Ledger
from ringodesk_cli.locks import SERVER_LOCK, RunLock
from ringodesk_cli.serve.app import Receiver, build_app
from ringodesk_cli.serve.catch_up import catch_up_period
from ringodesk_cli.serve.connections import GuardedH11Protocol
from ringodesk_cli.serve.inbox import Inbox
from ringodesk_cli.serve.log_lines import LogFormat
from ringodesk_cli.serve.supervisor import Log, Supervisor, WorkerSpec

if TYPE_CHECKING:
    from ringodesk_cli.session import Session

GRACEFUL_SECONDS = 20  # in-flight HTTP requests get this long after SIGTERM
WORKER_STOP_SECONDS = 120.0
MAX_CONNECTIONS = 500  # connections at once; more get 503 and are closed
IDLE_TIMEOUT = 5  # seconds an idle (keep-alive) connection is held
MAX_HEAD = 16 * 1024  # bytes of a request head


@dataclass(frozen=True)
class ServeResult:
    url: str
    stats: dict[str, Any]


class _Server(uvicorn.Server):
    """uvicorn, stopped by an Event instead of its own signal handlers; every tick (a tenth
    of a second) it has the supervisor restart a worker that died."""

    def __init__(self, config: uvicorn.Config, stop: threading.Event, worker: Supervisor) -> None:
        super().__init__(config)
        self.stop_event = stop
        self.worker = worker

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def on_tick(self, counter: int) -> bool:
        if self.stop_event.is_set():
            return True
        self.worker.check()
        return await super().on_tick(counter)


def serve(
    session: Session,
    *,
    host: str,
    port: int,
    stop: threading.Event,
    log: LogFormat,
    on_ready: Callable[[str], None] | None = None,
    lines: Log | None = None,
    worker_stop_seconds: float = WORKER_STOP_SECONDS,
) -> ServeResult:
    """Serves until ``stop`` is set. ``log``: how the receiver and the worker write their
    lines; ``lines``: where the receiver's go instead (the demo keeps them);
    ``worker_stop_seconds``: how long the worker may take to stop before it is killed. Raises
    BusyError (another server on this profile), ConfigError (no webhook secret), UsageError
    (the address cannot be listened on)."""
    settings = session.settings
    secret = session.credentials.get("webhook_secret")
    if not secret:
        raise ConfigError(
            "no webhook secret is stored for this profile",
            hint="run `ringodesk serve setup` (or set RINGODESK_WEBHOOK_SECRET)",
        )
    state_dir = session.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as st:
        server_lock = RunLock(state_dir, SERVER_LOCK).acquire(timeout=5)
        st.callback(server_lock.release)
        sock = _listen(host, port)
        st.callback(sock.close)
        ledger = Ledger(state_dir / LEDGER_FILE)
        st.callback(ledger.close)
        inbox = Inbox(ledger, receiving=True)
        before_call = settings.get("integration.create_records") == "before-call"
        worker = Supervisor(WorkerSpec(session.profile, session.paths, before_call, log), log.emit)
        receiver = Receiver(
            secret=secret,
            timezone=ZoneInfo(settings.get("ringostat.timezone")),
            default_region=str(settings.get("ringostat.default_region")),
            inbox=inbox,
            log=lines or log.emit,
            check_token=lambda: _check_token(session),
            worker_down_for=lambda: worker.down_for,
            catch_up_every=catch_up_period(session),
            renames=settings.table("serve.params"),
            before_call=before_call,
        )
        config = uvicorn.Config(
            build_app(receiver),
            access_log=False,  # an access line would carry the key in the query
            log_config=None,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            # Untrusted clients: at most this many connections at once (503 beyond), and an
            # idle connection (one that sends nothing, or a head that never ends) is closed.
            http=GuardedH11Protocol,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=IDLE_TIMEOUT,
            h11_max_incomplete_event_size=MAX_HEAD,
        )
        bound_host, bound_port = sock.getsockname()[:2]
        url = f"http://{bound_host}:{bound_port}"
        worker.start()
        st.callback(worker.stop, worker_stop_seconds)
        if on_ready is not None:
            on_ready(url)
        server = _Server(config, stop, worker)
        server.run(sockets=[sock])
        st.close()  # the worker stops here, after the requests in flight
        return ServeResult(url=url, stats={"worker_restarts": worker.restarts})
    raise AssertionError("unreachable")  # pragma: no cover


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it a response's head and body wait for the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port, or stop what listens there",
        ) from None
    sock.set_inheritable(True)
    return sock


def _check_token(session: Session) -> Any:
    return session.token_provider().access_token()
