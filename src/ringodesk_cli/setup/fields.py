"""The six ``rs_*`` custom fields on tickets and contacts (product rule R2).

Planning is pure (:func:`plan_fields`): given the fields Zoho already has, decide per label
whether to reuse, create or refuse. :func:`ensure_fields` does the I/O through the Desk client.

Zoho facts followed here (Zoho's Desk API documentation and its OpenAPI files ``Field.json``
and ``FieldOld.json``):

- ``GET/POST /api/v1/fields?module=`` is the current API; create answers 201 with the field.
  The older ``/api/v1/organizationFields`` is deprecated but is the fallback when ``/fields``
  answers 404 ``URL_NOT_FOUND`` on some data centers.
- Zoho generates ``apiName`` (read-only); examples are ``cf_`` + the lower-cased label, but
  that rule is inferred, so the apiName is always read from Zoho's answer, never built.
- Creating a duplicate field has no documented error shape, so creating is made idempotent
  by listing first and matching on ``displayLabel`` or ``apiName``.
- ``LICENSE_ACCESS_LIMITED`` (403) means the edition's custom-field limit is reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ringodesk_cli.errors import LicenseLimitedError, NotFoundError, ZohoError
from ringodesk_cli.ringostat.catalogue import RS_LABELS, TEXT_MAX_LENGTH, TEXT_TYPE

# The six labels every module must have, in the catalogue's order.
REQUIRED_FIELDS: tuple[str, ...] = RS_LABELS
MODULES: tuple[str, ...] = ("tickets", "contacts")
# Settings table that keeps label -> apiName (as Zoho returned it) per module.
FIELD_TABLES: dict[str, str] = {"tickets": "fields.tickets", "contacts": "fields.contacts"}

FIELDS_API = "fields"
OLD_FIELDS_API = "organizationFields"

Action = Literal["exists", "create", "conflict"]
Status = Literal["created", "already there", "conflict", "would create", "failed"]


class FieldsClient(Protocol):
    """The part of ``ringodesk_cli.zoho.desk.DeskClient`` this module uses."""

    def list_fields(self, module: str) -> list[dict[str, Any]]: ...
    def create_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def list_organization_fields(self, module: str) -> list[dict[str, Any]]: ...
    def create_organization_field(self, module: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FieldInfo:
    """A Zoho Desk field as ``fields list`` shows it."""

    module: str
    api_name: str
    label: str
    type: str
    custom: bool
    max_length: int | None = None
    id: str | None = None

    @classmethod
    def from_zoho(cls, module: str, raw: Mapping[str, Any]) -> FieldInfo:
        length = raw.get("maxLength")
        try:
            max_length = int(length) if length is not None else None
        except (TypeError, ValueError):
            max_length = None
        return cls(
            module=module,
            api_name=str(raw.get("apiName") or raw.get("name") or ""),
            label=str(raw.get("displayLabel") or raw.get("i18NLabel") or ""),
            type=str(raw.get("type") or ""),
            custom=is_custom(raw),
            max_length=max_length,
            id=str(raw["id"]) if raw.get("id") is not None else None,
        )


@dataclass(frozen=True)
class FieldPlan:
    """What to do about one required label in one module."""

    module: str
    label: str
    action: Action
    api_name: str | None = None
    field_id: str | None = None
    field_type: str | None = None
    body: dict[str, Any] | None = field(default=None, compare=False)
    reason: str | None = None


@dataclass(frozen=True)
class FieldResult:
    module: str
    label: str
    status: Status
    api_name: str | None = None
    field_id: str | None = None
    reason: str | None = None
    request: str | None = None  # e.g. "POST /fields?module=tickets"
    body: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FieldsReport:
    results: tuple[FieldResult, ...]
    api: str  # "fields", or "organizationFields" after the URL_NOT_FOUND fallback
    error: ZohoError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return all(r.status in ("created", "already there", "would create") for r in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    def api_names(self, module: str) -> dict[str, str]:
        """label -> apiName for the fields that exist now (as Zoho returned them)."""
        return {
            r.label: r.api_name
            for r in self.results
            if r.module == module and r.api_name and r.status in ("created", "already there")
        }


@dataclass(frozen=True)
class Problem:
    """One finding of ``fields check`` or ``mapping check``."""

    module: str
    subject: str
    kind: str
    message: str


def is_custom(raw: Mapping[str, Any]) -> bool:
    value = raw.get("isCustomField")
    if isinstance(value, str):  # some Zoho answers carry booleans as strings
        return value.strip().lower() == "true"
    return bool(value)


def create_body(label: str) -> dict[str, Any]:
    """The request body for one missing field (Field.json createFieldNewRequest, Text)."""
    return {"displayLabel": label, "type": TEXT_TYPE, "maxLength": TEXT_MAX_LENGTH}


def matching_fields(label: str, existing: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Fields that are ``label``: same displayLabel, or apiName ``label`` / ``cf_label``.

    Case-insensitive because Zoho lower-cases apiNames and admins type labels freely.
    Exact-label matches come first.
    """
    wanted = label.casefold()
    names = {wanted, "cf_" + wanted}
    by_label: list[Mapping[str, Any]] = []
    by_api: list[Mapping[str, Any]] = []
    for raw in existing:
        if str(raw.get("displayLabel") or "").strip().casefold() == wanted:
            by_label.append(raw)
        elif str(raw.get("apiName") or "").casefold() in names:
            by_api.append(raw)
    return by_label + by_api


def _conflict_reason(module: str, label: str, raw: Mapping[str, Any]) -> str:
    kind = raw.get("type") or "unknown"
    api = raw.get("apiName") or "?"
    return (
        f"{module} field {label!r} ({api}) exists with type {kind}, but ringodesk needs "
        f"single-line text (Text): rename or delete it in Zoho Desk (Setup > Layouts and "
        f"Fields), then run `ringodesk fields create` again"
    )


def plan_fields(module: str, existing: list[dict[str, Any]]) -> list[FieldPlan]:
    """Decide, for each required label, to reuse ("exists"), "create" or refuse ("conflict")."""
    plans: list[FieldPlan] = []
    for label in REQUIRED_FIELDS:
        matches = matching_fields(label, existing)
        texts = [m for m in matches if m.get("type") == TEXT_TYPE]
        if texts:
            found = texts[0]
            plans.append(
                FieldPlan(
                    module,
                    label,
                    "exists",
                    api_name=str(found.get("apiName")),
                    field_id=str(found["id"]) if found.get("id") is not None else None,
                    field_type=TEXT_TYPE,
                )
            )
        elif matches:
            found = matches[0]
            plans.append(
                FieldPlan(
                    module,
                    label,
                    "conflict",
                    api_name=str(found.get("apiName")),
                    field_id=str(found["id"]) if found.get("id") is not None else None,
                    field_type=str(found.get("type")),
                    reason=_conflict_reason(module, label, found),
                )
            )
        else:
            plans.append(FieldPlan(module, label, "create", body=create_body(label)))
    return plans


class FieldSource:
    """Lists and creates fields, switching to organizationFields once /fields is absent."""

    def __init__(self, client: FieldsClient) -> None:
        self.client = client
        self.api = FIELDS_API

    def list(self, module: str) -> list[dict[str, Any]]:
        if self.api == FIELDS_API:
            try:
                return self.client.list_fields(module)
            except NotFoundError as exc:
                # Fall back to the deprecated API when /fields is not served on this DC
                # (404 URL_NOT_FOUND; a bare 404 without an errorCode is read the same way).
                if exc.error_code not in ("URL_NOT_FOUND", None):
                    raise
                self.api = OLD_FIELDS_API
        return self.client.list_organization_fields(module)

    def create(self, module: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.api == FIELDS_API:
            return self.client.create_field(module, body)
        return self.client.create_organization_field(module, body)

    def request_line(self, module: str) -> str:
        return f"POST /{self.api}?module={module}"


def list_module_fields(
    client: FieldsClient, module: str, *, custom_only: bool = False
) -> list[FieldInfo]:
    """``fields list``: the module's fields (with the organizationFields fallback)."""
    infos = [FieldInfo.from_zoho(module, raw) for raw in FieldSource(client).list(module)]
    return [info for info in infos if info.custom or not custom_only]


def _limit_message(module: str, label: str, exc: LicenseLimitedError) -> LicenseLimitedError:
    payload = exc.payload
    limit = payload.get("maxAllowedEntity")
    edition = payload.get("editionType")
    what = f"the limit of {limit} custom fields" if limit is not None else "its custom-field limit"
    edition_text = f"the {edition} edition" if edition else "this Zoho Desk edition"
    return LicenseLimitedError(
        f"Zoho Desk refused to create {module} field {label!r}: {edition_text} reached {what} "
        f"(LICENSE_ACCESS_LIMITED)",
        status=exc.status,
        error_code="LICENSE_ACCESS_LIMITED",
        payload=payload,
        hint=(
            f"free a custom field on {module} in Setup > Layouts and Fields, or upgrade the "
            f"edition, then run `ringodesk fields create` again"
        ),
    )


def ensure_fields(
    client: FieldsClient, *, dry_run: bool = False, modules: Iterable[str] = MODULES
) -> FieldsReport:
    """List each module's fields, create the missing ``rs_*`` ones, report per field.

    With ``dry_run`` only the lists are read (a preview may send read-only requests) and the
    report shows each creating request. After a license-limit refusal
    the remaining creates of that module are not sent: they would hit the same limit.
    """
    source = FieldSource(client)
    results: list[FieldResult] = []
    error: ZohoError | None = None
    for module in modules:
        limited: LicenseLimitedError | None = None
        for plan in plan_fields(module, source.list(module)):
            if plan.action == "exists":
                results.append(
                    FieldResult(module, plan.label, "already there", plan.api_name, plan.field_id)
                )
            elif plan.action == "conflict":
                results.append(
                    FieldResult(
                        module, plan.label, "conflict", plan.api_name, plan.field_id, plan.reason
                    )
                )
            elif dry_run:
                results.append(
                    FieldResult(
                        module,
                        plan.label,
                        "would create",
                        request=source.request_line(module),
                        body=plan.body,
                    )
                )
            elif limited is not None:
                results.append(FieldResult(module, plan.label, "failed", reason=limited.message))
            else:
                assert plan.body is not None
                request = source.request_line(module)
                try:
                    created = source.create(module, dict(plan.body))
                except LicenseLimitedError as exc:
                    limited = _limit_message(module, plan.label, exc)
                    error = error or limited
                    results.append(
                        FieldResult(module, plan.label, "failed", reason=limited.message)
                    )
                    continue
                except ZohoError as exc:
                    error = error or exc
                    results.append(FieldResult(module, plan.label, "failed", reason=exc.message))
                    continue
                results.append(_created_result(module, plan.label, created, request, plan.body))
    return FieldsReport(tuple(results), source.api, error)


def _created_result(
    module: str, label: str, created: Mapping[str, Any], request: str, body: dict[str, Any]
) -> FieldResult:
    api_name = created.get("apiName")
    if not api_name:
        # Never guess the apiName (Zoho generates it): without it the field is unusable.
        return FieldResult(
            module,
            label,
            "failed",
            reason="Zoho created the field but its answer had no apiName; "
            "run `ringodesk fields create` again to pick it up from the list",
            request=request,
            body=body,
        )
    field_id = created.get("id")
    return FieldResult(
        module,
        label,
        "created",
        str(api_name),
        str(field_id) if field_id is not None else None,
        request=request,
        body=body,
    )


class TableEditor(Protocol):
    """The part of ``Settings`` used to record apiNames."""

    def table(self, name: str) -> dict[str, str]: ...
    def set_table_entry(self, table: str, key: str, value: str) -> None: ...


def record_fields(settings: TableEditor, report: FieldsReport) -> bool:
    """Store each existing field's apiName in ``[fields.<module>]``; True when anything changed.

    The caller saves (and does not, under ``--dry-run``).
    """
    changed = False
    for module, table in FIELD_TABLES.items():
        current = settings.table(table)
        for label, api_name in report.api_names(module).items():
            if current.get(label) != api_name:
                settings.set_table_entry(table, label, api_name)
                changed = True
    return changed


def check_fields(
    client: FieldsClient, settings: TableEditor, *, modules: Iterable[str] = MODULES
) -> list[Problem]:
    """``fields check``: missing or wrong-type fields, and apiNames not (or wrongly) recorded."""
    source = FieldSource(client)
    problems: list[Problem] = []
    for module in modules:
        stored = settings.table(FIELD_TABLES[module])
        for plan in plan_fields(module, source.list(module)):
            if plan.action == "create":
                problems.append(
                    Problem(
                        module,
                        plan.label,
                        "missing",
                        f"{module} field {plan.label} is missing: run `ringodesk fields create`",
                    )
                )
            elif plan.action == "conflict":
                problems.append(Problem(module, plan.label, "wrong type", plan.reason or ""))
            elif stored.get(plan.label) != plan.api_name:
                recorded = stored.get(plan.label)
                where = f"[{FIELD_TABLES[module]}]"
                detail = (
                    f"is recorded as {recorded} in {where}" if recorded else f"is not in {where}"
                )
                problems.append(
                    Problem(
                        module,
                        plan.label,
                        "not recorded",
                        f"{module} field {plan.label} ({plan.api_name}) {detail}: "
                        f"run `ringodesk fields create` to record it",
                    )
                )
    return problems
