"""A stand-in for Ringostat's calls/list, served by the sandbox on its own root:
``GET {sandbox url}/calls/list`` (no prefix, as ``https://api.ringostat.net/calls/list``), so
a profile points ``ringostat.api_url`` at the sandbox URL itself.

Behaviour follows Ringostat's calls/list documentation; it imports nothing of
``ringodesk_cli.ringostat``, so it cannot share the client's assumptions:

* ``Auth-key`` header checked: missing or wrong -> 401 [3P: 401 = bad Auth-key].
* ``export_type`` json (default) or csv (``;``-separated, header = field names).
* ``from``/``to`` as ``YYYY-MM-DD HH:MM:SS`` in the project's zone (``cfg.ringostat_timezone``;
  Ringostat does not document its zone), both inclusive [I]; defaults ``to`` = now and
  ``from`` = ``to`` minus 24 h [C].
* ``fields``: an unknown name -> 400 ``{"error": "incorrect field: NAME"}``. The real status
  for this answer is not documented; the client recognises the text under any status.
* At most ``cap`` calls per answer (6,500 [C]): the first ones of the window by calldate, the
  rest silently left out, as the documented cap implies.
* Calls appear as the clock moves: a call added with ``ringostat_add_calls`` is listed only
  once the sandbox clock (``Sandbox.now``, moved by ``advance_time``) reaches its calldate,
  and ``ringostat_update_call`` changes it later (IN PROGRESS -> ANSWERED).
* A call added with ``recording = "sandbox"`` gets ``recording`` and ``recording_wav`` links
  to a recording the sandbox serves (``sandbox/recordings.py``; set it up further through
  ``POST /__sandbox__/recordings``).

Admin (for a subprocess): ``POST /__sandbox__/ringostat/calls`` ``{"calls": [...]}``;
``POST /__sandbox__/ringostat/calls/update`` ``{"uniqueid": ..., "fields": {...}}``;
``GET /__sandbox__/ringostat/calls``; ``POST /__sandbox__/ringostat/limits``
``{"cap": N, "fail_next": N}`` (the next N calls/list requests answer 500).
"""

from __future__ import annotations

import copy
import csv
import io
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ringodesk_cli.sandbox.config import SandboxConfig
from ringodesk_cli.sandbox.recordings import RecordingShelf
from ringodesk_cli.sandbox.replies import Reply, json_reply

SANDBOX_RECORDING = "sandbox"  # a call's `recording` asking for a recording served here

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DAY = 24 * 3600.0

# Field names calls/list accepts: the CRAN `ringostat` package's default list plus the names
# seen in other public code. Copied, not imported.
KNOWN_FIELDS = frozenset(
    {
        "caller", "dst", "pool_name", "disposition", "calldate", "category_mark", "duration",
        "call_type", "waittime", "billsec", "connected_with", "call_counter", "proper_flag",
        "repeated_flag", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
        "uniqueid", "category_number", "employee_number", "employee_mark", "client_id",
        "remote_ip", "refferrer", "landing", "recording", "recording_wav", "call_card",
        "additional_number", "has_recording", "scheme_name", "duration_ms", "department",
        "caller_number", "employee_fio", "n_alias", "unique_call",
    }
)  # fmt: skip
# What an answer carries when `fields` is not given (the R package's default list).
DEFAULT_FIELDS = (
    "caller", "dst", "disposition", "calldate", "duration", "call_type", "billsec",
    "connected_with", "uniqueid", "employee_number", "recording", "call_card",
)  # fmt: skip


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"error": message})


class RingostatStandIn:
    """The project's call log, in memory. Thread-safe."""

    def __init__(self, cfg: SandboxConfig, now: Callable[[], float]) -> None:
        self.key = cfg.ringostat_key
        self.zone = ZoneInfo(cfg.ringostat_timezone)
        self._default_cap = cfg.ringostat_cap
        self.now = now
        self._lock = threading.Lock()
        # Set by the sandbox: a call added with ``recording = "sandbox"`` gets links to a
        # recording the sandbox serves (``recording`` and ``recording_wav``).
        self.recordings: RecordingShelf | None = None
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.cap = self._default_cap
            self.fail_next = 0
            self._calls: dict[str, dict[str, Any]] = {}

    # ---- the call log ---------------------------------------------------------------------
    def _moment(self, text: str) -> float:
        # fold=0: in the hour a DST change repeats, the first occurrence (as ringodesk reads).
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=self.zone).timestamp()

    def add_calls(self, calls: Iterable[Mapping[str, Any]]) -> None:
        """Add (or replace, by uniqueid) calls keyed by calls/list field names; each needs
        ``uniqueid`` and ``calldate`` (``YYYY-MM-DD HH:MM:SS`` in the project's zone)."""
        checked = []
        for item in calls:
            if not isinstance(item, Mapping):
                raise ValueError("each call must be an object of calls/list fields")
            call = dict(item)
            if not str(call.get("uniqueid") or "").strip():
                raise ValueError("each call needs a uniqueid")
            try:
                self._moment(str(call.get("calldate") or ""))
            except ValueError:
                raise ValueError(
                    f"{call['uniqueid']}: calldate must read like 2024-05-14 09:03:40"
                ) from None
            unknown = set(call) - KNOWN_FIELDS
            if unknown:
                raise ValueError(f"{call['uniqueid']}: unknown fields {sorted(unknown)}")
            if call.get("recording") == SANDBOX_RECORDING and self.recordings is not None:
                call.update(self.recordings.put({"uniqueid": str(call["uniqueid"])}))
            checked.append(call)
        with self._lock:
            for call in checked:
                self._calls[str(call["uniqueid"])] = copy.deepcopy(call)

    def update_call(self, uniqueid: str, changes: Mapping[str, Any]) -> None:
        """Change a call later (its disposition, billsec, a recording link...)."""
        unknown = set(changes) - KNOWN_FIELDS
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        if "calldate" in changes:
            self._moment(str(changes["calldate"]))
        with self._lock:
            if uniqueid not in self._calls:
                raise KeyError(uniqueid)
            self._calls[uniqueid].update(copy.deepcopy(dict(changes)))

    def calls(self) -> list[dict[str, Any]]:
        """Every call, visible yet or not, with ``visible`` telling which."""
        now = self.now()
        with self._lock:
            return [
                {**copy.deepcopy(c), "visible": self._moment(c["calldate"]) <= now}
                for c in self._calls.values()
            ]

    # ---- GET /calls/list ------------------------------------------------------------------
    def handle(self, params: Mapping[str, list[str]], headers: Any) -> Reply:
        if headers.get("Auth-key") != self.key:
            return _error(401, "Unauthorized: wrong or missing Auth-key")
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return _error(500, "Internal server error (injected)")
        p = {k: v[-1] for k, v in params.items()}
        export_type = p.get("export_type", "json")
        if export_type not in ("json", "csv"):
            return _error(400, f"incorrect export_type: {export_type}")
        raw_fields = p.get("fields")
        fields = [f.strip() for f in raw_fields.split(",")] if raw_fields else list(DEFAULT_FIELDS)
        for name in fields:
            if name not in KNOWN_FIELDS:
                return _error(400, f"incorrect field: {name}")
        now = self.now()
        try:
            hi = self._moment(p["to"]) if p.get("to") else now
            lo = self._moment(p["from"]) if p.get("from") else hi - _DAY
        except ValueError:
            return _error(400, "incorrect date: use YYYY-MM-DD HH:MM:SS")
        with self._lock:
            found = [
                (when, copy.deepcopy(c))
                for c in self._calls.values()
                if lo <= (when := self._moment(c["calldate"])) <= hi and when <= now
            ]
        found.sort(key=lambda pair: (pair[0], str(pair[1]["uniqueid"])))
        if p.get("order", "").strip().lower() == "calldate desc":
            found.reverse()
        rows = [{f: c.get(f, "") for f in fields} for _, c in found[: self.cap]]
        if export_type == "json":
            return json_reply(rows)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow(["" if row[f] is None else row[f] for f in fields])
        return Reply(200, raw=out.getvalue().encode("utf-8"), content_type="text/csv;charset=UTF-8")

    # ---- admin ----------------------------------------------------------------------------
    def admin(self, method: str, sub: str, body: dict[str, Any]) -> Reply | None:
        """``sub`` is the path after ``/__sandbox__/ringostat/``; None: not ours."""
        if method == "GET" and sub == "calls":
            return json_reply({"data": self.calls()})
        if method != "POST":
            return None
        if sub == "calls":
            calls = body.get("calls")
            if not isinstance(calls, list):
                raise ValueError('send {"calls": [...]}')
            self.add_calls(calls)
        elif sub == "calls/update":
            try:
                self.update_call(str(body.get("uniqueid")), dict(body.get("fields") or {}))
            except KeyError:
                return _error(404, f"no call {body.get('uniqueid')!r}")
        elif sub == "limits":
            with self._lock:
                if body.get("cap") is not None:
                    self.cap = int(body["cap"])
                if body.get("fail_next") is not None:
                    self.fail_next = int(body["fail_next"])
        else:
            return None
        return json_reply({"status": "success"})

    # ---- state file -----------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": copy.deepcopy(list(self._calls.values()))}

    def load(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            self._calls = {str(c["uniqueid"]): dict(c) for c in data.get("calls", [])}
