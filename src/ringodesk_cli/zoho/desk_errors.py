"""Turn a Zoho Desk error answer into one of the typed errors of :mod:`ringodesk_cli.errors`.

Error body (Zoho's OpenAPI ``Common.json``): ``{"errorCode": "...", "message": "..."}``;
``INVALID_DATA`` adds ``errors[]`` of ``{fieldName, errorType, errorMessage}``;
``LICENSE_ACCESS_LIMITED`` adds ``maxAllowedEntity``, ``feature``, ``editionType``,
``isTrial``. Bodies without ``errors[]``, empty bodies and non-JSON bodies (a proxy's HTML
page) are all read without crashing.
"""

from __future__ import annotations

import json
from typing import Any

from ringodesk_cli.errors import (
    CreditsExhaustedError,
    InvalidDataError,
    LicenseLimitedError,
    NotFoundError,
    OrgMismatchError,
    RateLimitedError,
    ScopeError,
    ZohoAuthError,
    ZohoError,
    ZohoUnavailableError,
)
from ringodesk_cli.redact import redact

# errorCode values (OAS Common.json enum and the "Errors" page of Zoho's Desk API docs).
INVALID_OAUTH = "INVALID_OAUTH"
UNAUTHORIZED = "UNAUTHORIZED"
SCOPE_MISMATCH = "SCOPE_MISMATCH"
OAUTH_ORG_MISMATCH = "OAUTH_ORG_MISMATCH"
URL_NOT_FOUND = "URL_NOT_FOUND"
INVALID_DATA = "INVALID_DATA"
LICENSE_ACCESS_LIMITED = "LICENSE_ACCESS_LIMITED"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
THRESHOLD_EXCEEDED = "THRESHOLD_EXCEEDED"
FORBIDDEN = "FORBIDDEN"

# A 401 with one of these means "this access token is no good": refresh once and retry.
# SCOPE_MISMATCH / OAUTH_ORG_MISMATCH are not cured by a fresh token, so they are not here.
TOKEN_REFRESH_CODES = frozenset({INVALID_OAUTH, UNAUTHORIZED, None})


def parse_body(text: str) -> dict[str, Any]:
    """The error body as a dict; ``{}`` for an empty, non-JSON or non-object body."""
    if not text or not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def field_errors(payload: dict[str, Any]) -> list[dict[str, Any]]:
    raw = payload.get("errors")
    if not isinstance(raw, list):
        return []
    return [e for e in raw if isinstance(e, dict)]


def error_code(payload: dict[str, Any]) -> str | None:
    code = payload.get("errorCode")
    return code if isinstance(code, str) and code else None


def error_from_answer(
    method: str, path: str, status: int, text: str, *, retried_auth: bool = False
) -> ZohoError:
    """The typed error for an HTTP error answer. ``text`` is the raw body (maybe not JSON)."""
    payload = parse_body(text)
    code = error_code(payload)
    message = payload.get("message")
    if not isinstance(message, str) or not message:
        snippet = " ".join(text.split())[:200] if text and not payload else ""
        message = f"HTTP {status}" + (f" ({snippet})" if snippet else "")
    message = redact(f"{method} {path}: {message}")
    kwargs: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "errors": field_errors(payload),
        "payload": payload,
    }
    cls = _error_class(status, code)
    if cls is ZohoAuthError and retried_auth:
        message += " (again, with a freshly refreshed token)"
    if cls is ZohoError and (status == 403 or code == FORBIDDEN):
        kwargs["hint"] = "the Zoho user behind this token lacks the permission for this action"
    return cls(message, **kwargs)


def _error_class(status: int, code: str | None) -> type[ZohoError]:
    # Codes first: Zoho's errorCode is more specific than the HTTP status.
    by_code: dict[str, type[ZohoError]] = {
        SCOPE_MISMATCH: ScopeError,
        OAUTH_ORG_MISMATCH: OrgMismatchError,
        INVALID_OAUTH: ZohoAuthError,
        UNAUTHORIZED: ZohoAuthError,
        LICENSE_ACCESS_LIMITED: LicenseLimitedError,
        URL_NOT_FOUND: NotFoundError,
        INVALID_DATA: InvalidDataError,
        THRESHOLD_EXCEEDED: CreditsExhaustedError,
        TOO_MANY_REQUESTS: RateLimitedError,
    }
    if code in by_code:
        return by_code[code]
    if status == 401:
        return ZohoAuthError
    if status == 404:
        return NotFoundError
    if status == 422:
        return InvalidDataError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ZohoUnavailableError
    return ZohoError
