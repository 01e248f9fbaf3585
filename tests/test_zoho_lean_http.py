"""The Desk client's lean HTTP path (zoho/lean_http.py) against a small scripted server on
127.0.0.1: keep-alive reuse, answers in every framing, timeouts, dropped connections and
what the retry policy makes of each failure, TLS, and the fall-backs to requests."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ringodesk_cli.errors import OutcomeUnknownError, ZohoUnavailableError
from ringodesk_cli.http_retry import NeverSentError, may_resend, never_sent
from ringodesk_cli.zoho import lean_http
from ringodesk_cli.zoho.desk import DeskClient
from ringodesk_cli.zoho.lean_http import LeanHttp

Handler = Callable[["Exchange"], bool]  # returns False to close the connection afterwards


class Exchange:
    """One request as the server read it, and a way to answer."""

    def __init__(self, conn: socket.socket, rfile: Any) -> None:
        self.conn = conn
        line = rfile.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            raise EOFError
        self.method, self.target, _ = line.split(" ", 2)
        self.headers: dict[str, str] = {}
        while True:
            header = rfile.readline().decode("latin-1").rstrip("\r\n")
            if not header:
                break
            name, _, value = header.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        length = int(self.headers.get("content-length") or 0)
        self.body = rfile.read(length) if length else b""

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
               *, length: bool = True) -> None:  # fmt: skip
        head = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
        if length:
            head.append(f"Content-Length: {len(body)}")
        self.conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


class Server:
    """Serves each connection in a thread; ``route`` maps a path to a handler."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = tls
        self.routes: dict[str, Handler] = {}
        self.seen: list[Exchange] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            rfile = conn.makefile("rb")
            while True:
                exchange = Exchange(conn, rfile)
                self.seen.append(exchange)
                if not self.routes[exchange.target.split("?")[0]](exchange):
                    break
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()


def ok_json(body: Any) -> Handler:
    def handle(ex: Exchange) -> bool:
        ex.answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        return True

    return handle


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def test_requests_share_one_keep_alive_connection_and_carry_their_headers(
    server: Server,
) -> None:
    server.routes["/a"] = ok_json({"id": "1"})
    http = LeanHttp()
    body = json.dumps({"subject": "Пропущений"}).encode()
    first = http.send("POST", server.url("/a?x=1"), {"Authorization": "t", "orgId": "7"}, body, 5)
    second = http.send("GET", server.url("/a"), {"Accept": "application/json"}, None, 5)
    assert first.status_code == second.status_code == 200
    assert first.json() == {"id": "1"}
    assert server.connections == 1 and http.connections_opened == 1
    post, get = server.seen
    assert (post.method, post.target, post.body) == ("POST", "/a?x=1", body)
    assert post.headers["content-length"] == str(len(body))
    assert post.headers["host"] == f"127.0.0.1:{server.port}"
    assert post.headers["authorization"] == "t" and post.headers["orgid"] == "7"
    assert "content-length" not in get.headers  # a GET without a body announces none


def test_chunked_gzip_204_and_close_delimited_answers_are_read_whole(server: Server) -> None:
    payload = json.dumps({"data": [{"id": str(i)} for i in range(300)]}).encode()
    packed = gzip.compress(payload)

    def chunked(ex: Exchange) -> bool:
        head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        parts = [packed[i : i + 100] for i in range(0, len(packed), 100)]
        chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
        ex.conn.sendall(head.encode() + chunks + b"0\r\n\r\n")
        return True

    def empty(ex: Exchange) -> bool:
        ex.conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        return True

    def until_close(ex: Exchange) -> bool:
        ex.answer(200, b'{"last": true}', {"Connection": "close"}, length=False)
        return False

    server.routes.update({"/chunked": chunked, "/empty": empty, "/close": until_close})
    http = LeanHttp()
    assert http.send("GET", server.url("/chunked"), {}, None, 5).content == payload
    assert http.send("GET", server.url("/empty"), {}, None, 5).content == b""
    answer = http.send("GET", server.url("/close"), {}, None, 5)
    assert answer.json() == {"last": True} and answer.headers.get("CONNECTION") == "close"
    assert server.connections == 1
    # The server closed that connection: the next request opens a new one, without an error.
    assert http.send("GET", server.url("/empty"), {}, None, 5).status_code == 204
    assert server.connections == 2


def test_an_idle_connection_the_server_closed_is_replaced_before_sending(server: Server) -> None:
    def answer_then_hang_up(ex: Exchange) -> bool:
        ex.answer(200, b"{}")  # keep-alive announced, then closed while idle
        return False

    server.routes["/a"] = answer_then_hang_up
    http = LeanHttp()
    for _ in range(3):
        http.send("POST", server.url("/a"), {}, b"{}", 5)
        # Let the server's close reach this side before the next request.
        threading.Event().wait(0.05)
    assert server.connections == 3 and len(server.seen) == 3


def test_refused_connection_is_never_sent_and_may_be_resent() -> None:
    port = socket.create_server(("127.0.0.1", 0))
    closed = port.getsockname()[1]
    port.close()
    with pytest.raises(NeverSentError) as caught:
        LeanHttp().send("POST", f"http://127.0.0.1:{closed}/a", {}, b"{}", 5)
    assert never_sent(caught.value) and may_resend("POST", exc=caught.value)
    assert isinstance(caught.value, requests.ConnectionError)


def test_read_timeout_leaves_a_post_unresent(server: Server) -> None:
    release = threading.Event()

    def slow(ex: Exchange) -> bool:
        release.wait(5)
        return False

    server.routes["/slow"] = slow
    with pytest.raises(requests.ReadTimeout) as caught:
        LeanHttp().send("POST", server.url("/slow"), {}, b"{}", 0.2)
    release.set()
    assert not may_resend("POST", exc=caught.value) and may_resend("GET", exc=caught.value)


def _desk(server: Server, attempts: int = 3) -> DeskClient:
    class Tokens:
        def access_token(self) -> str:
            return "tok-lean"

        def invalidate(self, token: str) -> None:
            pass

    return DeskClient(server.url(""), Tokens(), "1", sleep=lambda _s: None,
                      max_attempts=attempts, lean=True)  # fmt: skip


def test_connection_dropped_after_a_post_is_an_unknown_outcome_sent_once(server: Server) -> None:
    def drop(ex: Exchange) -> bool:
        ex.conn.shutdown(socket.SHUT_RDWR)
        return False

    server.routes["/api/v1/calls"] = drop
    desk = _desk(server)
    with pytest.raises(OutcomeUnknownError):
        desk.request("POST", "/calls", json={"subject": "x"})
    assert [e.method for e in server.seen] == ["POST"]  # never blindly resent


def test_connection_dropped_on_a_get_is_retried_then_unavailable(server: Server) -> None:
    def drop(ex: Exchange) -> bool:
        ex.conn.shutdown(socket.SHUT_RDWR)
        return False

    server.routes["/api/v1/calls"] = drop
    with pytest.raises(ZohoUnavailableError):
        _desk(server, attempts=3).request("GET", "/calls")
    assert len(server.seen) == 3


def test_desk_client_answers_and_errors_through_the_lean_path(server: Server) -> None:
    answers = iter([(429, {"errorCode": "TOO_MANY_REQUESTS"}), (200, {"id": "9"})])

    def limited(ex: Exchange) -> bool:
        status, body = next(answers)
        ex.answer(status, json.dumps(body).encode(), {"Retry-After": "0"})
        return True

    server.routes["/api/v1/tickets"] = limited
    desk = _desk(server)
    assert desk.request("POST", "/tickets", json={"subject": "s"}) == {"id": "9"}
    assert desk._lean is not None and desk._lean.connections_opened == 1
    first = server.seen[0]
    assert first.headers["authorization"] == "Zoho-oauthtoken tok-lean"
    assert first.headers["orgid"] == "1" and json.loads(first.body) == {"subject": "s"}


def test_a_redirect_is_followed_through_requests(server: Server) -> None:
    def moved(ex: Exchange) -> bool:
        ex.answer(307, b"", {"Location": server.url("/api/v1/real")})
        return True

    server.routes["/api/v1/old"] = moved
    server.routes["/api/v1/real"] = ok_json({"moved": True})
    assert _desk(server).request("GET", "/old") == {"moved": True}
    assert [e.target for e in server.seen][-1] == "/api/v1/real"


def test_a_proxy_in_the_environment_sends_everything_through_requests(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/api/v1/x"] = ok_json({})
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    desk = _desk(server)
    desk._environment_settings()
    assert desk._lean is None
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # this host bypasses the proxy
    bypass = _desk(server)
    assert bypass.request("GET", "/x") == {} and bypass._lean is not None
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # not for this http URL
    plain = _desk(server)
    assert plain.request("GET", "/x") == {} and plain._lean is not None


def test_tests_that_mock_requests_get_the_requests_path(server: Server) -> None:
    # conftest turns the default off for in-process tests; production keeps it on.
    assert lean_http.ENABLED is False
    desk = DeskClient(server.url(""), object(), "1")  # type: ignore[arg-type]
    desk._environment_settings()
    assert desk._lean is None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_checks_the_certificate_and_the_host_name(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv = Server(tls=context)
    srv.routes["/a"] = ok_json({"secure": True})
    try:
        trusted = LeanHttp(ca_file=str(cert))
        url = srv.url("/a", host="localhost")
        assert trusted.send("GET", url, {}, None, 5).json() == {"secure": True}
        assert trusted.send("GET", url, {}, None, 5).json() == {"secure": True}
        assert trusted.connections_opened == 1
        # certifi's bundle does not know this certificate: refused before anything is sent.
        with pytest.raises(NeverSentError):
            LeanHttp().send("GET", url, {}, None, 5)
        # The name in the certificate is localhost, not 127.0.0.1.
        with pytest.raises(NeverSentError):
            LeanHttp(ca_file=str(cert)).send("GET", srv.url("/a"), {}, None, 5)
    finally:
        srv.close()


def test_requests_in_flight_never_exceed_the_slots(server: Server) -> None:
    inside = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    def held(ex: Exchange) -> bool:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        release.wait(0.05)
        with lock:
            inside -= 1
        ex.answer(200, b"{}")
        return True

    server.routes["/api/v1/x"] = held
    desk = _desk(server)
    desk.limit_in_flight(3)
    threads = [threading.Thread(target=desk.request, args=("GET", "/x")) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3 and len(server.seen) == 9
    assert desk._lean is not None and desk._lean.connections_opened == 3
