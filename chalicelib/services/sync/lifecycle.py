"""A linked pair's life in Xero, decided without I/O: archived, restored (and its words).

An ARCHIVED Xero contact stops the pair: its Account shows `Xero_Sync_Status` "Archived in
Xero" and nothing else is written either way (a Zoho → Xero sync refuses it, `decide.refusal`;
a change from Xero is not brought in). Restored in Xero (ACTIVE again), the Account shows its
normal status again and the pair syncs as before. A merged contact (archived, with
`MergedToContactID`) is not "archived" here: its Account follows the surviving contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.errors import ArchivedInXeroError, SyncError
from chalicelib.mapping import FieldMap
from chalicelib.models.sync import AccountState, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import ARCHIVED, iso_now, zoho_update

RESTORED = "The Xero contact was restored in Xero; this Account syncs with it again."


def archived_note(name: str) -> str:
    """The timeline's words when Xero archives the Account's contact."""
    return (
        f"The Xero contact “{name}” was archived in Xero, so nothing syncs either way for now. "
        "Restore it in Xero (Contacts › Archived › Restore) to sync again, or untick Add to Xero."
    )


def rejection_status(error: SyncError) -> SyncStatus:
    """What `Xero_Sync_Status` shows for a refusal: "Archived in Xero" for an archived contact."""
    return SyncStatus.ARCHIVED if isinstance(error, ArchivedInXeroError) else SyncStatus.REJECTED


def is_archived(contact: Mapping[str, Any]) -> bool:
    """Archived in Xero by a person (a merged contact is archived too, but follows its survivor)."""
    return str(contact.get("ContactStatus") or "") == ARCHIVED and not contact.get("MergedToContactID")


def is_restored(contact: Mapping[str, Any], state: AccountState | None) -> bool:
    """Active again in Xero while our record still says it is archived."""
    return state is not None and state.status is SyncStatus.ARCHIVED and not is_archived(contact)


def shows_archived(state: AccountState | None, contact_id: str) -> bool:
    """The Account already shows this contact as archived (a redelivery writes nothing)."""
    return (
        state is not None
        and state.status is SyncStatus.ARCHIVED
        and (state.xero_contact_id or "").lower() == contact_id.lower()
    )


def archived_fields(field_map: FieldMap, contact: Mapping[str, Any]) -> dict[str, Any]:
    """The Account's Xero fields while its contact is archived: the status and what to do."""
    message = messages.archived_message(str(contact.get("Name") or ""))
    return zoho_update(field_map, SyncStatus.ARCHIVED, None, None, None, message)  # the link stays


def restored_fields(field_map: FieldMap, contact_id: str, url: str | None, at: datetime) -> dict[str, Any]:
    """The Account's Xero fields once its contact is active again: Synced, the error cleared."""
    return zoho_update(field_map, SyncStatus.SYNCED, contact_id, url, iso_now(at), None)


def status_refused_message(status: str, code: str) -> str:
    """Zoho CRM would not take the status (e.g. the pick list lacks the value): what to fix."""
    return (
        f"Zoho CRM refused to show “{status}” in Xero Sync Status on this Account ({code}). "
        f"Add “{status}” to the Xero Sync Status pick list (Setup › Modules and Fields › Accounts); "
        "then click Sync to Xero on the Account to show it."
    )


def deleted_archived_note(name: str) -> str:
    """The timeline's words once a deleted Account's Xero contact is archived."""
    return (
        f"The Account was deleted in Zoho CRM, so its Xero contact “{name}” was archived in Xero. "
        "Deleted by mistake? Restore the Account from Zoho CRM's recycle bin and the contact in Xero "
        "(Contacts › Archived › Restore), then click Sync to Xero."
    )


def deleted_refused_note(name: str, errors: list[str]) -> str:
    """The timeline's words when Xero will not archive a deleted Account's contact."""
    reason = "; ".join(e.rstrip(". ") for e in errors) or "no reason given"
    return (
        f"The Account was deleted in Zoho CRM, but Xero would not archive its contact “{name}” "
        f"({reason}). Archive it in Xero yourself (Contacts › select it › Archive) once Xero allows, "
        "or keep it if it is still in use."
    )
