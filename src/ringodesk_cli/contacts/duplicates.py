"""Zoho contacts that share a phone number (left by an earlier integration or typed twice by
hand), found in the local contact index, and their merge into the oldest of each group with
``POST /contacts/{id}/merge`` (Contact.json ``mergeContacts``).

A number shared by more than ``contacts.shared_max`` contacts is a switchboard (a company's
main line, several people behind it): it is listed, never merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ringodesk_cli.contacts.index import ContactIndex
from ringodesk_cli.errors import AuthError, ZohoError, ZohoUnavailableError
from ringodesk_cli.ledger.contact_rows import IndexedContact

if TYPE_CHECKING:
    from ringodesk_cli.zoho.desk import DeskClient

SHARED_MAX = 5


@dataclass(frozen=True)
class DuplicateGroup:
    number: str
    contacts: list[IndexedContact]  # oldest first: the first survives a merge
    switchboard: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "switchboard": self.switchboard,
            "contacts": [
                {
                    "id": c.contact_id,
                    "name": c.name,
                    "phone": c.phone,
                    "mobile": c.mobile,
                    "created": c.created_time,
                    "url": c.web_url,
                }
                for c in self.contacts
            ],
        }


@dataclass(frozen=True)
class MergeOutcome:
    number: str
    survivor: str
    merged: list[str]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "survivor": self.survivor,
            "merged": self.merged,
            "error": self.error,
        }


def duplicate_groups(index: ContactIndex, shared_max: int = SHARED_MAX) -> list[DuplicateGroup]:
    return [
        DuplicateGroup(number, contacts, switchboard=len(contacts) > shared_max)
        for number, contacts in index.groups()
    ]


def merge_groups(
    desk: DeskClient, index: ContactIndex, groups: list[DuplicateGroup]
) -> list[MergeOutcome]:
    """Merge each group that is not a switchboard into its oldest contact. A group whose
    merge Zoho refuses is reported and the others go on; a contact already merged away by
    an earlier group (it shared two numbers) is left out of the later ones."""
    outcomes: list[MergeOutcome] = []
    gone: set[str] = set()
    for group in groups:
        if group.switchboard:
            continue
        members = [c.contact_id for c in group.contacts if c.contact_id not in gone]
        if len(members) < 2:
            continue
        survivor, others = members[0], members[1:]
        try:
            answer = desk.request(
                "POST",
                f"/contacts/{quote(survivor, safe='')}/merge",
                json={"ids": members},
            )
        except ZohoError as exc:
            if isinstance(exc, AuthError | ZohoUnavailableError):
                raise
            outcomes.append(MergeOutcome(group.number, survivor, [], str(exc)))
            continue
        for contact_id in others:
            index.drop(contact_id)
        index.relink(others, survivor)
        if isinstance(answer, dict) and answer.get("id") is not None:
            index.add(answer)
        gone.update(others)
        outcomes.append(MergeOutcome(group.number, survivor, others))
    return outcomes
