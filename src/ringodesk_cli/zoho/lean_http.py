"""A lean HTTP/1.1 client for the Desk transport: persistent keep-alive connections over plain
sockets (TLS through ``ssl``), no per-request machinery beyond writing the request and
reading the answer.

Why: ``requests`` and urllib3 spend about 0.7 ms of CPU on one small JSON request (header
validation, connection checks, ``http.client``'s header parsing through the ``email``
package); this client spends about 0.1 ms, and a sync sends tens of thousands of requests.

What it does, and what it leaves to ``requests`` (the Desk transport falls back to it):

* HTTP/1.1 with ``Content-Length`` or chunked answers, ``Connection: close``, answers without
  a body (HEAD, 1xx, 204, 304), ``gzip``/``deflate`` content encodings.
* One pool of idle connections per scheme, host and port, shared by all threads; a
  connection goes back to the pool only after its answer was read whole. Before reuse, an
  idle connection the server has closed (or that has unexpected bytes waiting) is dropped.
* https with ``ssl.create_default_context`` over the CA bundle ``requests`` would use
  (certifi's, or ``REQUESTS_CA_BUNDLE``), the host name checked.
* Errors are the exception types ``requests`` raises, so the retry policy reads them the same
  way: a connection that could not be made (refused, DNS, TLS handshake) is
  :class:`~ringodesk_cli.http_retry.NeverSentError`, a connect timeout
  ``requests.ConnectTimeout`` (both: the request never left); a failure once the request was
  being written is ``requests.ConnectionError`` and a read timeout ``requests.ReadTimeout``
  (the outcome is open: a POST is not resent blindly).
* Not handled here: proxies (the transport uses ``requests`` when the environment names one),
  redirects (a 3xx is handed back; the transport re-sends it through ``requests``, which
  follows it), bodies that are not bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import ssl
import threading
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from ringodesk_cli.http_retry import NeverSentError

__all__ = ["ENABLED", "LeanHttp", "LeanResponse", "for_verify"]

# The Desk transport's default when no ``requests.Session`` is handed to it. Tests that mock
# HTTP at the ``requests`` level (requests-mock) turn it off: a socket would bypass the mock.
ENABLED = True

_MAX_LINE = 65536
_MAX_HEADERS = 200
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What this client can decode; the request's own Accept-Encoding is replaced with it.
_ACCEPT_ENCODING = "gzip, deflate"


class Headers(dict[str, str]):
    """Answer headers, keys lower-cased; look-ups ignore case. A repeated header's values
    are joined with ", "."""

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())


class LeanResponse:
    """The parts of ``requests.Response`` the Desk transport reads."""

    __slots__ = ("content", "headers", "reason", "status_code", "url")

    def __init__(
        self, status_code: int, reason: str, headers: Headers, content: bytes, url: str
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def is_redirect(self) -> bool:
        return self.status_code in _REDIRECTS and "location" in self.headers


class _Connection:
    __slots__ = ("rfile", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def close(self) -> None:
        for thing in (self.rfile, self.sock):
            with contextlib.suppress(OSError):
                thing.close()

    def dropped(self) -> bool:
        """True when the server closed this idle connection, or sent bytes nobody asked for
        (either way it cannot carry the next request)."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))


_Key = tuple[str, str, int]


class LeanHttp:
    """Thread-safe; one instance per Desk client. ``ca_file``/``ca_path``: the CA bundle for
    https (certifi's when neither is given)."""

    def __init__(
        self, *, ca_file: str | None = None, ca_path: str | None = None, max_idle: int = 64
    ) -> None:
        self._ca_file = ca_file
        self._ca_path = ca_path
        self._max_idle = max_idle
        self._idle: dict[_Key, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self.verify = True
        self.connections_opened = 0

    # ---------------------------------------------------------------- public
    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> LeanResponse:
        """One request, one answer read whole. Raises the exception types ``requests``
        would raise (see the module's docstring)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(scheme, 80)
        key = (scheme, host, port)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        netloc = parts.netloc.rpartition("@")[2]
        head = _request_head(method, target, netloc, headers, body)
        payload = head + body if body else head
        conn = self._checkout(key)
        if conn is None:
            conn = self._connect(scheme, host, port, timeout, url)
        elif conn.sock.gettimeout() != timeout:
            conn.sock.settimeout(timeout)  # a system call: only when it changes
        try:
            conn.sock.sendall(payload)
            status, reason, answer_headers, content, keep = _read_answer(conn.rfile, method)
        except TimeoutError:
            conn.close()
            raise requests.ReadTimeout(f"read timed out ({timeout} s): {method} {url}") from None
        except (OSError, ValueError, zlib.error) as exc:
            conn.close()
            raise requests.ConnectionError(
                f"connection broken: {type(exc).__name__}: {exc}"
            ) from None
        if keep:
            self._checkin(key, conn)
        else:
            conn.close()
        return LeanResponse(status, reason, answer_headers, content, url)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # ------------------------------------------------------------ the pool
    def _checkout(self, key: _Key) -> _Connection | None:
        while True:
            with self._lock:
                conns = self._idle.get(key)
                if not conns:
                    return None
                conn = conns.pop()
            if not conn.dropped():
                return conn
            conn.close()

    def _checkin(self, key: _Key, conn: _Connection) -> None:
        with self._lock:
            conns = self._idle.setdefault(key, [])
            if len(conns) < self._max_idle:
                conns.append(conn)
                return
        conn.close()

    def _connect(self, scheme: str, host: str, port: int, timeout: float, url: str) -> _Connection:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise requests.ConnectTimeout(f"connect timed out ({timeout} s): {url}") from None
        except OSError as exc:
            raise NeverSentError(f"could not connect: {type(exc).__name__}: {exc}") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            sock.close()
            raise requests.ConnectTimeout(f"TLS handshake timed out ({timeout} s): {url}") from None
        except (OSError, ssl.CertificateError) as exc:
            sock.close()
            raise NeverSentError(f"TLS failed: {type(exc).__name__}: {exc}") from None
        with self._lock:
            self.connections_opened += 1
        return _Connection(sock)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            ca_file, ca_path = self._ca_file, self._ca_path
            if ca_file is None and ca_path is None:
                import certifi

                ca_file = certifi.where()
            context = ssl.create_default_context(cafile=ca_file, capath=ca_path)
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls


def _request_head(
    method: str, target: str, netloc: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}"]
    for name, value in headers.items():
        lower = name.lower()
        if lower in ("host", "content-length", "accept-encoding", "transfer-encoding"):
            continue
        lines.append(f"{name}: {value}")
    lines.append(f"Accept-Encoding: {_ACCEPT_ENCODING}")
    if body is not None or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body) if body else 0}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1")


def _read_answer(rfile: Any, method: str) -> tuple[int, str, Headers, bytes, bool]:
    """Status, reason, headers, body (decoded) and whether the connection may be reused."""
    while True:
        line = rfile.readline(_MAX_LINE + 1)
        if not line:
            raise ConnectionError("the server closed the connection without answering")
        version, status, reason = _status_line(line)
        headers = _read_headers(rfile)
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer (100 Continue and the like): the real one follows
        break
    connection = (headers.get("connection") or "").lower()
    keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or status < 200:
        body = b""
    elif "chunked" in (headers.get("transfer-encoding") or "").lower():
        body = _read_chunked(rfile)
    elif (length := headers.get("content-length")) is not None:
        size = int(length.split(",")[0].strip())
        body = rfile.read(size) if size else b""
        if len(body) < size:
            raise ConnectionError(f"answer cut short: {len(body)} of {size} bytes")
    else:
        body = rfile.read()  # delimited by the end of the connection
        keep = False
    coding = (headers.get("content-encoding") or "").lower().strip()
    if body and coding in ("gzip", "x-gzip"):
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    elif body and coding == "deflate":
        try:
            body = zlib.decompress(body)
        except zlib.error:
            body = zlib.decompress(body, -zlib.MAX_WBITS)
    return status, reason, headers, body, keep


def _status_line(line: bytes) -> tuple[str, int, str]:
    if len(line) > _MAX_LINE:
        raise ValueError("status line too long")
    parts = line.decode("latin-1").rstrip("\r\n").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""


def _read_headers(rfile: Any) -> Headers:
    headers = Headers()
    for _ in range(_MAX_HEADERS):
        line = rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise ValueError("header line too long")
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ConnectionError("the connection closed inside the headers")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        old = dict.get(headers, name)
        dict.__setitem__(headers, name, value if old is None else f"{old}, {value}")
    raise ValueError("too many headers")


def _read_chunked(rfile: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        line = rfile.readline(_MAX_LINE + 1)
        if not line:
            raise ConnectionError("the connection closed inside a chunked answer")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise ConnectionError("chunk cut short")
        chunks.append(chunk)
        rfile.readline(_MAX_LINE + 1)  # the CRLF after the chunk
    while True:  # trailers, up to the empty line
        line = rfile.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n", b""):
            break
    return b"".join(chunks)


def for_verify(verify: Any) -> LeanHttp:
    """A client checking certificates as requests would with its ``verify`` setting from the
    environment: True (certifi's bundle) or a CA bundle file or folder. ``verify`` False is
    never read from the environment; it is honoured anyway (no check)."""
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return LeanHttp(ca_path=verify)
        return LeanHttp(ca_file=verify)
    client = LeanHttp()
    if verify is False:
        client.verify = False
    return client
