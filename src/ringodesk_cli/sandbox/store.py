"""The sandbox's in-memory help desk: seeded settings plus the records clients create.

One lock guards everything; handlers hold it for the few microseconds a read or write takes.
The state can be dumped to and loaded from JSON (``--state FILE``)."""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from datetime import UTC, datetime
from typing import Any

from ringodesk_cli.sandbox import seed

RECORD_KINDS = ("contacts", "tickets", "calls", "tasks")
FIELD_MODULES = ("tickets", "contacts", "calls", "tasks")


def iso(ts: float) -> str:
    """Zoho's response time format: ISO 8601 UTC with milliseconds and Z."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def snake_label(label: str) -> str:
    """``cf_`` + the label lower-cased, non-alphanumerics as ``_`` ("Customer Reference Code"
    → ``cf_customer_reference_code``, Field.json example; the rule itself is inferred). Non-ASCII
    letters are dropped: how Zoho names a Cyrillic label is unknown."""
    ascii_only = label.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")


# CustomView.json getViews `module` enum: one system view ("All ...") each in the sandbox.
VIEW_MODULES = ("tickets", "contacts", "events", "activities", "tasks", "contracts", "accounts",
                "calls")  # fmt: skip
# The module names of Zoho Desk's web UI in webUrl (`#Cases/dv/...` in Ticket.json examples).
UI_NAMES = {"tickets": "Cases", "contacts": "Contacts", "calls": "Calls", "tasks": "Tasks"}


class Store:
    def __init__(
        self, seed_value: int, *, seed_people: bool = False, seed_custom_fields: bool = False
    ) -> None:
        self.lock = threading.RLock()
        self._seed = seed_value
        self._seed_people = seed_people
        self._seed_custom_fields = seed_custom_fields
        self.reset()

    # ---- identity -----------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self._next = 1000
            self._ticket_number = 100
            base = 1_892_000_000_000_000 + (self._seed % 1000) * 1_000_000_000
            self._base = base
            self.org_id = str(60_000_000 + self._seed % 1_000_000)
            self.org = seed.organization(self.org_id)
            dep_ids = [self.new_id(), self.new_id()]
            self.departments = seed.departments(dep_ids)
            agent_ids = [self.new_id() for _ in range(seed.AGENT_COUNT)]
            self.agents = seed.agents(agent_ids, dep_ids)
            self.fields: dict[str, list[dict[str, Any]]] = {}
            for module in FIELD_MODULES:
                self.fields[module] = [
                    seed.field_object(
                        self.new_id(), api, label, ftype, max_len, mandatory=mand, values=vals
                    )
                    for api, label, ftype, max_len, mand, vals in seed.STANDARD_FIELDS[module]
                ]
            if self._seed_custom_fields:
                for module, api, label, ftype, max_len in seed.CUSTOM_FIELDS:
                    self.fields[module].append(
                        seed.field_object(
                            self.new_id(), api, label, ftype, max_len, custom=True,
                            created=seed.STD_TIME,
                        )
                    )  # fmt: skip
            self.records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in RECORD_KINDS}
            self.created_at: dict[str, float] = {}
            if self._seed_people:
                custom = {k: f["displayLabel"] for k, f in self.custom_fields("contacts").items()}
                ids = [self.new_id() for _ in seed.PEOPLE]
                for person in seed.people(ids, self.agents[0]["id"], list(custom), custom):
                    person["webUrl"] = self.web_url("contacts", person["id"])
                    # Created long ago: searchable whatever the search lag.
                    self.add("contacts", person, 0.0)

    def new_id(self) -> str:
        with self.lock:
            self._next += 1
            return str(self._base + self._next)

    def next_ticket_number(self) -> str:
        with self.lock:
            self._ticket_number += 1
            return str(self._ticket_number)

    def view_id(self, module: str) -> str:
        """The id of ``module``'s one view, all its records (CustomView.json ``GET /views``):
        below every record id, so never one of them."""
        return str(self._base + 100 + VIEW_MODULES.index(module))

    def web_url(self, kind: str, record_id: str) -> str:
        """The record's ``webUrl`` as Zoho's examples show it: the Desk host, the portal,
        the module's UI name and an opaque token after ``dv/`` (not the record id)."""
        token = hashlib.sha256(f"{self.org_id}:{kind}:{record_id}".encode()).hexdigest()[:48]
        portal = self.org.get("portalName") or "sandboxtelecom"
        return f"https://desk.zoho.com/support/{portal}/ShowHomePage.do#{UI_NAMES[kind]}/dv/{token}"

    @property
    def department_id(self) -> str:
        return str(self.departments[0]["id"])

    # ---- lookups ------------------------------------------------------------------------
    def department(self, dep_id: str) -> dict[str, Any] | None:
        return next((d for d in self.departments if d["id"] == dep_id), None)

    def agent(self, agent_id: str) -> dict[str, Any] | None:
        return next((a for a in self.agents if a["id"] == agent_id), None)

    def record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return self.records[kind].get(record_id)

    def custom_fields(self, module: str) -> dict[str, dict[str, Any]]:
        return {f["apiName"]: f for f in self.fields.get(module, []) if f["isCustomField"]}

    def add(self, kind: str, record: dict[str, Any], now: float) -> dict[str, Any]:
        with self.lock:
            self.records[kind][record["id"]] = record
            self.created_at[record["id"]] = now
        return record

    def remove(self, kind: str, record_id: str) -> None:
        with self.lock:
            self.records[kind].pop(record_id, None)
            self.created_at.pop(record_id, None)

    # ---- persistence --------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "next": self._next,
                    "ticketNumber": self._ticket_number,
                    "base": self._base,
                    "org": self.org,
                    "departments": self.departments,
                    "agents": self.agents,
                    "fields": self.fields,
                    "records": self.records,
                    "createdAt": self.created_at,
                }
            )

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._next = int(data["next"])
            self._ticket_number = int(data["ticketNumber"])
            self._base = int(data["base"])
            self.org = data["org"]
            self.org_id = str(self.org["id"])
            self.departments = data["departments"]
            self.agents = data["agents"]
            self.fields = data["fields"]
            self.records = {k: dict(data["records"].get(k, {})) for k in RECORD_KINDS}
            self.created_at = {k: float(v) for k, v in data.get("createdAt", {}).items()}
