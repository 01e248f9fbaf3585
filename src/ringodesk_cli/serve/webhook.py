"""One webhook request body -> one ``CallRecord``, or the reason it is not a call.

Ringostat's Webhooks 2.0 send the parameters the user picked, named as calls/list names
them, as a JSON object or form-encoded. ``[serve.params]`` renames other names (a webhook
parameter -> the calls/list field it stands for). The record is built by the same function
as a calls/list row (``records.record_from_fields``), so a call from a webhook, an export
and the API is one record with one content hash when the same fields are sent.

A "before" event is sent while the call still rings: it carries no final status, so it is
read as IN PROGRESS (stored, not delivered) whatever ``disposition`` says, and its time
defaults to the moment it arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from ringodesk_cli.ringostat.records import CallRecord, RowError, record_from_fields

MAX_BODY = 64 * 1024
EVENTS = ("before", "after")
SOURCE = "ringostat-webhook"
_IN_PROGRESS = "IN PROGRESS"


class NotACall(ValueError):
    """The body is not a call: answered 422 with this reason, nothing stored."""


def read_params(body: bytes, content_type: str) -> dict[str, str]:
    """The body's parameters: a JSON object, or form-encoded pairs (the last value of a
    repeated name wins). Values are text; numbers are written as text."""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotACall("the body is not UTF-8 text") from None
    if kind.endswith("json") or (kind != "application/x-www-form-urlencoded" and _looks_json(text)):
        return _json_params(text)
    pairs = parse_qsl(text, keep_blank_values=True)
    if not pairs:
        raise NotACall("the body has no parameters (expected JSON or form-encoded)")
    return dict(pairs)


def _looks_json(text: str) -> bool:
    return text.lstrip().startswith(("{", "["))


def _json_params(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotACall(f"the body is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise NotACall(f"the body is a JSON {type(data).__name__}, not an object")
    return {str(k): _text(str(k), v) for k, v in data.items()}


def _text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    raise NotACall(f"{name}: expected text or a number, got a JSON {type(value).__name__}")


def renamed(params: Mapping[str, str], renames: Mapping[str, str]) -> dict[str, str]:
    """``[serve.params]`` applied: a renamed parameter wins over one sent under the
    calls/list name itself."""
    out = {k: v for k, v in params.items() if k not in renames}
    for sent, name in renames.items():
        if sent in params:
            out[name] = params[sent]
    return out


def to_record(
    params: Mapping[str, str],
    *,
    event: str,
    timezone: ZoneInfo,
    default_region: str,
    received: datetime,
) -> CallRecord:
    """The call the parameters describe; NotACall with the reason otherwise."""
    if event not in EVENTS:
        raise NotACall(f"event must be one of {', '.join(EVENTS)}, not {event!r}")
    fields = dict(params)
    if event == "before":
        fields["disposition"] = _IN_PROGRESS
        if not str(fields.get("calldate") or "").strip():
            fields["calldate"] = received.astimezone(timezone).strftime("%Y-%m-%d %H:%M:%S")
    try:
        return record_from_fields(
            fields,
            source=f"{SOURCE}:{event}",
            line=0,
            timezone=timezone,
            default_region=default_region,
            now=received,
        )
    except RowError as exc:
        raise NotACall(str(exc)) from None
