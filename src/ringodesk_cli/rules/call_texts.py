"""The words of one call: the values every text template can use (templates.CALL_PLACEHOLDERS),
the number as people read it, and the ``[rs:<id>]`` marker every subject carries."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from ringodesk_cli.ringostat.records import UTM_FIELDS, CallRecord, Direction, Outcome
from ringodesk_cli.rules.templates import Texts, Values


def marker(ringostat_id: str) -> str:
    """The marker put in every subject: a create whose answer was lost is found by it."""
    return f"[rs:{ringostat_id}]"


# Repeat callers: the same few thousand numbers are formatted over and over.
@lru_cache(maxsize=8192)
def international(number: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return number


def call_values(record: CallRecord, texts: Texts) -> Values:
    """The placeholders of every text (templates.CALL_PLACEHOLDERS) for one call."""
    inbound = record.direction is Direction.INBOUND
    employee = record.employee
    parts = (employee.name, employee.number, employee.sip) if employee else ()
    return Values(
        {
            "client_number": international(record.client_number),
            "client_e164": record.client_number,
            "our_number": record.our_number or "",
            "caller": record.client_number if inbound else (record.our_number or ""),
            "called": (record.our_number or "") if inbound else record.client_number,
            "direction": texts.word("word_inbound" if inbound else "word_outbound"),
            "call_type": record.call_type,
            "status": record.disposition,
            "status_lower": record.disposition.lower(),
            "call_type_text": texts.value("call_types", record.call_type),
            "status_text": texts.value("statuses", record.disposition),
            "outcome": texts.word(_outcome_word(record)),
            "talk_seconds": str(record.talk_seconds),
            "total_seconds": str(record.total_seconds),
            "duration": f"{record.talk_seconds // 60}:{record.talk_seconds % 60:02d}",
            "employee": ", ".join(p for p in parts if p),
            "employee_name": (employee.name or "") if employee else "",
            "employee_number": (employee.number or "") if employee else "",
            "employee_sip": (employee.sip or "") if employee else "",
            "employee_key": employee_text(record),
            "recording_url": record.recording_url or "",
            "ringostat_link": record.call_card_url or "",
            **{name: record.utm.get(name) or "" for name in UTM_FIELDS},
            "google_client_id": record.google_client_id or "",
            "ringostat_id": record.ringostat_id,
            "marker": marker(record.ringostat_id),
        }
    )


def _outcome_word(record: CallRecord) -> str:
    """Answered; an inbound call nobody took is missed (ours to call back); an outbound call
    the client did not take went unanswered: we did not miss it."""
    if record.outcome is Outcome.ANSWERED:
        return "word_answered"
    return "word_missed" if record.direction is Direction.INBOUND else "word_no_answer"


def employee_text(record: CallRecord) -> str:
    employee = record.employee
    if employee is None:
        return f"number {record.our_number or 'unknown'}"
    parts = [p for p in (employee.sip, employee.number, employee.name) if p]
    return " / ".join(parts) if parts else f"number {record.our_number or 'unknown'}"
