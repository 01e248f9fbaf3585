"""Secret redaction: every secret the process learns is registered here and scrubbed from text.

Secrets (client secret, refresh token, access tokens, the Ringostat key) must never reach a
log line, an exception message, ``--json`` output or the config file. Code that obtains a
secret calls :func:`register_secret`; code that turns anything into text for a human or a
log passes it through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()

# Zoho tokens look like "1000.<hex>.<hex>"; scrub them even when nobody registered them.
_ZOHO_TOKEN = re.compile(r"\b1000\.[0-9a-fA-F]{16,}\.[0-9a-fA-F]{16,}\b")
_QUERY_SECRET = re.compile(
    r"((?:client_secret|refresh_token|access_token|code|token)=)[^&\s\"']+", re.IGNORECASE
)
_AUTH_HEADER = re.compile(r"(Zoho-oauthtoken|Bearer)\s+[^\s\"',}]+")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`redact` hides it from now on."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def forget_all_secrets() -> None:
    """Used by tests to start from a clean registry."""
    with _lock:
        _secrets.clear()


def redact(text: object) -> str:
    out = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, MASK)
    # Each pattern needs a literal that a quick `in` finds first: long outputs (a log of
    # thousands of calls) skip the regex scans that cannot match.
    if "1000." in out:
        out = _ZOHO_TOKEN.sub(MASK, out)
    if "=" in out:
        out = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, out)
    if "Zoho-oauthtoken" in out or "Bearer" in out:
        out = _AUTH_HEADER.sub(lambda m: m.group(1) + " " + MASK, out)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the fully formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            del exc
        return True
