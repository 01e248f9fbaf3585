"""What a handler answers: a reply, or an :class:`ApiError` in Zoho's error shape.

Error bodies follow Common.json (`errorJson`, `errorDetailArr`): ``{"errorCode", "message"}``
plus ``errors[]`` of ``{"fieldName" (JSON Pointer), "errorType", "errorMessage"}`` for
INVALID_DATA."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable; None means an empty body
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (the consent page)
    content_type: str = "application/json;charset=UTF-8"


def json_reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, body)


def list_reply(items: list[dict[str, Any]]) -> Reply:
    # Lists and searches answer 204 with no body when empty (Zoho's OpenAPI responses).
    return Reply(200, {"data": items}) if items else Reply(204)


def redirect(location: str) -> Reply:
    return Reply(302, headers={"Location": location})


def html(text: str, status: int = 200) -> Reply:
    return Reply(status, raw=text.encode("utf-8"), content_type="text/html;charset=UTF-8")


def field_error(pointer: str, error_type: str, message: str) -> dict[str, str]:
    return {"fieldName": pointer, "errorType": error_type, "errorMessage": message}


class ApiError(Exception):
    """A Desk error answer; ``errors`` only for INVALID_DATA."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.extra = extra or {}

    def reply(self) -> Reply:
        body: dict[str, Any] = {"errorCode": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return Reply(self.status, body)


INVALID_DATA_MESSAGE = "The data does not comply to the validation restrictions defined."


def invalid_data(errors: list[dict[str, str]]) -> ApiError:
    return ApiError(422, "INVALID_DATA", INVALID_DATA_MESSAGE, errors)


def invalid_param(name: str) -> ApiError:
    # Common.json unprocessableEntityErrorResponse example.
    return ApiError(
        422,
        "UNPROCESSABLE_ENTITY",
        f"The value passed for the '{name}' query parameter is invalid.",
    )


def not_found() -> ApiError:
    return ApiError(404, "URL_NOT_FOUND", "The URL you requested could not be found.")


@dataclass(frozen=True)
class DeskRequest:
    """One parsed Desk request, as a handler sees it."""

    method: str
    params: dict[str, list[str]]
    body: dict[str, Any] | None
    args: tuple[str, ...]
    now: float
