"""Where recordings may be downloaded from (``recordings.hosts``), and where the Ringostat
Auth-key may go.

A recording link comes from an export or a webhook, which anyone who can reach the receiver
or write the inbox can forge: a link to ``http://127.0.0.1:…`` or to a cloud metadata address
would otherwise be fetched from inside the network and uploaded to Zoho as the call's
recording. So a link is fetched only when its host is on the list:

- a domain (``ringostat.com``) allows that domain and its subdomains, over https (port 443);
- an origin (``http://127.0.0.1:9000``) allows exactly that scheme, host and port, for
  rehearsals against a local stand-in.

Hosts are compared after parsing, label by label: ``ringostat.com.evil.io``,
``files.ringostat.evil.io`` and ``https://ringostat.com@evil.io/`` are not Ringostat. A link
with user info, a backslash or a control character is refused outright: URL parsers disagree
about where such a host ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_HOSTS = ("ringostat.com", "ringostat.net")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_ORIGIN = re.compile(r"^(https?)://([^/?#@\s\\]+?)(?::([0-9]{1,5}))?/?$")


def check_entry(entry: str) -> str:
    """One ``recordings.hosts`` entry, normalised; ValueError saying why it is not one."""
    text = entry.strip().lower()
    if "://" in text:
        match = _ORIGIN.match(text)
        if not match or not _host_ok(match.group(2)):
            raise ValueError(
                f"{entry!r} is not an origin like http://127.0.0.1:9000 (scheme, host, port)"
            )
        scheme, host, port = match.groups()
        number = int(port) if port else _DEFAULT_PORTS[scheme]
        if not 1 <= number <= 65535:
            raise ValueError(f"{entry!r}: {number} is not a TCP port")
        return f"{scheme}://{host}:{number}"
    domain = text.rstrip(".")
    if not _DOMAIN.match(domain) or "." not in domain:
        raise ValueError(
            f"{entry!r} is not a domain like ringostat.com (or an origin like "
            "http://127.0.0.1:9000)"
        )
    return domain


def _host_ok(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        return re.match(r"^\[[0-9a-f:.]+\]$", host) is not None
    return _DOMAIN.match(host.rstrip(".")) is not None


@dataclass(frozen=True)
class AllowedHosts:
    """The parsed allow-list: domains (https, with subdomains) and exact origins."""

    domains: tuple[str, ...] = DEFAULT_HOSTS
    origins: tuple[str, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AllowedHosts:
        checked = [check_entry(e) for e in entries]
        return cls(
            domains=tuple(e for e in checked if "://" not in e),
            origins=tuple(e for e in checked if "://" in e),
        )

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be fetched (and given the Auth-key)."""
        origin = url_origin(url)
        if origin is None:
            return False
        scheme, host, port = origin
        if f"{scheme}://{host}:{port}" in self.origins:
            return True
        if scheme != "https" or port != 443:
            return False
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def describe(self) -> str:
        return ", ".join([*self.domains, *self.origins]) or "nothing"


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower case; None for a URL that is not one, or
    that carries user info, a backslash, white space or a control character."""
    if "\\" in url or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if "@" in parts.netloc:  # user info: `https://ringostat.com@evil.io/` goes to evil.io
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # an IPv6 address, written as origins write it
        host = f"[{host}]"
    if scheme not in _DEFAULT_PORTS or not host or not _host_ok(host):
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def host_of(url: str) -> str:
    """The host of ``url`` for a message (escaped: it comes from untrusted input)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    return (host or url[:80]).encode("unicode_escape").decode("ascii")
