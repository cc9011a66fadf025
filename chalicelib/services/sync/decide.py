"""Every decision of a Zoho CRM → Xero sync, in one place and without I/O.

A click, a bulk run's batch and the portal's preview all ask the same questions of one
Account, and all answer them here:

- Is it unchanged? (same content hash, same organisation, last sync succeeded) → no Xero call.
- Which Xero contact is it? The stored ContactID, else the contact whose ContactNumber is
  the Zoho Account id, else an active contact of the same name that nobody owns (adopted);
  else a new one. Merges are followed to the surviving contact (at most MAX_MERGE_HOPS).
- May we write to it? Not when it is ARCHIVED or has a GDPRREQUEST, nor when the same-name
  contact has a Contact Code or is linked to another Account (a conflict).
- What does the Account in Zoho show afterwards, and is it showing that already?

Xero is read through a `ContactDirectory`: the live client for a click and the preview
(`services/sync/directory.py`), the run's index for a batch (`services/xero_index.py`).
Our own links (which Account holds which contact) come through a `LinkBook`, the state
table. The functions here call nothing else; the callers do the reading and the writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.errors import ArchivedInXeroError, ConflictError, RejectedError
from chalicelib.mapping import FieldMap, PreparedContact, writeback_fields
from chalicelib.models.sync import AccountState, SyncAction, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.timestamps import iso_seconds

MAX_MERGE_HOPS = 5
ACTIVE, ARCHIVED, ERASURE_REQUESTED = "ACTIVE", "ARCHIVED", "GDPRREQUEST"
# services/bulk_sync.py still imports this name; the one definition is chalicelib.timestamps'.
iso_now = iso_seconds


@dataclass(frozen=True)
class XeroContact:
    """What a decision needs to know of one Xero contact."""

    contact_id: str
    number: str | None = None  # ContactNumber: our Zoho Account id once we own it
    name: str = ""
    status: str = ACTIVE
    merged_to: str | None = None
    # The whole contact as Xero sent it, when it was read live (the preview compares it).
    body: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_xero(cls, contact: Mapping[str, Any]) -> XeroContact:
        return cls(
            contact_id=str(contact.get("ContactID")),
            number=contact.get("ContactNumber") or None,
            name=str(contact.get("Name") or ""),
            status=str(contact.get("ContactStatus") or ACTIVE),
            merged_to=contact.get("MergedToContactID") or None,
            body=contact,
        )


class ContactDirectory(Protocol):
    """Where decisions look Xero contacts up. `complete` is False for a snapshot (a run's
    index), where a contact missing may simply have been created after it was taken."""

    @property
    def complete(self) -> bool: ...
    def by_id(self, contact_id: str) -> XeroContact | None: ...
    def by_number(self, number: str) -> XeroContact | None: ...
    def active_by_name(self, name: str) -> XeroContact | None: ...


class LinkBook(Protocol):
    """Our own records of which Account holds which Xero contact."""

    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class Verdict(StrEnum):
    CREATE = "create"  # a new Xero contact
    UPDATE = "update"  # the Account's own contact (found by id, merge or Contact Code)
    ADOPT = "adopt"  # an active same-name contact with no Contact Code becomes the Account's
    UNCHANGED = "unchanged"  # nothing changed in Zoho since the last sync: no Xero call
    REJECTED = "rejected"  # Xero's side stops it; `error` says what to do


_ACTIONS = {
    Verdict.CREATE: SyncAction.CREATED,
    Verdict.UPDATE: SyncAction.UPDATED,
    Verdict.ADOPT: SyncAction.UPDATED,
    Verdict.UNCHANGED: SyncAction.UNCHANGED,
    Verdict.REJECTED: SyncAction.NONE,
}
_DONE = {
    Verdict.CREATE: messages.CREATED,
    Verdict.UPDATE: messages.UPDATED,
    Verdict.ADOPT: messages.ADOPTED,
    Verdict.UNCHANGED: messages.UNCHANGED,
}
_WOULD = {
    Verdict.CREATE: messages.WOULD_CREATE,
    Verdict.UPDATE: messages.WOULD_UPDATE,
    Verdict.ADOPT: messages.WOULD_ADOPT,
    Verdict.UNCHANGED: messages.UNCHANGED,
}


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    contact: XeroContact | None = None  # written to, or refused; None with CREATE
    error: RejectedError | None = None  # set exactly when REJECTED

    @property
    def contact_id(self) -> str | None:
        return self.contact.contact_id if self.contact else None

    @property
    def action(self) -> SyncAction:
        return _ACTIONS[self.verdict]

    @property
    def message(self) -> str:
        """What the sync says once it has done this."""
        return self.error.message if self.error else _DONE[self.verdict]

    @property
    def dry_run_message(self) -> str:
        return self.error.message if self.error else _WOULD[self.verdict]

    def preview_rejection(self) -> str:
        """The rejection as the preview words it (of a sync still to come)."""
        assert self.error is not None
        if self.contact is not None and self.contact.status == ARCHIVED:
            return messages.archived_message(self.contact.name, preview=True)
        return self.error.message


def decide(
    account_id: str,
    prepared: PreparedContact,
    state: AccountState,
    tenant_id: str,
    directory: ContactDirectory,
    links: LinkBook,
) -> Decision:
    """What a sync of this Account (valid, and mapped to `prepared`) does in Xero."""
    if is_unchanged(state, prepared.content_hash, tenant_id):
        assert state.xero_contact_id is not None
        return Decision(Verdict.UNCHANGED, XeroContact(state.xero_contact_id))
    stored = _stored_contact(state, tenant_id, directory)
    if stored is not None:
        return _update(stored, directory)
    by_number = directory.by_number(account_id)
    if by_number is not None:
        return _update(by_number, directory)
    name = str(prepared.xero_contact.get("Name", ""))
    return _by_name(account_id, name, tenant_id, directory, links)


def is_unchanged(state: AccountState, content_hash: str, tenant_id: str) -> bool:
    """The last sync succeeded into this organisation with exactly this content."""
    return (
        state.status == SyncStatus.SYNCED
        and state.xero_contact_id is not None
        and state.tenant_id == tenant_id
        and state.content_hash == content_hash
    )


def follow_merges(contact: XeroContact, directory: ContactDirectory) -> XeroContact:
    """The surviving contact of a merge (Xero keeps the loser, archived, pointing at it)."""
    for _ in range(MAX_MERGE_HOPS):
        if not contact.merged_to or contact.merged_to.lower() == contact.contact_id.lower():
            break
        survivor = directory.by_id(contact.merged_to)
        if survivor is None:
            break
        contact = survivor
    return contact


def refusal(contact: XeroContact) -> RejectedError | None:
    """Why we may not write to this contact, if we may not."""
    if contact.status == ARCHIVED:
        return ArchivedInXeroError(messages.archived_message(contact.name))
    if contact.status == ERASURE_REQUESTED:
        return RejectedError(messages.erasure_message(contact.name))
    return None


def _stored_contact(state: AccountState, tenant_id: str, directory: ContactDirectory) -> XeroContact | None:
    if not state.xero_contact_id or state.tenant_id != tenant_id:
        return None
    found = directory.by_id(state.xero_contact_id)
    if found is None and not directory.complete:
        return XeroContact(state.xero_contact_id)  # created after the snapshot: trust our record
    return found


def _update(contact: XeroContact, directory: ContactDirectory) -> Decision:
    survivor = follow_merges(contact, directory)
    error = refusal(survivor)
    return Decision(Verdict.REJECTED if error else Verdict.UPDATE, survivor, error)


def _by_name(
    account_id: str, name: str, tenant_id: str, directory: ContactDirectory, links: LinkBook
) -> Decision:
    same = directory.active_by_name(name)
    if same is None:
        return Decision(Verdict.CREATE)
    owner = links.find_account_by_xero_contact(tenant_id, same.contact_id)
    if same.number or (owner and owner != account_id):
        conflict = ConflictError(messages.name_conflict_message(name, same.number, owner))
        return Decision(Verdict.REJECTED, same, conflict)
    return Decision(Verdict.ADOPT, same)


def synced_record(
    contact_id: str, tenant_id: str, prepared: PreparedContact, now: datetime
) -> dict[str, Any]:
    """What our state records about an Account once Xero has accepted it."""
    at = iso_seconds(now)
    return {
        "xero_contact_id": contact_id,
        "tenant_id": tenant_id,
        "content_hash": prepared.content_hash,
        "status": SyncStatus.SYNCED,
        "last_error": None,
        "last_synced_at": at,
        "last_attempt_at": at,
        "account_name": prepared.xero_contact.get("Name"),
    }


# --- what the Account in Zoho shows ----------------------------------------------------


def zoho_update(
    field_map: FieldMap,
    status: SyncStatus,
    contact_id: str | None,
    contact_url: str | None,
    last_synced_at: str | None,
    error: str | None,
) -> dict[str, Any]:
    """The write-back fields for the Account after an attempt (link fields left out when None)."""
    return writeback_fields(
        field_map,
        status=status.value,
        xero_contact_id=contact_id,
        xero_contact_url=contact_url,
        synced_at=zoho_datetime(last_synced_at) if last_synced_at else None,
        error=None if status is SyncStatus.SYNCED else error,
    )


def zoho_shows(
    account: Mapping[str, Any],
    field_map: FieldMap,
    status: SyncStatus,
    contact_id: str | None,
    error: str | None = None,
) -> bool:
    """Does the Account already display this result (so writing it back would change nothing)?"""
    names = field_map.writeback
    wanted_error = zoho_update(field_map, status, None, None, None, error)[names.error]
    return (
        account.get(names.status) == status.value
        and (account.get(names.error) or None) == wanted_error
        and (contact_id is None or account.get(names.xero_id) == contact_id)
        and (contact_id is None or bool(account.get(names.contact_url)))
    )


def zoho_datetime(iso: str) -> str:
    """Zoho wants ISO 8601 with an offset and no fractional seconds."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
