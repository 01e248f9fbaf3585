"""User mappings Ringostat parameter -> Zoho Desk custom field (rules R10-R12).

``[mapping.ticket]`` and ``[mapping.contact]`` hold ``parameter = "cf_api_name"``. A mapping is
checked against the live field list before anything is written (R12):

- the parameter is a call-log field name (:data:`ringodesk_cli.ringostat.catalogue.PARAMETERS`);
- the target exists in the module, is a custom field, and is single-line text (Zoho type
  ``Text``; the product rules' "String" means ``Text``). Picklist, Email, Phone and URL
  are string-like but refused, because Zoho validates or restricts their values and an
  arbitrary Ringostat value would be rejected;
- it is not one of the six ``rs_*`` default fields (R10: their values are fixed);
- no other parameter of the same module already targets it (R12).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ringodesk_cli.errors import UsageError
from ringodesk_cli.ringostat.catalogue import (
    DEFAULT_PARAMETERS,
    PARAMETERS,
    RS_LABELS,
    TEXT_TYPE,
    close_matches,
)
from ringodesk_cli.setup.fields import FIELD_TABLES, Problem, is_custom

Target = Literal["ticket", "contact"]
TARGETS: tuple[Target, ...] = ("ticket", "contact")
MODULE_OF: dict[str, str] = {"ticket": "tickets", "contact": "contacts"}
TABLE_OF: dict[str, str] = {"ticket": "mapping.ticket", "contact": "mapping.contact"}

# Why each non-Text type is refused, in the user's words.
_STRING_LIKE = {
    "Picklist": "accepts only its listed values",
    "Multiselect": "accepts only its listed values",
    "Email": "accepts only e-mail addresses",
    "Phone": "accepts only phone numbers",
    "URL": "accepts only URLs",
    "Textarea": "is multi-line text, which ringodesk does not fill (the seed asks for String)",
    "LargeText": "is multi-line text, which ringodesk does not fill (the seed asks for String)",
}


class MappingSettings(Protocol):
    def table(self, name: str) -> dict[str, str]: ...
    def set_table_entry(self, table: str, key: str, value: str) -> None: ...
    def remove_table_entry(self, table: str, key: str) -> bool: ...


@dataclass(frozen=True)
class MappingRow:
    """One line of ``mapping list``."""

    target: str  # "ticket", "contact", or "default"
    parameter: str
    field: str
    editable: bool


def check_target(target: str) -> Target:
    if target not in TARGETS:
        raise UsageError(f"mapping target {target!r} is not one of {', '.join(TARGETS)}")
    return target  # type: ignore[return-value]


def resolve_parameter(param: str, parameters: Mapping[str, str]) -> str:
    """The catalogue's spelling of ``param``; an unknown one is refused with close matches."""
    wanted = param.strip()
    for name in parameters:
        if name.casefold() == wanted.casefold():
            return name
    close = close_matches(wanted, parameters)
    raise UsageError(
        f"unknown Ringostat parameter {param!r}"
        + (f"; did you mean {' or '.join(close)}?" if close else ""),
        hint="see the call-log parameters with `ringodesk mapping list --parameters`",
    )


def find_field(ref: str, fields: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The field whose apiName (first) or displayLabel is ``ref``, case-insensitively."""
    wanted = ref.strip().casefold()
    fields = list(fields)
    for raw in fields:
        if str(raw.get("apiName") or "").casefold() == wanted:
            return raw
    for raw in fields:
        if str(raw.get("displayLabel") or "").strip().casefold() == wanted:
            return raw
    return None


def _field_problem(
    module: str,
    raw: Mapping[str, Any],
    default_api_names: Iterable[str],
) -> str | None:
    """Why ``raw`` cannot be a mapping target, or None."""
    api = str(raw.get("apiName") or "")
    label = str(raw.get("displayLabel") or "")
    if not is_custom(raw):
        return f"{module} field {api} is a system field; mappings may only target custom fields"
    kind = str(raw.get("type") or "unknown")
    if kind != TEXT_TYPE:
        why = _STRING_LIKE.get(kind, "does not hold text")
        return (
            f"{module} field {api} has type {kind}, which {why}; only single-line text "
            f"(Text) fields are accepted (refused: Picklist, Email, Phone, URL and non-text types)"
        )
    defaults = {d.casefold() for d in default_api_names}
    names = {f.casefold() for f in RS_LABELS} | {"cf_" + f for f in RS_LABELS}
    if api.casefold() in defaults or api.casefold() in names or label.casefold() in names:
        return (
            f"{module} field {api} is one of the six default rs_* fields, which ringodesk "
            f"always fills (R10); choose another field"
        )
    return None


def validate_mapping(
    target: str,
    param: str,
    field_ref: str,
    *,
    fields: list[dict[str, Any]],
    current: Mapping[str, str],
    default_api_names: Iterable[str],
    parameters: Mapping[str, str] = PARAMETERS,
) -> tuple[str, str]:
    """Check ``set TARGET PARAM FIELD``; return (parameter, apiName as Zoho returned it).

    ``current`` is the target's mapping table as it is now. Raises a one-line
    :class:`UsageError` naming the first failed rule.
    """
    target = check_target(target)
    module = MODULE_OF[target]
    name = resolve_parameter(param, parameters)
    raw = find_field(field_ref, fields)
    if raw is None:
        custom = [str(f.get("apiName")) for f in fields if is_custom(f)]
        close = difflib.get_close_matches(field_ref.casefold(), custom, n=3, cutoff=0.6)
        raise UsageError(
            f"no {module} field {field_ref!r} in Zoho Desk"
            + (f"; did you mean {' or '.join(close)}?" if close else ""),
            hint=f"see the fields with `ringodesk fields list --module {module} --custom`",
        )
    problem = _field_problem(module, raw, default_api_names)
    if problem:
        raise UsageError(problem)
    api_name = str(raw.get("apiName"))
    for other, other_field in current.items():
        if other != name and other_field.casefold() == api_name.casefold():
            raise UsageError(
                f"{module} field {api_name} already receives {other!r} in "
                f"[{TABLE_OF[target]}]; one field takes one parameter (R12): "
                f"`ringodesk mapping unset {target} {other}` first"
            )
    return name, api_name


def set_mapping(
    settings: MappingSettings,
    target: str,
    param: str,
    field_ref: str,
    *,
    fields: list[dict[str, Any]],
    parameters: Mapping[str, str] = PARAMETERS,
) -> tuple[str, str]:
    """Validate, then write the entry (the caller saves). Nothing is changed on refusal."""
    target = check_target(target)
    table = TABLE_OF[target]
    name, api_name = validate_mapping(
        target,
        param,
        field_ref,
        fields=fields,
        current=settings.table(table),
        default_api_names=settings.table(FIELD_TABLES[MODULE_OF[target]]).values(),
        parameters=parameters,
    )
    settings.set_table_entry(table, name, api_name)
    return name, api_name


def unset_mapping(settings: MappingSettings, target: str, param: str) -> str:
    """Remove a mapping; returns the removed parameter. Unknown ones are refused."""
    target = check_target(target)
    table = TABLE_OF[target]
    current = settings.table(table)
    name = next((k for k in current if k.casefold() == param.strip().casefold()), None)
    if name is None:
        close = difflib.get_close_matches(param, list(current), n=3, cutoff=0.6)
        raise UsageError(
            f"no mapping for {param!r} in [{table}]"
            + (f"; did you mean {' or '.join(close)}?" if close else "")
        )
    settings.remove_table_entry(table, name)
    return name


def mapping_rows(
    settings: MappingSettings, default_parameters: Mapping[str, str] = DEFAULT_PARAMETERS
) -> list[MappingRow]:
    """``mapping list``: the fixed defaults (read-only, R10), then both user mappings."""
    rows = [MappingRow("default", p, f, False) for p, f in default_parameters.items()]
    for target in TARGETS:
        rows.extend(
            MappingRow(target, p, f, True) for p, f in settings.table(TABLE_OF[target]).items()
        )
    return rows


def check_mappings(
    settings: MappingSettings,
    fields_by_module: Mapping[str, list[dict[str, Any]]],
    parameters: Mapping[str, str] = PARAMETERS,
) -> list[Problem]:
    """``mapping check``: every stored mapping re-checked against the live fields (R12)."""
    problems: list[Problem] = []
    for target in TARGETS:
        module = MODULE_OF[target]
        table = TABLE_OF[target]
        current = settings.table(table)
        defaults = settings.table(FIELD_TABLES[module]).values()
        fields = fields_by_module.get(module, [])
        seen: dict[str, str] = {}
        for param, api_name in current.items():
            subject = f"{target}.{param}"
            if not any(param.casefold() == p.casefold() for p in parameters):
                problems.append(
                    Problem(module, subject, "unknown parameter", _message(param, parameters))
                )
            raw = find_field(api_name, fields)
            if raw is None:
                problems.append(
                    Problem(
                        module,
                        subject,
                        "missing field",
                        f"[{table}] {param} targets {api_name}, which no longer exists on {module}",
                    )
                )
                continue
            reason = _field_problem(module, raw, defaults)
            if reason:
                problems.append(Problem(module, subject, "refused field", f"[{table}] {reason}"))
            key = str(raw.get("apiName")).casefold()
            if key in seen:
                problems.append(
                    Problem(
                        module,
                        subject,
                        "duplicate target",
                        f"[{table}] {param} and {seen[key]} both target {api_name} (R12)",
                    )
                )
            else:
                seen[key] = param
    return problems


def _message(param: str, parameters: Mapping[str, str]) -> str:
    try:
        resolve_parameter(param, parameters)
    except UsageError as exc:
        return exc.message
    return ""
