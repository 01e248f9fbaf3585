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


# ---- optional seeds ------------------------------------------------------------------------

# Custom fields a help desk already has before ringodesk adds its own:
# (module, apiName, displayLabel, type, maxLength).
CUSTOM_FIELDS: list[tuple[str, str, str, str, int | None]] = [
    ("contacts", "cf_landing_page", "Landing page", "Text", 255),
    ("contacts", "cf_call_score", "Call score", "Number", 9),
    ("tickets", "cf_landing_page", "Landing page", "Text", 255),
]

SWITCHBOARD = "+380 44 500 00 00"
# Contacts typed by people: (firstName, lastName, email, phone, mobile, createdTime). Numbers are
# free text in Zoho; these are the formats agents type. Two duplicate groups share one number
# in different formats; the switchboard is shared by six contacts.
PEOPLE: list[tuple[str | None, str, str | None, str | None, str | None, str]] = [
    ("Oksana", "Hnatiuk", "oksana@clinic.example", "+380 (44) 222-33-44", None,
     "2025-03-01T08:00:00.000Z"),
    ("Dmytro", "Savchenko", None, None, "067-111-22-33", "2025-03-02T08:00:00.000Z"),
    ("Yulia", "Moroz", None, "050 777 88 99", None, "2025-03-03T08:00:00.000Z"),
    ("Viktor", "Pavlenko", None, "+380 63 444 55 66", None, "2025-03-04T08:00:00.000Z"),
    ("Viktor", "Pavlenko", "viktor@pavlenko.example", "063-444-55-66", None,
     "2025-03-05T08:00:00.000Z"),
    (None, "Pavlenko V.", None, None, "380634445566", "2025-03-06T08:00:00.000Z"),
    ("Lviv", "Coffee", "hello@lvivcoffee.example", "(032) 245-67-89", None,
     "2025-03-07T08:00:00.000Z"),
    (None, "Lviv Coffee (2)", None, "+380322456789", None, "2025-03-08T08:00:00.000Z"),
    ("Roman", "Kravets", "roman@bigcorp.example", SWITCHBOARD, "+380 97 100 20 31",
     "2025-03-09T08:00:00.000Z"),
    ("Halyna", "Shvets", "halyna@bigcorp.example", "044 500 00 00", None,
     "2025-03-10T08:00:00.000Z"),
    ("Ihor", "Tkachuk", "ihor@bigcorp.example", "+380445000000", None,
     "2025-03-11T08:00:00.000Z"),
    ("Nadiia", "Rudenko", "nadiia@bigcorp.example", "(044) 500-00-00", None,
     "2025-03-12T08:00:00.000Z"),
    ("Serhii", "Ostapenko", "serhii@bigcorp.example", SWITCHBOARD, None,
     "2025-03-13T08:00:00.000Z"),
    ("Larysa", "Marchenko", "larysa@bigcorp.example", "380 44 500 0000", None,
     "2025-03-14T08:00:00.000Z"),
    ("Anton", "Boiko", "anton@example.com", "+380931234567", None, "2025-03-15T08:00:00.000Z"),
]  # fmt: skip


def people(
    ids: list[str], creator_id: str, cf_names: list[str], custom: dict[str, str]
) -> list[dict[str, Any]]:
    """PEOPLE as contact records, shaped like the sandbox's own (Contact.json contactjson).
    ``custom`` maps cf apiName -> displayLabel for ``customFields``."""
    out = []
    for rec_id, (first, last, email, phone, mobile, created) in zip(ids, PEOPLE, strict=True):
        cf: dict[str, Any] = dict.fromkeys(cf_names)
        out.append(
            {
                "id": rec_id,
                "createdTime": created,
                "modifiedTime": created,
                "creatorId": creator_id,
                "webUrl": "https://desk.zoho.com/support/sandboxtelecom/ShowHomePage.do"
                f"#contacts/dv/{rec_id}",
                "isSpam": False,
                "cf": cf,
                "customFields": {custom.get(k, k): v for k, v in cf.items()},
                "firstName": first,
                "lastName": last,
                "email": email,
                "phone": phone,
                "mobile": mobile,
                "ownerId": None,
            }
        )
    return out
