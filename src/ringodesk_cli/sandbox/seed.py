"""The seeded help desk: one organization, two departments, agents (one disabled) and the
standard, non-custom fields of each module, shaped as Zoho's OpenAPI examples show them
(Organization.json, Department.json, Agent.json, Field.json getFields example)."""

from __future__ import annotations

from typing import Any

STD_TIME = "2024-01-15T09:00:00.000Z"

# (apiName, displayLabel, type, maxLength or None, mandatory, picklist values)
_TICKET_FIELDS: list[tuple[str, str, str, int | None, bool, list[str]]] = [
    ("subject", "Subject", "Text", 255, True, []),
    ("departmentId", "Department", "LookUp", None, True, []),
    ("contactId", "Contact Name", "LookUp", None, True, []),
    ("email", "Email", "Email", 120, False, []),
    ("phone", "Phone", "Phone", 120, False, []),
    ("description", "Description", "Textarea", 65535, False, []),
    ("status", "Status", "Picklist", 120, True, ["Open", "On Hold", "Escalated", "Closed"]),
    ("priority", "Priority", "Picklist", 120, False, ["High", "Medium", "Low"]),
    ("channel", "Channel", "Picklist", 120, False, ["Phone", "Email", "Web", "Chat", "Forums"]),
    ("classification", "Classification", "Picklist", 120, False, ["Question", "Problem"]),
    ("category", "Category", "Picklist", 120, False, ["General", "Defects"]),
    ("subCategory", "Sub Category", "Picklist", 120, False, ["Sub General"]),
    ("assigneeId", "Ticket Owner", "LookUp", None, False, []),
    ("dueDate", "Due Date", "DateTime", None, False, []),
    ("language", "Language", "Picklist", 120, False, ["English", "Ukrainian"]),
    ("productId", "Product Name", "LookUp", None, False, []),
    ("resolution", "Resolution", "Textarea", 65535, False, []),
]
_CONTACT_FIELDS: list[tuple[str, str, str, int | None, bool, list[str]]] = [
    ("firstName", "First Name", "Text", 40, False, []),
    ("lastName", "Last Name", "Text", 200, True, []),
    ("email", "Email", "Email", 255, False, []),
    ("secondaryEmail", "Secondary Email", "Email", 100, False, []),
    ("phone", "Phone", "Phone", 50, False, []),
    ("mobile", "Mobile", "Phone", 50, False, []),
    ("accountId", "Account Name", "LookUp", None, False, []),
    ("ownerId", "Contact Owner", "LookUp", None, False, []),
    ("title", "Title", "Text", 100, False, []),
    ("type", "Type", "Picklist", 120, False, ["paidUser", "freeUser"]),
    ("description", "Description", "Textarea", 65535, False, []),
    ("street", "Street", "Text", 250, False, []),
    ("city", "City", "Text", 30, False, []),
    ("state", "State", "Text", 30, False, []),
    ("zip", "Zip", "Text", 30, False, []),
    ("country", "Country", "Text", 30, False, []),
]
_CALL_FIELDS: list[tuple[str, str, str, int | None, bool, list[str]]] = [
    ("subject", "Subject", "Text", 300, True, []),
    ("startTime", "Call Start Time", "DateTime", None, True, []),
    ("duration", "Call Duration", "Number", 9, True, []),
    ("direction", "Call Type", "Picklist", 120, True, ["inbound", "outbound"]),
    ("status", "Call Status", "Picklist", 120, True, ["Completed", "Missed", "In Progress"]),
    ("ownerId", "Call Owner", "LookUp", None, False, []),
    ("description", "Description", "Textarea", 65535, False, []),
]
_TASK_FIELDS: list[tuple[str, str, str, int | None, bool, list[str]]] = [
    ("subject", "Subject", "Text", 300, True, []),
    ("dueDate", "Due Date", "DateTime", None, False, []),
    ("status", "Status", "Picklist", 120, False, ["Not Started", "In Progress", "Completed"]),
    ("priority", "Priority", "Picklist", 120, False, ["High", "Normal", "Low"]),
    ("ownerId", "Task Owner", "LookUp", None, False, []),
    ("description", "Description", "Textarea", 65535, False, []),
]
STANDARD_FIELDS = {
    "tickets": _TICKET_FIELDS,
    "contacts": _CONTACT_FIELDS,
    "calls": _CALL_FIELDS,
    "tasks": _TASK_FIELDS,
}


def field_object(
    field_id: str,
    api_name: str,
    label: str,
    ftype: str,
    max_length: int | None,
    *,
    mandatory: bool = False,
    custom: bool = False,
    values: list[str] | None = None,
    created: str | None = None,
) -> dict[str, Any]:
    """A field as Field.json's getFields / createField examples show it."""
    obj: dict[str, Any] = {
        "id": field_id,
        "apiName": api_name,
        "name": label if custom else api_name,
        "displayLabel": label,
        "i18NLabel": label,
        "type": ftype,
        "isCustomField": custom,
        "sourceType": "USERDEFINED" if custom else "SYSTEM",
        "isMandatory": mandatory,
        "isBasic": not custom,
        "isEncryptedField": False,
        "isIdentifier": False,
        "isIndexed": False,
        "isSortable": False,
        "isComputed": False,
        "isPresence": True,
        "isInternalState": False,
        "showToHelpCenter": False,
        "createdTime": created,
        "modifiedTime": created,
        "createdBy": None,
        "modifiedBy": None,
    }
    if max_length is not None:
        obj["maxLength"] = max_length
    if ftype in ("Picklist", "Multiselect"):
        obj["allowedValues"] = list(values or [])
    return obj


def organization(org_id: str) -> dict[str, Any]:
    return {
        "id": org_id,
        "companyName": "Sandbox Telecom",
        "portalName": "sandboxtelecom",
        "alias": "Sandbox",
        "isDefault": True,
        "edition": "ENTERPRISE",
        "portalURL": "https://desk.zoho.com/support/sandboxtelecom",
        "currencyCode": "UAH",
        "currencyLocale": "uk_UA",
        "employeeCount": "6",
        "isSandboxPortal": False,
        "isAdminInOrg": True,
        "isPayloadEncryptionEnabled": False,
        "country": "Ukraine",
        "city": "Kyiv",
        "description": "Local Zoho Desk sandbox (ringodesk)",
    }


def departments(ids: list[str]) -> list[dict[str, Any]]:
    names = [("Support", True), ("Sales", False)]
    return [
        {
            "id": dep_id,
            "name": name,
            "nameInCustomerPortal": name,
            "isDefault": is_default,
            "isEnabled": True,
            "isVisibleInCustomerPortal": True,
            "isAssignToTeamEnabled": False,
            "chatStatus": "NOT_CREATED",
            "hasLogo": False,
            "creatorId": None,
            "description": f"{name} department",
            "createdTime": STD_TIME,
        }
        for dep_id, (name, is_default) in zip(ids, names, strict=True)
    ]


# (firstName, lastName, email, role, status, phone, extn)
_AGENTS = [
    ("Olena", "Kovalenko", "olena@sandbox.example", "Admin", "ACTIVE", "+380441110001", "101"),
    ("Taras", "Shevchuk", "taras@sandbox.example", "AgentPublic", "ACTIVE", "+380441110002", "102"),
    ("Iryna", "Bondar", "iryna@sandbox.example", "AgentPublic", "ACTIVE", "+380441110003", "103"),
    ("Petro", "Melnyk", "petro@sandbox.example", "AgentPublic", "ACTIVE", "+380441110004", "104"),
    ("Mariia", "Tkachenko", "mariia@sandbox.example", "AgentPublic", "ACTIVE", "", "105"),
    # A deactivated agent, as Agent.json's status enum shows it: DISABLED.
    ("Andrii", "Lysenko", "andrii@sandbox.example", "AgentPublic", "DISABLED", "", "106"),
]


def agents(ids: list[str], department_ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for agent_id, (first, last, email, role, status, phone, extn) in zip(ids, _AGENTS, strict=True):
        out.append(
            {
                "id": agent_id,
                "firstName": first,
                "lastName": last,
                "name": f"{first} {last}",
                "emailId": email,
                "zuid": str(10_687_000 + int(extn)),
                "roleId": "1892000000056099",
                "profileId": "1892000000056091",
                "rolePermissionType": role,
                "isConfirmed": True,
                "status": status,
                "associatedDepartmentIds": list(department_ids),
                "associatedChatDepartmentIds": [],
                "phone": phone,
                "mobile": "",
                "extn": extn,
                "timeZone": "Europe/Kyiv",
                "langCode": "en_US",
                "countryCode": "en_US",
                "photoURL": None,
                "isZiaAgent": False,
                "channelExpert": ["Phone", "Email"],
            }
        )
    return out


AGENT_COUNT = len(_AGENTS)
