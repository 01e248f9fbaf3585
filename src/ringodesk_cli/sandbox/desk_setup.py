"""Desk endpoints for the help desk's settings: organizations, agents, departments and fields
(Organization.json, Agent.json, Department.json, Field.json, FieldOld.json)."""

from __future__ import annotations

from ringodesk_cli.sandbox import seed
from ringodesk_cli.sandbox.config import SandboxConfig
from ringodesk_cli.sandbox.replies import (
    ApiError,
    DeskRequest,
    Reply,
    field_error,
    invalid_data,
    invalid_param,
    json_reply,
    list_reply,
    not_found,
)
from ringodesk_cli.sandbox.store import FIELD_MODULES, VIEW_MODULES, Store, iso, snake_label
from ringodesk_cli.sandbox.validation import enum_param, paging, single, validate_body

# Field.json getFields `module` values; only FIELD_MODULES hold fields in the sandbox.
NEW_API_MODULES = (
    "tickets", "contacts", "accounts", "tasks", "timeEntry", "products", "calls", "events",
    "contracts", "agents", "custom",
)  # fmt: skip
# FieldOld.json organizationFields `module` enum.
OLD_API_MODULES = ("tickets", "contacts", "accounts", "tasks", "calls", "events", "contracts",
                   "products")  # fmt: skip
STRING_TYPES = ("Text", "Picklist", "Email", "Phone", "URL")


class SetupEndpoints:
    def __init__(self, store: Store, cfg: SandboxConfig) -> None:
        self.store = store
        self.cfg = cfg

    # ---- organizations ------------------------------------------------------------------
    def organizations(self, req: DeskRequest) -> Reply:
        return json_reply({"data": [self.store.org]})

    def organization(self, req: DeskRequest) -> Reply:
        if req.args[0] != self.store.org_id:
            raise not_found()
        return json_reply(self.store.org)

    def myinfo(self, req: DeskRequest) -> Reply:
        return json_reply(self.store.agents[0])

    # ---- agents -------------------------------------------------------------------------
    def agents(self, req: DeskRequest) -> Reply:
        offset, limit = paging(req.params, 200)
        status = enum_param(req.params, "status", ("ACTIVE", "DISABLED", "DELETED", "IMPORTED"))
        deps = [d for v in req.params.get("departmentIds", []) for d in v.split(",") if d]
        search = (single(req.params, "searchStr") or "").strip("*").lower()
        found = [
            a
            for a in self.store.agents
            if (status is None or a["status"] == status)
            and (not deps or set(deps) & set(a["associatedDepartmentIds"]))
            and (not search or search in f"{a['name']} {a['emailId']}".lower())
        ]
        return list_reply(found[offset : offset + limit])

    def agent(self, req: DeskRequest) -> Reply:
        agent = self.store.agent(req.args[0])
        if agent is None:
            raise not_found()
        return json_reply(agent)

    # ---- departments --------------------------------------------------------------------
    def departments(self, req: DeskRequest) -> Reply:
        offset, limit = paging(req.params, 200)
        enabled = enum_param(req.params, "isEnabled", ("true", "false"))
        found = [
            d
            for d in self.store.departments
            if enabled is None or str(d["isEnabled"]).lower() == enabled
        ]
        return list_reply(found[offset : offset + limit])

    def department(self, req: DeskRequest) -> Reply:
        dep = self.store.department(req.args[0])
        if dep is None:
            raise not_found()
        return json_reply(dep)

    # ---- views --------------------------------------------------------------------------
    def views(self, req: DeskRequest) -> Reply:
        """CustomView.json getViews: ``module`` required (its enum); one system view each,
        all the module's records."""
        module = self._module(req, VIEW_MODULES)
        label = f"All {module[:1].upper()}{module[1:]}"
        view = {"id": self.store.view_id(module), "name": label, "viewName": label,
                "displayLabel": label, "sanitizedName": label.lower().replace(" ", "-"),
                "isCustomView": False, "isLocked": False, "createdBy": None,
                "deprecatedViewId": None}  # fmt: skip
        return json_reply({"data": [view]})

    # ---- fields -------------------------------------------------------------------------
    def _module(self, req: DeskRequest, allowed: tuple[str, ...]) -> str:
        module = single(req.params, "module")
        if module is None or module not in allowed:
            raise invalid_param("module")
        return module

    def _list_fields(self, req: DeskRequest, module: str) -> Reply:
        fields = list(self.store.fields.get(module, []))
        names = {n for v in req.params.get("apiNames", []) for n in v.split(",") if n}
        if names:
            fields = [f for f in fields if f["apiName"] in names]
        flt = (single(req.params, "filter") or "").replace(" ", "").replace('"', "'")
        if flt in ("isCustomField='true'", "isCustomField='false'"):
            wanted = flt.endswith("'true'")
            fields = [f for f in fields if f["isCustomField"] is wanted]
        # Field.json answers 200 with {"data": [...]} (no 204 is documented for fields).
        return json_reply({"data": fields})

    def fields(self, req: DeskRequest) -> Reply:
        return self._list_fields(req, self._module(req, NEW_API_MODULES))

    def org_fields(self, req: DeskRequest) -> Reply:
        return self._list_fields(req, self._module(req, OLD_API_MODULES))

    def field(self, req: DeskRequest) -> Reply:
        for fields in self.store.fields.values():
            for f in fields:
                if f["id"] == req.args[0]:
                    return json_reply(f)
        raise not_found()

    def create_field(self, req: DeskRequest) -> Reply:
        return self._create_field(req, self._module(req, NEW_API_MODULES))

    def create_org_field(self, req: DeskRequest) -> Reply:
        return self._create_field(req, self._module(req, OLD_API_MODULES))

    def _create_field(self, req: DeskRequest, module: str) -> Reply:
        body = validate_body("fields", "create", req.body)
        if module not in FIELD_MODULES:
            raise ApiError(
                403,
                "LICENSE_ACCESS_LIMITED",
                "Your Zoho Desk Edition does not support this feature/operation.",
            )
        label = str(body["displayLabel"]).strip()
        with self.store.lock:
            fields = self.store.fields[module]
            if any(f["displayLabel"].lower() == label.lower() for f in fields):
                # Duplicate shape: errorType "duplicate" of Common.json errorDetailArr (inferred).
                raise invalid_data(
                    [field_error("/displayLabel", "duplicate", "A field with this label exists")]
                )
            customs = [f for f in fields if f["isCustomField"] and f["type"] in STRING_TYPES]
            if body["type"] in STRING_TYPES and len(customs) >= self.cfg.custom_field_limit:
                raise ApiError(
                    403,
                    "LICENSE_ACCESS_LIMITED",
                    "Your Zoho Desk Edition does not support this feature/operation.",
                    extra={
                        "maxAllowedEntity": str(self.cfg.custom_field_limit),
                        "feature": "CUSTOM_FIELDS",
                        "editionType": "ENTERPRISE",
                        "isTrial": False,
                    },
                )
            api_name = self._api_name(module, label)
            max_len = body.get("maxLength")
            field = seed.field_object(
                self.store.new_id(),
                api_name,
                label,
                body["type"],
                int(max_len) if max_len is not None else _default_length(body["type"]),
                custom=True,
                values=body.get("allowedValues"),
                created=iso(req.now),
            )
            fields.append(field)
        return json_reply(field, 201)

    def _api_name(self, module: str, label: str) -> str:
        taken = {f["apiName"] for f in self.store.fields[module]}
        stem = "cf_" + (snake_label(label) or "field")
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}_{n}"
        return name


def _default_length(ftype: str) -> int | None:
    # Lengths Zoho gives typed fields created without one ([I]: from the field-type docs).
    return {"Email": 100, "URL": 255, "Picklist": 120}.get(ftype)
