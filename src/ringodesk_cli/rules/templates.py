"""The texts ringodesk writes into Zoho Desk, from templates with named placeholders.

Each language ships one set (``data/templates.<language>.toml``: ``en``, ``uk``, ``ru``),
picked by ``integration.language``; the profile's ``[templates]`` table overrides any text
by its key. A template is ``str.format`` text with named placeholders only (``PLACEHOLDERS``);
in a text of several lines, a line whose placeholders are all empty is left out (no
"Employee:" line for a call without an employee).

Every subject carries the call's ``[rs:<id>]`` marker (``{marker}``): it is what finds a
record again after a crash. A subject template without it gets it appended, and subjects are
cut to ``SUBJECT_MAX`` characters with the marker kept whole. ``problems`` reports unknown
keys and placeholders and subjects without the marker, with the file, line and key.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ringodesk_cli.config.keys import LANGUAGES
from ringodesk_cli.errors import ConfigError

if TYPE_CHECKING:
    from ringodesk_cli.config.settings import Settings

__all__ = [
    "LANGUAGES",
    "SUBJECT_MAX",
    "Texts",
    "Values",
    "fit_subject",
    "problems",
    "texts_from_settings",
]
SUBJECT_MAX = 255  # Zoho: ticket subjects allow 255, call and task subjects 300; keep the lower
MARKER = "marker"

# What every text may use. Values are strings; an unknown one is "".
CALL_PLACEHOLDERS = frozenset(
    {
        "client_number",  # international format, +380 67 123 4567
        "client_e164",  # +380671234567
        "our_number",
        "caller",  # who called: the client (inbound) or our number (outbound)
        "called",
        "direction",  # the word for inbound/outbound in the language (word_inbound, ...)
        "call_type",  # Ringostat's: in, out, callback, ...
        "status",  # Ringostat's disposition: ANSWERED, NO ANSWER, BUSY, ...
        "status_lower",
        "call_type_text",  # the call type in the language ([call_types]): вхідний, ...
        "status_text",  # the status in the language ([statuses]): без відповіді, ...
        "outcome",  # answered / missed (inbound) / no answer (outbound), in the language
        "talk_seconds",
        "total_seconds",
        "duration",  # talk time as m:ss
        "employee",  # name, number, SIP (those known), comma-separated
        "employee_name",
        "employee_number",
        "employee_sip",
        "employee_key",  # SIP / number / name: what `employees link` takes
        "recording_url",
        "ringostat_link",  # the call card in Ringostat
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "google_client_id",
        "ringostat_id",
        MARKER,
    }
)
SUBJECTS = (
    "ticket_subject",
    "ticket_subject_missed",
    "call_subject_inbound",
    "call_subject_outbound",
    "task_subject_missed",
    "task_subject_unlinked",
)
# Words used inside other texts, and the heading of values cut to fit their fields.
WORDS = (
    "word_inbound",
    "word_outbound",
    "word_answered",
    "word_missed",
    "word_no_answer",
    "truncated_heading",
)
# Tables of a shipped set that translate Ringostat's values (not overridable per profile).
VALUE_TABLES = ("call_types", "statuses")
PLACEHOLDERS: dict[str, frozenset[str]] = {
    **{key: CALL_PLACEHOLDERS for key in SUBJECTS},
    "description": CALL_PLACEHOLDERS,
    "task_description_unlinked": CALL_PLACEHOLDERS | {"description"},
    "contact_description": CALL_PLACEHOLDERS,
    **{key: frozenset() for key in WORDS},
}


@dataclass(frozen=True)
class TemplateProblem:
    key: str
    message: str
    line: int | None = None
    path: str | None = None
    fatal: bool = True  # False: the text still works (a marker that is appended)

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.path, self.line) if p is not None)
        return f"{where + ': ' if where else ''}templates.{self.key}: {self.message}"


def _fields(text: str) -> list[str]:
    """The placeholder names in ``text``; ValueError for broken braces."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def check_text(key: str, text: str) -> list[tuple[str, bool]]:
    """What is wrong with one template: (message, fatal) pairs, none when it is fine. Not
    fatal: a subject without its marker (the marker is appended)."""
    if key not in PLACEHOLDERS:
        return [(f"unknown text (one of: {', '.join(PLACEHOLDERS)})", True)]
    try:
        names = _fields(text)
    except ValueError as exc:
        return [(f"not a valid template: {exc}", True)]
    allowed = PLACEHOLDERS[key]
    found = []
    for name in names:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            found.append((f"unknown placeholder {{{name}}} (known: {known})", True))
    if key in SUBJECTS and MARKER not in names:
        found.append(("drops the [rs:<id>] marker {marker}: it is appended anyway", False))
    return found


@cache
def shipped(language: str) -> Mapping[str, str]:
    """The shipped set of ``language``."""
    return {str(k): str(v) for k, v in _shipped_data(language).items() if k not in VALUE_TABLES}


@cache
def shipped_values(language: str, table: str) -> Mapping[str, str]:
    """A shipped translation of Ringostat's values (``call_types``, ``statuses``)."""
    found = _shipped_data(language).get(table) or {}
    return {str(k): str(v) for k, v in found.items()}


@cache
def _shipped_data(language: str) -> Mapping[str, Any]:
    if language not in LANGUAGES:
        raise ConfigError(f"no texts for language {language!r} (one of {', '.join(LANGUAGES)})")
    raw = resources.files("ringodesk_cli").joinpath(f"data/templates.{language}.toml")
    return tomllib.loads(raw.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Compiled:
    """A template split into lines, each with its placeholder names (parsed once)."""

    lines: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, text: str) -> _Compiled:
        return cls(tuple((line, tuple(_fields(line))) for line in text.split("\n")))

    def render(self, values: Mapping[str, str]) -> str:
        if len(self.lines) == 1:
            return self.lines[0][0].format_map(values)
        out = []
        for line, names in self.lines:
            if names:
                for name in names:
                    if values.get(name):
                        break
                else:
                    continue  # every placeholder of the line is empty
            out.append(line.format_map(values))
        return "\n".join(out)


class Values(dict[str, str]):
    """The placeholders' values of one call; one that is not there renders as ""."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Texts:
    """A language's texts with the profile's overrides, ready to render."""

    language: str = "en"
    overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merged = {**shipped(self.language), **self.overrides}
        compiled = {}
        for key, text in merged.items():
            fatal = [m for m, is_fatal in check_text(key, text) if is_fatal]
            if fatal:
                raise ConfigError(f"templates.{key}: {fatal[0]}")
            compiled[key] = _Compiled.of(text)
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_words", {k: merged[k] for k in WORDS})

    def word(self, key: str) -> str:
        words: dict[str, str] = self._words  # type: ignore[attr-defined]
        return words[key]

    def value(self, table: str, raw: str) -> str:
        """Ringostat's ``raw`` value (a call type, a status) in the language; as it is when
        the language has no word for it."""
        return shipped_values(self.language, table).get(raw, raw)

    def render(self, key: str, values: Mapping[str, Any]) -> str:
        compiled: dict[str, _Compiled] = self._compiled  # type: ignore[attr-defined]
        return compiled[key].render(values if isinstance(values, Values) else Values(values))

    def subject(self, key: str, values: Mapping[str, Any]) -> str:
        """The subject with its marker whole, at most ``SUBJECT_MAX`` characters."""
        return fit_subject(self.render(key, values), str(values[MARKER]))


def fit_subject(text: str, tag: str) -> str:
    """``text`` with the marker ``tag`` (appended when missing), cut to ``SUBJECT_MAX``
    characters; the cut takes from the text, never from the marker."""
    if tag in text and len(text) <= SUBJECT_MAX:
        return text
    bare = re.sub(r"\s*" + re.escape(tag), "", text).strip()
    return bare[: SUBJECT_MAX - len(tag) - 1] + " " + tag


def texts_from_settings(settings: Settings) -> Texts:
    """The profile's texts; a template that cannot render is a ConfigError naming its file,
    line and key (a subject without its marker is not: the marker is appended)."""
    for problem in problems(settings):
        if problem.fatal:
            key = f"templates.{problem.key}"
            raise ConfigError(problem.message, path=problem.path, line=problem.line, key=key)
    return Texts(str(settings.get("integration.language")), settings.table("templates"))


def problems(settings: Settings) -> list[TemplateProblem]:
    """Every problem of the profile's ``[templates]``, with the file, line and key."""
    from ringodesk_cli.config.settings import line_of

    text = settings.text()
    path = str(settings.path)
    found = []
    for key, template in settings.table("templates").items():
        line = line_of(text, f"templates.{key}")
        for message, fatal in check_text(key, template):
            found.append(TemplateProblem(key, message, line, path, fatal))
    return found
