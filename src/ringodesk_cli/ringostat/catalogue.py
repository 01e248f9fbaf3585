"""The catalogue of Ringostat call-log parameters, for mappings and for `[source.columns]`.

Names are the machine names of Ringostat's calls/list API. Ringostat's own field reference (a
Google Sheet linked from help article 6312678) was not available, so the list is the default
field list of the CRAN package `ringostat` plus the names seen in other public code
(/work/shared/reference/ringostat.md §1, "Call-log fields"). Descriptions marked "(inferred)"
follow that document's [I] notes: the meaning comes from the name and its use, not from
Ringostat.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

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

# R10 "Default parameters": what is always sent, shown to the user and not editable
# (/work/shared/reference/product-rules.md R6, R10; DECISIONS.md "What a call creates").
# Parameter -> where it goes in Zoho Desk.
DEFAULT_PARAMETERS: dict[str, str] = {
    "recording": "call activity: recording link (recording_wav when recording is empty)",
    "caller": "call activity: the number the call came from",
    "dst": "call activity: the number the call went to",
    "disposition": "call activity: status (Completed or Missed) and the Ringostat status",
    "call_card": "call activity: call card link",
    "utm_source": "ticket and contact field rs_utm_source",
    "utm_medium": "ticket and contact field rs_utm_medium",
    "utm_campaign": "ticket and contact field rs_utm_campaign",
    "utm_term": "ticket and contact field rs_utm_term",
    "utm_content": "ticket and contact field rs_utm_content",
    "client_id": "ticket and contact field rs_google_client_id",
}


def close_matches(name: str, names: Iterable[str] = PARAMETERS) -> list[str]:
    """Parameter names close to ``name``, best first, for "did you mean" hints."""
    wanted = name.strip().casefold()
    candidates = list(names)
    if wanted in candidates:
        return [wanted]
    return difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.6)
