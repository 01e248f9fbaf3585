"""The browser flow's one-shot redirect listener on 127.0.0.1.

The redirect URI registered in Zoho's API console is
``http://127.0.0.1:{zoho.redirect_port}/callback`` (default 8765). Zoho documents no PKCE
(docs/zoho-readings.md), so a random ``state`` ties the redirect to the request we made; the
redirect also names the user's data center (``location``, ``accounts-server``; ACC
multi-dc/client-authorization.html).

Bind and serve first (:class:`RedirectListener` serves from its own thread as soon as it is
built), then open the browser, then :meth:`wait`. The listener must answer while the browser
runs: ``webbrowser`` waits for a ``$BROWSER`` program (w3m, lynx, a script) to exit, and such
a program waits for our answer to the redirect. :func:`wait_for_redirect` does both for
callers that need nothing in between.
"""

from __future__ import annotations

import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ringodesk_cli.errors import AuthError, ConfigError
from ringodesk_cli.redact import register_secret
from ringodesk_cli.zoho.accounts import Authorization

CALLBACK_PATH = "/callback"

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>ringodesk</title></head>
<body style="font-family: sans-serif; margin: 3em">
<h1>{title}</h1><p>{text}</p></body></html>
"""


class _Outcome:
    """What the one useful request brought: an Authorization, or an error to raise."""

    def __init__(self) -> None:
        self.authorization: Authorization | None = None
        self.error: AuthError | None = None
        self.arrived = threading.Event()

    @property
    def done(self) -> bool:
        return self.arrived.is_set()

    def settle(self, authorization: Authorization | None, error: AuthError | None) -> None:
        self.authorization, self.error = authorization, error
        self.arrived.set()


def _handler(expected_state: str, outcome: _Outcome) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # A client that connects and says nothing must not pin the listener forever.
        timeout = 10

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != CALLBACK_PATH or outcome.done:
                # e.g. /favicon.ico: answer and keep waiting for the real redirect.
                self._answer(404, "Not found", "This is ringodesk's sign-in listener.")
                return
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            authorization, error = _judge(params, expected_state)
            if error is None:
                self._answer(
                    200,
                    "Signed in to Zoho",
                    "ringodesk received the authorization. You can close this tab and "
                    "return to the terminal.",
                )
            else:
                self._answer(
                    400,
                    "Sign-in failed",
                    "ringodesk did not accept this answer; see the terminal for details. "
                    "You can close this tab.",
                )
            outcome.settle(authorization, error)

        def _answer(self, status: int, title: str, text: str) -> None:
            body = _PAGE.format(title=title, text=text).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Library code never prints, and the request line carries the grant code.
            return

    return Handler


def _judge(
    params: dict[str, str], expected_state: str
) -> tuple[Authorization | None, AuthError | None]:
    code = params.get("code")
    if code:
        # Single-use and short-lived, but a credential until exchanged.
        register_secret(code)
    if params.get("error"):
        # The user clicked "Deny", or Zoho refused the client (e.g. access_denied). Checked
        # before `state`: an error grants nothing, and its message is what the user needs.
        return None, AuthError(
            f"Zoho refused the sign-in in the browser ({params['error'][:100]})",
            hint="run `ringodesk activate` again and accept the requested access",
        )
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), expected_state.encode()):
        return None, AuthError(
            "the browser's answer carried the wrong sign-in state; it was ignored",
            hint="another page may have called the listener; run `ringodesk activate` again",
        )
    if not code:
        return None, AuthError("the browser's answer carried no authorization code")
    return (
        Authorization(
            code=code,
            accounts_server=params.get("accounts-server") or None,
            location=params.get("location") or None,
        ),
        None,
    )


class RedirectListener:
    """A listener bound and serving (in a daemon thread) on construction; use as a context
    manager so the thread stops and the port is freed."""

    def __init__(self, port: int, expected_state: str, host: str = "127.0.0.1") -> None:
        self._outcome = _Outcome()
        try:
            self._server = HTTPServer((host, port), _handler(expected_state, self._outcome))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} for the sign-in redirect ({exc.strerror})",
                key="zoho.redirect_port",
                hint="free the port, or use --redirect-port (and register that redirect URI "
                "in api-console.zoho.com), or sign in with --device or --grant-code",
            ) from None
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="ringodesk-redirect-listener",
            daemon=True,
        )
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}{CALLBACK_PATH}"

    def wait(self, timeout: float = 300.0) -> Authorization:
        """The authorization the redirect brought (it may have come already)."""
        # Short waits in a loop: Ctrl-C must reach the main thread while it waits.
        deadline = time.monotonic() + timeout
        while not self._outcome.arrived.wait(min(0.5, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                raise AuthError(
                    f"no answer from the browser within {timeout:.0f} s",
                    hint="open the printed URL in a browser on this machine, or sign in "
                    "with --device or --grant-code",
                )
        if self._outcome.error is not None:
            raise self._outcome.error
        assert self._outcome.authorization is not None
        return self._outcome.authorization

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def wait_for_redirect(
    port: int, expected_state: str, timeout: float = 300.0, host: str = "127.0.0.1"
) -> Authorization:
    """Listen on ``host:port``, wait for one ``/callback`` redirect, return its code.

    Raises :class:`AuthError` on a ``state`` mismatch, an ``error=`` parameter, or timeout.
    """
    with RedirectListener(port, expected_state, host) as listener:
        return listener.wait(timeout)
