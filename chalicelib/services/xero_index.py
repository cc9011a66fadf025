"""An index of the organisation's Xero contacts, built once per bulk run.

Finding the Xero contact of 10,000 unknown Accounts one GET at a time would cost
20,000 calls, four times Xero's daily limit. Instead a run pages through every
contact (1,000 per call, archived included) once, and each batch resolves its
Accounts from this index: by ContactID, by ContactNumber (our Zoho id) and by exact
active name. It is a `ContactDirectory` for `services/sync/decide.py`, which follows
merges and judges what it finds exactly as it does for a click.

A contact created after the index was built (say by a button click during the run)
is not in it; Xero's own uniqueness rules (ContactNumber across all contacts, Name
across active ones) then refuse the duplicate, and the batch falls back to the
single-Account sync for that Account, which looks it up directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.services.sync.decide import XeroContact

# One row per contact: [ContactID, ContactNumber, Name, ContactStatus, MergedToContactID]
Row = list[Any]


def index_row(contact: dict[str, Any]) -> Row:
    return [
        contact.get("ContactID"),
        contact.get("ContactNumber") or None,
        contact.get("Name") or "",
        contact.get("ContactStatus") or "ACTIVE",
        contact.get("MergedToContactID") or None,
    ]


class XeroIndex:
    complete = False  # a snapshot: contacts created after it was taken are missing

    def __init__(self, rows: Iterable[Row]) -> None:
        self._by_id: dict[str, XeroContact] = {}
        self._by_number: dict[str, XeroContact] = {}
        self._active_by_name: dict[str, XeroContact] = {}
        for row in rows:
            contact = XeroContact(str(row[0]), row[1], str(row[2]), str(row[3]), row[4])
            self._by_id[contact.contact_id.lower()] = contact
            if contact.number:
                self._by_number[contact.number.casefold()] = contact
            if contact.status == "ACTIVE":
                self._active_by_name.setdefault(contact.name.casefold(), contact)

    def __len__(self) -> int:
        return len(self._by_id)

    def by_id(self, contact_id: str) -> XeroContact | None:
        return self._by_id.get(contact_id.lower())

    def by_number(self, number: str) -> XeroContact | None:
        return self._by_number.get(number.casefold())

    def active_by_name(self, name: str) -> XeroContact | None:
        return self._active_by_name.get(name.casefold())
