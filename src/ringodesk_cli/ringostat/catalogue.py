"""The catalogue of Ringostat call-log parameters, for mappings and for `[source.columns]`,
and of the six ``rs_*`` custom fields those parameters fill in Zoho Desk.

Names are the machine names of Ringostat's calls/list API. Ringostat's own field reference (a
Google Sheet linked from help article 6312678) was not available, so the list is the default
field list of the CRAN package `ringostat` plus the names seen in other public code.
Descriptions marked "(inferred)" take their meaning from the name and its use, not from
Ringostat.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

PARAMETERS: dict[str, str] = {
    "uniqueid": "Ringostat's unique call id (e.g. ua-987h79879)",
    "calldate": "call start, YYYY-MM-DD HH:MM:SS without offset",
    "call_type": "direction: in, out, callback, transitin, transitout",
    "disposition": "call status code: ANSWERED, NO ANSWER, PROPER, REPEATED, BUSY...",
    "caller": "who called: the client on inbound, the employee's SIP or number on outbound",
    "dst": "where the call went: our tracking number on inbound, the client on outbound",
    "caller_number": "the caller's number",
    "additional_number": "additional number of the call (inferred)",
    "n_alias": "alias of the number called (inferred)",
    "pool_name": "number pool / traffic source the number belongs to (inferred)",
    "scheme_name": "routing scheme that handled the call (inferred)",
    "department": "department that handled the call (inferred)",
    "duration": "total call time in seconds, ringing and waiting included",
    "duration_ms": "total call time in milliseconds",
    "billsec": "talk time in seconds (0: nobody talked)",
    "waittime": "waiting time in seconds before an answer",
    "connected_with": "who or what answered: an employee's SIP account or number (inferred)",
    "employee_fio": "full name of the employee who handled the call",
    "employee_mark": "employee label of the call",
    "employee_number": "employee id (staffId in Ringostat's staff list)",
    "category_mark": "category given to the call",
    "category_number": "number of that category",
    "call_counter": "how many times this client has called",
    "proper_flag": "1 when the call is a target (proper) call",
    "repeated_flag": "1 when the call is a repeated call",
    "unique_call": "1 when the call is the client's first one",
    "utm_source": "UTM source of the visit",
    "utm_medium": "UTM medium of the visit",
    "utm_campaign": "UTM campaign of the visit",
    "utm_term": "UTM term of the visit",
    "utm_content": "UTM content of the visit",
    "client_id": "Google Analytics client id (sent to rs_google_client_id)",
    "remote_ip": "visitor's IP address",
    "refferrer": "page the visitor came from (Ringostat's own spelling)",
    "landing": "landing page of the visit",
    "recording": "link to listen to the call recording",
    "recording_wav": "download link of the recording as WAV",
    "has_recording": "1 when a recording exists",
    "call_card": "link to the call card in Ringostat",
}


@dataclass(frozen=True)
class RsField:
    """One of the six custom fields ringodesk creates on tickets and contacts (rule R2)."""

    label: str  # the field's display label in Zoho Desk; Zoho derives its apiName
    parameter: str  # the Ringostat parameter whose value fills it


# Rules R2 and R10: six single-line text fields, filled from these parameters on every call.
RS_FIELDS: tuple[RsField, ...] = (
    RsField("rs_utm_source", "utm_source"),
    RsField("rs_utm_medium", "utm_medium"),
    RsField("rs_utm_campaign", "utm_campaign"),
    RsField("rs_utm_term", "utm_term"),
    RsField("rs_utm_content", "utm_content"),
    RsField("rs_google_client_id", "client_id"),
)
RS_LABELS: tuple[str, ...] = tuple(f.label for f in RS_FIELDS)
# "Single-line text" is Zoho's type ``Text``, whose maximum length is 255 (Zoho's OpenAPI
# Field.json: maxLength 1-255). The rs_* fields are created with that length; a longer value
# is cut to fit (and kept whole in the ticket's description).
TEXT_TYPE = "Text"
TEXT_MAX_LENGTH = 255

# Rule R10 "Default parameters": what is always sent, shown to the user and not editable.
# Parameter -> where it goes in Zoho Desk.
DEFAULT_PARAMETERS: dict[str, str] = {
    "recording": "call activity: recording link (recording_wav when recording is empty)",
    "caller": "call activity: the number the call came from",
    "dst": "call activity: the number the call went to",
    "disposition": "call activity: status (Completed or Missed) and the Ringostat status",
    "call_card": "call activity: call card link",
    **{f.parameter: f"ticket and contact field {f.label}" for f in RS_FIELDS},
}


def close_matches(name: str, names: Iterable[str] = PARAMETERS) -> list[str]:
    """Parameter names close to ``name``, best first, for "did you mean" hints."""
    wanted = name.strip().casefold()
    candidates = list(names)
    if wanted in candidates:
        return [wanted]
    return difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.6)
