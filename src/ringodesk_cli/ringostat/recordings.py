"""Downloading one call recording from Ringostat: streamed into a bounded temporary file,
never whole in memory.

A recording link may work without credentials, may need the project's ``Auth-key`` header,
may not exist yet (Ringostat finishes recordings after the call) or may be gone (retention).
``download`` tries without the key first, then with it, and reports what happened as a
``Download``: a file, or a reason (``missing``, ``denied``, ``timeout``, ``error``,
``too-large``). It never raises for an answer of the server.

Only links on ``recordings.hosts`` are fetched (``config/hosts.py``; the origin of
``ringostat.api_url`` too), and only redirects that stay on it are followed: anything else is
``not-allowed``, never requested. The key goes only to those hosts and never through a
redirect: a redirect answered to the keyed request is followed without the key.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

from ringodesk_cli.config.hosts import AllowedHosts, host_of, url_origin
from ringodesk_cli.redact import redact, register_secret

__all__ = ["CHUNK", "Download", "RecordingFetcher"]

log = logging.getLogger("ringodesk.recordings")

CHUNK = 64 * 1024
MB = 1024 * 1024
PART_PREFIX, PART_SUFFIX = "rs-recording-", ".part"
PART_GLOB = f"{PART_PREFIX}*{PART_SUFFIX}"  # the temporary files, for a clean-up

# Why a recording was not downloaded. The first three may change on a later run.
MISSING = "missing"  # 404 / 410: not there (yet, or any more)
DENIED = "denied"  # 401 / 403, with the key too
TIMEOUT = "timeout"
ERROR = "error"  # a connection failure or another answer (5xx...)
TOO_LARGE = "too-large"
NOT_ALLOWED = "not-allowed"  # the link or a redirect leaves recordings.hosts: not fetched
MAX_REDIRECTS = 5
RETRYABLE = frozenset({MISSING, DENIED, TIMEOUT, ERROR})


@dataclass
class Download:
    """A recording in a temporary file (``path``, ``size``), or why there is none
    (``reason`` and a line for people, ``detail``). The caller deletes ``path``."""

    path: Path | None = None
    size: int = 0
    reason: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.path is not None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class _TooLarge(Exception):
    pass


@dataclass
class RecordingFetcher:
    """Downloads recordings for one run. ``key``: the project's Auth-key (None: never sent);
    ``api_url``: Ringostat's API root (its host may receive the key); ``timeout``: seconds
    for the connection and between two pieces of the answer; ``deadline``: seconds for a whole
    download; ``folder``: where the temporary files go; ``hosts``: ``recordings.hosts``."""

    max_bytes: int
    key: str | None = None
    api_url: str | None = None
    hosts: AllowedHosts = field(default_factory=AllowedHosts)
    timeout: float = 20.0
    deadline: float = 300.0
    folder: Path | None = None
    session: requests.Session | None = None
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if self.session is None:
            from ringodesk_cli.http_retry import new_session

            self.session = new_session(pool_maxsize=32)
        if self.key:
            register_secret(self.key)

    def download(self, url: str) -> Download:
        if not self.allowed(url):
            return _not_allowed(url, "the link's host")
        first = self._fetch(url, keyed=False)
        if first.reason != DENIED or not self.key:
            return first
        return self._fetch(url, keyed=True)

    def allowed(self, url: str) -> bool:
        """Whether ``url`` may be fetched, and given the key: on ``recordings.hosts``, or on
        the origin of ``ringostat.api_url`` (the API the key is for)."""
        if self.hosts.allows(url):
            return True
        origin = url_origin(url)
        return origin is not None and origin == url_origin(self.api_url or "")

    def _fetch(self, url: str, *, keyed: bool) -> Download:
        headers = {"Auth-key": str(self.key)} if keyed else {}
        try:
            answer = self._get(url, headers)
            if isinstance(answer, Download):
                return answer
            resp = answer
        except requests.Timeout:
            return Download(reason=TIMEOUT, detail="no answer in time")
        except requests.RequestException as exc:
            return Download(reason=ERROR, detail=redact(f"not reachable ({type(exc).__name__})"))
        with resp:
            status = resp.status_code
            if status in (401, 403):
                return Download(reason=DENIED, detail=f"HTTP {status}")
            if status in (404, 410):
                return Download(reason=MISSING, detail=f"HTTP {status}")
            if status != 200:
                return Download(reason=ERROR, detail=f"HTTP {status}")
            declared = _content_length(resp)
            if declared is not None and declared > self.max_bytes:
                return _too_large(declared, self.max_bytes)
            return self._save(resp)

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response | Download:
        """The answer, redirects followed by hand: each target checked against the list,
        and the key never sent after the first hop."""
        assert self.session is not None
        for _ in range(MAX_REDIRECTS + 1):
            resp = self.session.get(
                url, headers=headers, stream=True, timeout=self.timeout, allow_redirects=False
            )
            if not resp.is_redirect:
                return resp
            target = urljoin(url, resp.headers.get("Location", ""))
            resp.close()
            if not self.allowed(target):
                return _not_allowed(target, "a redirect to")
            url, headers = target, {}
        return Download(reason=ERROR, detail=f"more than {MAX_REDIRECTS} redirects")

    def _save(self, resp: requests.Response) -> Download:
        started = self.clock()
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the upload
            prefix=PART_PREFIX, suffix=PART_SUFFIX, dir=self.folder, delete=False
        )
        path = Path(handle.name)
        size = 0
        try:
            with handle:
                for chunk in resp.iter_content(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _TooLarge
                    handle.write(chunk)
                    if self.clock() - started > self.deadline:
                        raise requests.Timeout("the download took too long")
        except _TooLarge:
            path.unlink(missing_ok=True)
            return _too_large(size, self.max_bytes, counted=True)
        except requests.Timeout:
            path.unlink(missing_ok=True)
            return Download(reason=TIMEOUT, detail="the download stalled or took too long")
        except (requests.RequestException, OSError) as exc:
            path.unlink(missing_ok=True)
            return Download(
                reason=ERROR, detail=redact(f"download broke off ({type(exc).__name__})")
            )
        return Download(path=path, size=size)


def _content_length(resp: requests.Response) -> int | None:
    try:
        value = int(resp.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _not_allowed(url: str, what: str) -> Download:
    return Download(
        reason=NOT_ALLOWED,
        detail=f"not fetched: {what} {host_of(url)} is not in recordings.hosts",
    )


def _too_large(size: int, limit: int, *, counted: bool = False) -> Download:
    more = "more than " if counted else ""
    return Download(
        reason=TOO_LARGE,
        detail=f"{more}{size / MB:.1f} MB, over the limit of {limit / MB:.0f} MB",
    )
