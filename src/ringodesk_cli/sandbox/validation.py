"""Request validation: bodies against the compact schemas in ``schemas/`` (hand-written from
Zoho's OpenAPI, see each file's ``source``), query parameters against the OAS limits."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ringodesk_cli.sandbox.replies import ApiError, field_error, invalid_data, invalid_param

MODULE_SCHEMAS = ("calls", "tasks", "tickets", "contacts", "fields")


@cache
def schema_document(name: str) -> dict[str, Any]:
    text = resources.files("ringodesk_cli.sandbox").joinpath(f"schemas/{name}.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def validator(name: str, action: str) -> Draft202012Validator:
    return Draft202012Validator(schema_document(name)[action])


def _pointer(error: ValidationError) -> str:
    return "/" + "/".join(str(p) for p in error.absolute_path) if error.absolute_path else ""


def _to_zoho(error: ValidationError) -> list[dict[str, str]]:
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        base = _pointer(error)
        return [field_error(f"{base}/{m}", "missing", error.message) for m in missing]
    if error.validator == "additionalProperties":
        extras = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        base = _pointer(error)
        return [field_error(f"{base}/{x}", "invalid", "Unknown key") for x in extras]
    if error.validator in ("allOf", "anyOf", "oneOf", "if", "then") and error.context:
        out: list[dict[str, str]] = []
        for sub in error.context:
            out.extend(_to_zoho(sub))
        return out
    pointer = _pointer(error) or "/"
    if error.validator == "pattern" and pointer.endswith(("Time", "Date")):
        message = "Expected an ISO 8601 UTC time ending in Z, e.g. 2024-01-01T10:00:00.000Z"
        return [field_error(pointer, "invalid", message)]
    return [field_error(pointer, "invalid", error.message)]


def schema_errors(name: str, action: str, body: Any) -> list[dict[str, str]]:
    """Zoho-shaped ``errors[]`` entries for ``body``; empty when it is valid."""
    errors: list[dict[str, str]] = []
    for err in sorted(validator(name, action).iter_errors(body), key=lambda e: list(e.path)):
        errors.extend(_to_zoho(err))
    seen: set[tuple[str, str]] = set()
    unique = []
    for e in errors:
        key = (e["fieldName"], e["errorType"])
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


def validate_body(name: str, action: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_data([field_error("/", "invalid", "A JSON object is expected")])
    errors = schema_errors(name, action, body)
    if action == "create":
        # A required key sent as null or "" is as missing as an absent one.
        required = schema_document(name)["create"].get("required", [])
        for key in required:
            if key in body and body[key] in (None, ""):
                errors.append(field_error(f"/{key}", "missing", f"'{key}' must have a value"))
    if errors:
        raise invalid_data(errors)
    # Times are also checked as real dates (the pattern allows 2024-02-31).
    for key, value in body.items():
        if key in ("startTime", "dueDate") and isinstance(value, str):
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise invalid_data([field_error(f"/{key}", "invalid", str(exc))]) from exc
    return body


# ---- query parameters ---------------------------------------------------------------------

_DIGITS = re.compile(r"^[0-9]+$")


def single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def int_param(
    params: dict[str, list[str]], name: str, *, minimum: int, maximum: int | None, default: int
) -> int:
    raw = single(params, name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.match(raw):
        raise invalid_param(name)
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise invalid_param(name)
    return value


def id_param(params: dict[str, list[str]], name: str) -> str | None:
    raw = single(params, name)
    if raw is None:
        return None
    if not _DIGITS.match(raw):
        raise invalid_param(name)
    return raw


def enum_param(params: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> str | None:
    raw = single(params, name)
    if raw is None:
        return None
    if raw not in allowed:
        raise invalid_param(name)
    return raw


def paging(params: dict[str, list[str]], max_limit: int) -> tuple[int, int]:
    """(offset, limit). ``from`` is 1-based here: Zoho's sources conflict (docs/zoho-readings.md);
    we pick 1 and treat 0 like 1, which the OAS allows (agents: "minimum 0"). A client that
    pages from 0 by ``limit`` therefore sees one record twice, as it may at Zoho: it must
    de-duplicate by id."""
    start = int_param(params, "from", minimum=0, maximum=None, default=1)
    limit = int_param(params, "limit", minimum=1, maximum=max_limit, default=10)
    return max(start, 1) - 1, limit


def require_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise ApiError(422, "EMPTY_PAYLOAD", "The payload is empty.")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "BAD_REQUEST", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise invalid_data([field_error("/", "invalid", "A JSON object is expected")])
    return body
