"""The live `ContactDirectory`: Xero itself, one GET per question (a click, the preview).

A bulk run asks its index instead (`services/xero_index.py`), which costs no call at all.
"""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.services.sync.decide import XeroContact


class XeroReader(Protocol):
    def get_contact(self, key: str, deadline: Deadline) -> dict[str, Any] | None: ...
    def find_active_by_name(self, name: str, deadline: Deadline) -> list[dict[str, Any]]: ...


class LiveDirectory:
    complete = True  # Xero answers for every contact, archived ones included

    def __init__(self, xero: XeroReader, deadline: Deadline) -> None:
        self.xero = xero
        self.deadline = deadline

    def by_id(self, contact_id: str) -> XeroContact | None:
        return self._get(contact_id)

    def by_number(self, number: str) -> XeroContact | None:
        return self._get(number)  # Xero's GET /Contacts/{key} takes a ContactID or a ContactNumber

    def active_by_name(self, name: str) -> XeroContact | None:
        for contact in self.xero.find_active_by_name(name, self.deadline):
            if str(contact.get("Name", "")).casefold() == name.casefold():
                return XeroContact.from_xero(contact)
        return None

    def _get(self, key: str) -> XeroContact | None:
        contact = self.xero.get_contact(key, self.deadline)
        return XeroContact.from_xero(contact) if contact is not None else None
