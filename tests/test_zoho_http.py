"""The Desk client's HTTP over real sockets: requests, one Session per client, against a small
scripted server on 127.0.0.1. Keep-alive reuse, the pool sized to the threads, answers in
every framing, and what the retry policy makes of each failure: an answer cut short, a wrong
Content-Length, a connection dropped after the request, a server that never accepts, a
connection refused, a proxy from the environment, a certificate refused."""

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
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError, SSLError

from ringodesk_cli.errors import OutcomeUnknownError, ZohoUnavailableError
from ringodesk_cli.http_retry import may_resend, never_sent
from ringodesk_cli.zoho.desk import DeskClient

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
               *, length: int | None = None) -> None:  # fmt: skip
        head = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
        if length != -1:
            head.append(f"Content-Length: {len(body) if length is None else length}")
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

    def url(self, path: str = "", host: str = "127.0.0.1") -> str:
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
                route = exchange.target.split("?")[0].split("://")[-1]
                handler = self.routes.get(route) or self.routes[route.split("/", 1)[0]]
                if not handler(exchange):
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


class Tokens:
    def access_token(self) -> str:
        return "tok-http"

    def invalidate(self, token: str) -> None:
        pass


def desk_for(url: str, attempts: int = 3, timeout: float = 5.0) -> DeskClient:
    return DeskClient(url, Tokens(), "1", sleep=lambda _s: None, max_attempts=attempts,
                      timeout=timeout)  # fmt: skip


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE",
                 "CURL_CA_BUNDLE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


# ------------------------------------------------------------------ one Session, pooled
def test_sequential_requests_share_one_keep_alive_connection_and_carry_their_headers(
    server: Server,
) -> None:
    server.routes["/api/v1/calls"] = ok_json({"id": "1"})
    server.routes["/api/v1/myinfo"] = ok_json({"id": "me"})
    desk = desk_for(server.url())
    assert desk.request("POST", "/calls", json={"subject": "Пропущений"}) == {"id": "1"}
    for _ in range(4):
        assert desk.myinfo() == {"id": "me"}
    assert server.connections == 1 and len(server.seen) == 5
    post, get = server.seen[0], server.seen[1]
    body = json.dumps({"subject": "Пропущений"}).encode()
    assert (post.method, post.target, post.body) == ("POST", "/api/v1/calls", body)
    assert post.headers["content-length"] == str(len(body))
    assert post.headers["host"] == f"127.0.0.1:{server.port}"
    assert post.headers["authorization"] == "Zoho-oauthtoken tok-http"
    assert post.headers["orgid"] == "1"
    assert "content-length" not in get.headers  # a GET without a body announces none


def test_the_pool_is_sized_to_the_threads_and_in_flight_never_exceeds_the_slots(
    server: Server,
) -> None:
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
    desk = desk_for(server.url())
    desk.limit_in_flight(3)
    adapter = desk.session.get_adapter(server.url())
    assert desk.pool_size == 6 and adapter._pool_maxsize == 6  # type: ignore[attr-defined]
    assert desk.session.get_adapter("https://desk.zoho.eu") is adapter
    threads = [threading.Thread(target=desk.request, args=("GET", "/x")) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3 and len(server.seen) == 9
    assert server.connections == 3  # one per slot, reused, none opened and thrown away


def test_a_session_handed_in_is_used_as_it_is(server: Server) -> None:
    server.routes["/api/v1/x"] = ok_json({"handed": True})
    session = requests.Session()
    desk = DeskClient(server.url(), Tokens(), "1", session=session)
    desk.limit_in_flight(4)
    assert desk.session is session and desk.request("GET", "/x") == {"handed": True}


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
        ex.answer(200, b'{"last": true}', {"Connection": "close"}, length=-1)
        return False

    server.routes.update(
        {"/api/v1/chunked": chunked, "/api/v1/empty": empty, "/api/v1/close": until_close}
    )
    desk = desk_for(server.url())
    assert desk.request("GET", "/chunked") == json.loads(payload)
    assert desk.request("GET", "/empty") is None
    assert desk.request("GET", "/close") == {"last": True}
    assert server.connections == 1
    # The server closed that connection: the next request opens a new one, without an error.
    assert desk.request("GET", "/empty") is None
    assert server.connections == 2


def test_an_idle_connection_the_server_closed_is_replaced_before_a_post(server: Server) -> None:
    def answer_then_hang_up(ex: Exchange) -> bool:
        ex.answer(200, b'{"id": "1"}')  # keep-alive announced, then closed while idle
        return False

    server.routes["/api/v1/calls"] = answer_then_hang_up
    desk = desk_for(server.url(), attempts=1)
    for _ in range(3):
        assert desk.request("POST", "/calls", json={}) == {"id": "1"}
        threading.Event().wait(0.2)  # let the server's close reach this side
    assert server.connections == 3 and len(server.seen) == 3


def test_a_redirect_is_followed(server: Server) -> None:
    def moved(ex: Exchange) -> bool:
        ex.answer(307, b"", {"Location": server.url("/api/v1/real")})
        return True

    server.routes["/api/v1/old"] = moved
    server.routes["/api/v1/real"] = ok_json({"moved": True})
    assert desk_for(server.url()).request("GET", "/old") == {"moved": True}
    assert [e.target for e in server.seen] == ["/api/v1/old", "/api/v1/real"]


def test_429_then_success_over_the_wire_resends_the_post_on_the_same_connection(
    server: Server,
) -> None:
    answers = iter([(429, {"errorCode": "TOO_MANY_REQUESTS"}), (200, {"id": "9"})])

    def limited(ex: Exchange) -> bool:
        status, body = next(answers)
        ex.answer(status, json.dumps(body).encode(), {"Retry-After": "0"})
        return True

    server.routes["/api/v1/tickets"] = limited
    desk = desk_for(server.url())
    assert desk.request("POST", "/tickets", json={"subject": "s"}) == {"id": "9"}
    assert [json.loads(e.body) for e in server.seen] == [{"subject": "s"}] * 2
    assert server.connections == 1


# ------------------------------------------------------------------ broken answers
def cut_short(ex: Exchange) -> bool:
    ex.answer(200, b'{"id": "1", "subject": "trunc', length=200)  # 32 of 200 bytes
    return False  # and the connection closes


def wrong_length(ex: Exchange) -> bool:
    # A complete JSON body announced as longer than it is: the rest never comes.
    ex.answer(200, b'{"id": "1"}', length=12)
    return False


def broken_chunks(ex: Exchange) -> bool:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    ex.conn.sendall(head + b'b\r\n{"id": "1"}\r\n')  # no last chunk: the answer stops here
    return False


def dropped(ex: Exchange) -> bool:
    ex.conn.shutdown(socket.SHUT_RDWR)  # request read, no answer
    return False


BROKEN = {"cut short": cut_short, "wrong Content-Length": wrong_length,
          "chunks cut short": broken_chunks, "dropped": dropped}  # fmt: skip


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_a_post_answered_badly_is_an_unknown_outcome_sent_once(
    server: Server, answer: Handler
) -> None:
    server.routes["/api/v1/calls"] = answer
    desk = desk_for(server.url(), attempts=4)
    with pytest.raises(OutcomeUnknownError, match="could not be reached"):
        desk.create_call({"subject": "x"})
    assert [e.method for e in server.seen] == ["POST"]  # never blindly resent


@pytest.mark.parametrize("answer", BROKEN.values(), ids=BROKEN.keys())
def test_a_get_answered_badly_is_retried_then_unavailable(server: Server, answer: Handler) -> None:
    server.routes["/api/v1/calls"] = answer
    with pytest.raises(ZohoUnavailableError):
        desk_for(server.url(), attempts=3).request("GET", "/calls")
    assert len(server.seen) == 3


def test_an_answer_cut_short_is_never_taken_for_the_whole(server: Server) -> None:
    # Cut short once, whole the second time: the GET returns the whole answer only.
    answers = iter([wrong_length, ok_json({"id": "1", "whole": True})])
    server.routes["/api/v1/tickets/1"] = lambda ex: next(answers)(ex)
    assert desk_for(server.url()).get_ticket("1") == {"id": "1", "whole": True}
    assert len(server.seen) == 2


def test_a_read_timeout_leaves_a_post_unresent(server: Server) -> None:
    release = threading.Event()

    def slow(ex: Exchange) -> bool:
        release.wait(5)
        return False

    server.routes["/api/v1/calls"] = slow
    try:
        with pytest.raises(OutcomeUnknownError):
            desk_for(server.url(), attempts=4, timeout=0.2).create_call({"subject": "x"})
    finally:
        release.set()
    assert [e.method for e in server.seen] == ["POST"]


def _never_accepting() -> tuple[socket.socket, str]:
    # Listening, never accepting: the kernel completes the handshake and takes the request,
    # nobody answers. Accepted afterwards to see what was sent.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def _requests_waiting(listener: socket.socket) -> list[bytes]:
    listener.settimeout(0.2)
    lines = []
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return lines
        with conn:
            conn.settimeout(0.2)
            lines.append(conn.recv(65536).split(b"\r\n", 1)[0])


def test_a_server_that_never_accepts_gets_a_post_once_and_a_get_again() -> None:
    listener, url = _never_accepting()
    with listener:
        with pytest.raises(OutcomeUnknownError):
            desk_for(url, attempts=3, timeout=0.2).create_call({"subject": "x"})
        assert _requests_waiting(listener) == [b"POST /api/v1/calls HTTP/1.1"]
        with pytest.raises(ZohoUnavailableError):
            desk_for(url, attempts=3, timeout=0.2).request("GET", "/calls")
        assert _requests_waiting(listener) == [b"GET /api/v1/calls HTTP/1.1"] * 3


def test_a_refused_connection_was_never_sent_so_a_post_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    desk = desk_for(f"http://127.0.0.1:{port}", attempts=3)
    with pytest.raises(ZohoUnavailableError, match="ConnectionError"):
        desk.create_call({"subject": "x"})
    assert desk.stats == {"POST /calls": 3}


# ------------------------------------------------------------------ the judgement itself
def _connect_failure(reason: Exception) -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, "/api/v1/calls", reason))  # type: ignore[arg-type]


def test_which_of_requests_failures_may_resend_a_post() -> None:
    never = [
        requests.ConnectTimeout("connect timed out"),
        _connect_failure(NameResolutionError("desk.zoho.invalid", None, OSError("DNS"))),  # type: ignore[arg-type]
        _connect_failure(SSLError(ssl.SSLCertVerificationError("certificate verify failed"))),
    ]
    open_outcome = [
        requests.ReadTimeout("sent, no answer"),
        requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())),
        requests.exceptions.ChunkedEncodingError(ProtocolError("Response ended prematurely")),
        requests.ConnectionError("dropped mid-answer"),
        # A TLS error mid-answer comes the same way as one in the handshake.
        _connect_failure(SSLError(ssl.SSLError("bad record mac"))),
        _connect_failure(ProtocolError("Connection aborted.")),
    ]
    assert [may_resend("POST", exc=e) for e in never] == [True, True, True]
    assert [may_resend("POST", exc=e) for e in open_outcome] == [False] * 6
    assert all(may_resend("GET", exc=e) for e in never + open_outcome)
    assert never_sent(never[1]) and not never_sent(open_outcome[2])


# ------------------------------------------------------------------ environment
def test_a_proxy_in_the_environment_carries_the_requests_unless_no_proxy_names_the_host(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["desk.zoho.invalid"] = ok_json({"via": "proxy"})
    monkeypatch.setenv("HTTP_PROXY", server.url())
    assert desk_for("http://desk.zoho.invalid").request("GET", "/myinfo") == {"via": "proxy"}
    assert server.seen[-1].target == "http://desk.zoho.invalid/api/v1/myinfo"

    # https: a tunnel through the proxy; this one refuses it, so nothing was sent.
    def refuse_tunnel(ex: Exchange) -> bool:
        ex.answer(403)
        return False

    server.routes["desk.zoho.invalid:443"] = refuse_tunnel
    monkeypatch.setenv("HTTPS_PROXY", server.url())
    tunnelled = desk_for("https://desk.zoho.invalid", attempts=2)
    with pytest.raises(ZohoUnavailableError, match="ProxyError"):
        tunnelled.create_call({"subject": "x"})  # resent: the tunnel was never made
    assert [(e.method, e.target) for e in server.seen[-2:]] == [
        ("CONNECT", "desk.zoho.invalid:443")
    ] * 2

    server.routes["/api/v1/myinfo"] = ok_json({"via": "direct"})
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert desk_for(server.url()).request("GET", "/myinfo") == {"via": "direct"}
    assert server.seen[-1].target == "/api/v1/myinfo"


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


def test_https_checks_the_certificate_and_a_refused_one_was_never_sent(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv = Server(tls=context)
    srv.routes["/api/v1/calls"] = ok_json({"secure": True})
    try:
        url = srv.url(host="localhost")
        # certifi's bundle does not know this certificate: refused before anything is sent,
        # so even a POST is tried again.
        untrusted = desk_for(url, attempts=2)
        with pytest.raises(ZohoUnavailableError, match="SSLError"):
            untrusted.create_call({"subject": "x"})
        assert untrusted.stats == {"POST /calls": 2} and srv.seen == []
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # read from the environment
        trusted = desk_for(url)
        assert trusted.create_call({}) == {"secure": True}
        assert trusted.create_call({}) == {"secure": True}
        # The name in the certificate is localhost, not 127.0.0.1.
        with pytest.raises(ZohoUnavailableError, match="SSLError"):
            desk_for(srv.url(), attempts=1).create_call({})
        assert len(srv.seen) == 2
    finally:
        srv.close()
