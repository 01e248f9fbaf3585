"""Zoho data centers: which Accounts server and which Desk host serve each region.

Sources: Zoho's OAuth page ``multi-dc.html`` (ACC) and
``https://accounts.zoho.com/oauth/serverinfo`` for the Accounts hosts; Zoho's Desk API
documentation and third-party clients for the Desk hosts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ringodesk_cli.errors import ConfigError


@dataclass(frozen=True)
class DataCenter:
    """One Zoho data center. ``location`` is the value Zoho puts in the redirect's
    ``location`` parameter and in the device flow's ``user_location``."""

    code: str
    location: str
    accounts_url: str
    desk_url: str | None


# Keys are the values of the `zoho.region` setting / `--region`.
DATA_CENTERS: dict[str, DataCenter] = {
    dc.code: dc
    for dc in (
        DataCenter("com", "us", "https://accounts.zoho.com", "https://desk.zoho.com"),
        DataCenter("eu", "eu", "https://accounts.zoho.eu", "https://desk.zoho.eu"),
        DataCenter("in", "in", "https://accounts.zoho.in", "https://desk.zoho.in"),
        DataCenter("com.au", "au", "https://accounts.zoho.com.au", "https://desk.zoho.com.au"),
        DataCenter("jp", "jp", "https://accounts.zoho.jp", "https://desk.zoho.jp"),
        # Canada lives on zohocloud.ca: there is no accounts.zoho.ca (ACC multi-dc.html).
        # The Desk host comes from third-party code only (docs/zoho-readings.md).
        DataCenter("ca", "ca", "https://accounts.zohocloud.ca", "https://desk.zohocloud.ca"),
        # SA Desk host: third-party code only (docs/zoho-readings.md).
        DataCenter("sa", "sa", "https://accounts.zoho.sa", "https://desk.zoho.sa"),
        # UK: the Accounts host is documented, the Desk host is not.
        # We do not guess it: the user must pass --desk-url.
        DataCenter("uk", "uk", "https://accounts.zoho.uk", None),
        DataCenter("com.cn", "cn", "https://accounts.zoho.com.cn", "https://desk.zoho.com.cn"),
    )
}

# Zoho's suggested scope set for Desk integrations. POST /fields needs Desk.settings.CREATE (or
# Desk.fields.CREATE), which Desk.settings.ALL covers; GET /agents and /organizations are
# covered by Desk.basic.READ; contact search needs Desk.search.READ + Desk.contacts.*. A call's
# attachments (the recordings) accept Desk.tasks.UPDATE (OAS CallAttachment.json), which
# Desk.tasks.ALL covers. Only scopes of Zoho's scope list (OAS Common.json) and their .ALL
# forms are asked for (zoho/scopes.py, docs/zoho-readings.md).
DESK_SCOPES = (
    "Desk.basic.READ,Desk.settings.ALL,Desk.tickets.ALL,Desk.contacts.ALL,"
    "Desk.calls.ALL,Desk.tasks.ALL,Desk.search.READ"
)

_API_SUFFIX = "/api/v1"


def _origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, for comparing servers."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _clean_url(url: str, what: str) -> str:
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{what} {url!r} is not an http(s) URL")
    return text


def resolve_urls(region: str, accounts_url: str | None, desk_url: str | None) -> tuple[str, str]:
    """The Accounts URL and Desk host root for ``region``; explicit URLs win.

    Explicit URLs let any Zoho-compatible server (the sandbox on loopback) stand in. The Desk
    URL is the host root; a trailing ``/api/v1`` typed by the user is tolerated and removed,
    because the Desk client adds it.
    """
    dc = DATA_CENTERS.get(region)
    if dc is None and not (accounts_url and desk_url):
        raise ConfigError(
            f"unknown Zoho data center {region!r}",
            key="zoho.region",
            hint="choose one of " + ", ".join(DATA_CENTERS),
        )
    accounts = _clean_url(accounts_url, "accounts URL") if accounts_url else None
    desk = _clean_url(desk_url, "Desk URL") if desk_url else None
    if desk and desk.endswith(_API_SUFFIX):
        desk = desk[: -len(_API_SUFFIX)]
    if accounts is None:
        assert dc is not None
        accounts = dc.accounts_url
    if desk is None:
        assert dc is not None
        if dc.desk_url is None:
            raise ConfigError(
                f"the Zoho Desk host of data center {region!r} is not documented",
                key="zoho.desk_url",
                hint="pass --desk-url with the host shown in your browser when you open "
                "Zoho Desk (e.g. https://desk.zoho.<domain>), or set RINGODESK_DESK_URL",
            )
        desk = dc.desk_url
    return accounts, desk


def data_center_for(accounts_server: str | None, location: str | None) -> DataCenter | None:
    """The data center named by a redirect's ``accounts-server`` or ``location``.

    ``accounts-server`` is the more precise of the two (it is the URL Zoho wants the token
    calls sent to, ACC multi-dc/client-authorization.html), so it wins when both are known.
    """
    if accounts_server:
        origin = _origin(accounts_server)
        for dc in DATA_CENTERS.values():
            if _origin(dc.accounts_url) == origin:
                return dc
    if location:
        wanted = location.strip().lower()
        for dc in DATA_CENTERS.values():
            if dc.location == wanted:
                return dc
    return None


def desk_url_for_accounts_server(accounts_server: str | None, location: str | None) -> str | None:
    """The Desk host root of the data center Zoho sent the user to, or None when unknown.

    Never derived from the token answer's ``api_domain``: www.zohoapis.<tld> does not serve
    Desk paths. None means "keep the configured Desk URL" (a loopback
    stand-in) or, for UK, "ask the user" (its Desk host is undocumented).
    """
    dc = data_center_for(accounts_server, location)
    return dc.desk_url if dc else None


def is_zoho_accounts_server(url: str) -> bool:
    """True when ``url`` is one of Zoho's documented Accounts servers."""
    origin = _origin(url)
    return any(_origin(dc.accounts_url) == origin for dc in DATA_CENTERS.values())
