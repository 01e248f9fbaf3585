"""The Ringostat Auth-key: checked with one small calls/list request before it is kept.

The key lives with the other secrets (the keyring, the opt-in 0600 file, or the
``RINGODESK_RINGOSTAT_KEY`` environment variable), never in the settings file.
Light on imports: the command layer imports this module at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ringodesk_cli.session import Session

SECRET = "ringostat_key"
# The same name as credentials.ENV_VARS["ringostat_key"] (a test holds them equal); not
# imported from there because that module loads keyring, which is slow.
ENV_VAR = "RINGODESK_RINGOSTAT_KEY"
# A check is one small request; two tries ride out a blip without making the user wait.
CHECK_ATTEMPTS = 2
WHERE = "Ringostat cabinet: Integration -> Ringostat API -> Auth-key"


def check_key(session: Session, key: str) -> None:
    """One calls/list request with ``key``; raises ``AuthError`` when Ringostat refuses it.
    Either failure names the API root it asked (``ringostat.api_url``) and how to change it:
    a project on another Ringostat API root is refused or unreachable at the default."""
    from ringodesk_cli.ringostat.api import (
        RingostatAuthError,
        RingostatClient,
        RingostatUnavailableError,
    )

    url = str(session.settings.get("ringostat.api_url"))
    client = RingostatClient(url, key, max_attempts=CHECK_ATTEMPTS, timeout=30)
    try:
        client.check_key(ZoneInfo(session.settings.get("ringostat.timezone")))
    except RingostatAuthError as exc:
        raise RingostatAuthError(
            f"{url}: {exc.message}", hint=f"{exc.hint}; {api_url_hint(session)}"
        ) from None
    except RingostatUnavailableError as exc:
        raise RingostatUnavailableError(
            f"{url}: {exc.message}", hint=api_url_hint(session)
        ) from None


def api_url_hint(session: Session) -> str:
    """Where ``ringostat.api_url`` comes from, and how to set it."""
    source = session.settings.source_of("ringostat.api_url")
    origin = "the default" if source == "default" else f"from the {source}"
    return (
        f"ringostat.api_url is {session.settings.get('ringostat.api_url')} ({origin}); if your "
        "project uses another API root, `ringodesk config set ringostat.api_url URL`, then "
        "`ringodesk ringostat login` again"
    )


def store_checked_key(session: Session, key: str) -> None:
    """Check ``key``, then keep it: a refused key is never stored."""
    check_key(session, key)
    session.credentials.set(SECRET, key)
