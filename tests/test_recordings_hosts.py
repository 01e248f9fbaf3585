"""``recordings.hosts``: which recording links are fetched, which redirects are followed and
where the Ringostat Auth-key may go. Links come from exports and webhooks, which anyone can
forge: loopback, link-local and metadata addresses, look-alike hosts and user-info tricks are
never requested (requests-mock answers nothing it was not told to, and records every request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests_mock as rm

from ringodesk_cli.config.hosts import AllowedHosts, check_entry
from ringodesk_cli.ringostat.recordings import RecordingFetcher

KEY = "rs-key-SECRET-7731"
API = "https://api.ringostat.net"
DEFAULT = AllowedHosts()
REHEARSAL = AllowedHosts.of(["ringostat.com", "http://127.0.0.1:9000"])


def fetcher(tmp_path: Path, hosts: AllowedHosts = DEFAULT, **kw: Any) -> RecordingFetcher:
    return RecordingFetcher(
        max_bytes=1000, key=KEY, api_url=API, folder=tmp_path, hosts=hosts, **kw
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://ringostat.com/rec/1.mp3",
        "https://files.ringostat.com/rec/1.mp3",
        "https://a.b.ringostat.net/rec/1.mp3",
        "https://RINGOSTAT.COM/rec/1.mp3",
        "https://ringostat.com:443/rec/1.mp3",
        "https://ringostat.com./rec/1.mp3",
        "https://ringostat.com/rec/1.mp3?user=a@b",  # an @ in the query is no user info
    ],
)
def test_ringostat_domains_and_their_subdomains_over_https_are_allowed(url: str) -> None:
    assert DEFAULT.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://ringostat.com/rec/1.mp3",  # http: only an origin listed as such
        "https://ringostat.com:8443/rec/1.mp3",  # https on another port
        "http://127.0.0.1:9000/rec/1.mp3",  # loopback
        "http://localhost/rec/1.mp3",
        "https://127.0.0.1/rec/1.mp3",
        "http://[::1]:9000/rec/1.mp3",
        "http://169.254.10.20/rec/1.mp3",  # link-local
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "https://ringostat.com.evil.io/rec/1.mp3",  # look-alikes
        "https://files.ringostat.evil.io/rec/1.mp3",
        "https://ringostat.attacker.example/rec/1.mp3",
        "https://evilringostat.com/rec/1.mp3",
        "https://ringostat.com@evil.io/rec/1.mp3",  # user info: the host is evil.io
        "https://user:pass@ringostat.com/rec/1.mp3",
        "https://evil.io\\@ringostat.com/rec/1.mp3",  # parsers disagree: refused
        "https://evil.io\\.ringostat.com/rec/1.mp3",
        "https://ringostat.com%2eevil.io/rec/1.mp3",
        "https://ringostat.com\t.evil.io/",
        "ftp://ringostat.com/rec/1.mp3",
        "file:///etc/passwd",
        "//ringostat.com/rec/1.mp3",
        "https:///rec/1.mp3",
        "https://ringostat.com:99999/rec/1.mp3",
        "not a url",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    assert not DEFAULT.allows(url)
    assert not REHEARSAL.allows(url) or url.startswith("http://127.0.0.1:9000/")


def test_an_origin_allows_exactly_that_scheme_host_and_port() -> None:
    assert REHEARSAL.allows("http://127.0.0.1:9000/rec/1.mp3")
    assert not REHEARSAL.allows("http://127.0.0.1:9001/rec/1.mp3")
    assert not REHEARSAL.allows("https://127.0.0.1:9000/rec/1.mp3")
    assert not REHEARSAL.allows("http://127.0.0.2:9000/rec/1.mp3")
    assert not REHEARSAL.allows("http://sub.127.0.0.1:9000/rec/1.mp3")
    assert not REHEARSAL.allows("https://ringostat.net/rec/1.mp3")  # not listed any more


@pytest.mark.parametrize(
    ("entry", "stored"),
    [
        ("ringostat.com", "ringostat.com"),
        (" Ringostat.COM. ", "ringostat.com"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        ("https://rec.example.org", "https://rec.example.org:443"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_entries_are_normalised(entry: str, stored: str) -> None:
    assert check_entry(entry) == stored


@pytest.mark.parametrize(
    "entry",
    ["", "com", "*.ringostat.com", "ringostat.com/rec", "ftp://ringostat.com",
     "http://user@127.0.0.1:9000", "http://127.0.0.1:9000/rec", "http://127.0.0.1:0",
     "http://127.0.0.1:70000", "ринг.укр"],
)  # fmt: skip
def test_bad_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        check_entry(entry)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/rec/1.mp3",
        "http://169.254.169.254/latest/meta-data/iam/",
        "https://ringostat.com.evil.io/rec/1.mp3",
        "https://ringostat.com@evil.io/rec/1.mp3",
    ],
)
def test_a_link_off_the_list_is_never_requested(
    requests_mock: rm.Mocker, tmp_path: Path, url: str
) -> None:
    got = fetcher(tmp_path).download(url)
    assert (got.ok, got.reason) == (False, "not-allowed")
    assert "is not in recordings.hosts" in got.detail
    assert requests_mock.request_history == []


def test_a_redirect_off_the_list_is_refused_and_not_followed(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    start = "https://files.ringostat.com/rec/1.mp3"
    requests_mock.get(start, status_code=302, headers={"Location": "http://169.254.169.254/x"})
    requests_mock.get("http://169.254.169.254/x", content=b"secret")
    got = fetcher(tmp_path).download(start)
    assert (got.ok, got.reason) == (False, "not-allowed")
    assert got.detail == "not fetched: a redirect to 169.254.169.254 is not in recordings.hosts"
    assert [r.url for r in requests_mock.request_history] == [start]


def test_a_redirect_within_the_list_is_followed_without_the_key(
    requests_mock: rm.Mocker, tmp_path: Path
) -> None:
    start = "https://ringostat.com/rec/1.mp3"
    target = "https://cdn.ringostat.net/r/1.mp3"

    def first(request: Any, context: Any) -> bytes:
        if request.headers.get("Auth-key") != KEY:
            context.status_code = 401
            return b""
        context.status_code = 302
        context.headers["Location"] = target
        return b""

    requests_mock.get(start, content=first)
    requests_mock.get(target, content=b"R" * 100)
    got = fetcher(tmp_path).download(start)
    assert got.ok and got.size == 100
    sent = [(r.url, r.headers.get("Auth-key")) for r in requests_mock.request_history]
    assert sent == [(start, None), (start, KEY), (target, None)]
    got.discard()


def test_endless_redirects_end(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    loop = "https://ringostat.com/rec/1.mp3"
    requests_mock.get(loop, status_code=301, headers={"Location": loop})
    got = fetcher(tmp_path).download(loop)
    assert (got.reason, got.detail) == ("error", "more than 5 redirects")
    assert len(requests_mock.request_history) == 6


@pytest.mark.parametrize(
    ("url", "hosts", "keyed"),
    [
        ("https://files.ringostat.com/r.mp3", DEFAULT, True),
        ("https://api.ringostat.net/r.mp3", AllowedHosts.of([]), True),  # the API's origin
        ("http://api.ringostat.net/r.mp3", AllowedHosts.of([]), False),  # but not over http
        ("http://127.0.0.1:9000/r.mp3", REHEARSAL, True),  # an origin listed as such
    ],
)
def test_the_key_goes_only_to_listed_hosts_and_the_api_origin(
    requests_mock: rm.Mocker, tmp_path: Path, url: str, hosts: AllowedHosts, keyed: bool
) -> None:
    requests_mock.get(url, status_code=403)
    got = fetcher(tmp_path, hosts).download(url)
    sent = [r.headers.get("Auth-key") for r in requests_mock.request_history]
    assert sent == ([None, KEY] if keyed else [])
    assert got.reason == ("denied" if keyed else "not-allowed")
