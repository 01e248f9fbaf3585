"""A ``CallRecord`` to and from plain JSON, so the ledger can replay it on a later run."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Any

from ringodesk_cli.ringostat.records import CallRecord, Direction, Employee, Outcome


def to_json(record: CallRecord) -> dict[str, Any]:
    employee = record.employee
    return {
        "ringostat_id": record.ringostat_id,
        "started_at": record.started_at.isoformat(),
        "call_type": record.call_type,
        "direction": record.direction.value,
        "disposition": record.disposition,
        "outcome": record.outcome.value,
        "talk_seconds": record.talk_seconds,
        "total_seconds": record.total_seconds,
        "client_number": record.client_number,
        "our_number": record.our_number,
        "employee": [employee.name, employee.number, employee.sip] if employee else None,
        "recording_url": record.recording_url,
        "call_card_url": record.call_card_url,
        "utm": dict(record.utm),
        "google_client_id": record.google_client_id,
        "extra": dict(record.extra),
        "source": record.source,
        "line": record.line,
    }


def from_json(data: dict[str, Any]) -> CallRecord:
    employee = data.get("employee")
    return CallRecord(
        ringostat_id=str(data["ringostat_id"]),
        started_at=datetime.fromisoformat(data["started_at"]),
        call_type=str(data["call_type"]),
        direction=Direction(data["direction"]),
        disposition=str(data["disposition"]),
        outcome=Outcome(data["outcome"]),
        talk_seconds=int(data["talk_seconds"]),
        total_seconds=int(data["total_seconds"]),
        client_number=str(data["client_number"]),
        our_number=data.get("our_number"),
        employee=Employee(*employee) if employee else None,
        recording_url=data.get("recording_url"),
        call_card_url=data.get("call_card_url"),
        utm=MappingProxyType(dict(data.get("utm") or {})),
        google_client_id=data.get("google_client_id"),
        extra=MappingProxyType(dict(data.get("extra") or {})),
        source=str(data.get("source") or "ledger"),
        line=int(data.get("line") or 0),
    )
