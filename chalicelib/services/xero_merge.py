"""A Xero contact merged into another (`MergedToContactID`): its Account relinked to the survivor.

Xero keeps the merged contact, archived, pointing at the survivor. An archived contact keeps its
Contact Code (ContactNumber), which no other contact may then take, and Xero refuses every update
to an archived contact (restoring it would undo the archive of the merge). So the Zoho Account id
cannot move to the survivor as its code: the Account is linked to the survivor by its ContactID
(our record and the Account's Xero ID), and the Account says so in plain words. A sync from Zoho
then writes to the survivor without a Contact Code (`number_held_elsewhere`).

Found by the loser's webhook event and by a `xero_to_zoho` run (both pass the loser here before
anything else is decided); a click follows merges on its own (`decide.follow_merges`, reused
here). A survivor another Account already holds is a duplicate a person must sort out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.mapping import PreparedContact
from chalicelib.models.sync import AccountState, SyncAction, SyncStatus
from chalicelib.services.sync.decide import ContactDirectory, XeroContact, follow_merges, zoho_update
from chalicelib.services.sync.directory import LiveDirectory
from chalicelib.store.errors import StaleStateError
from chalicelib.timestamps import iso_seconds

logger = logging.getLogger(__name__)
MERGED_SUMMARY = "The Xero contact was merged into another; the Account is linked to the surviving contact."


def is_merged(contact: Mapping[str, Any]) -> bool:
    merged_to = str(contact.get("MergedToContactID") or "").lower()
    return bool(merged_to) and merged_to != str(contact.get("ContactID") or "").lower()


def number_held_elsewhere(account_id: str, target: XeroContact | None, directory: ContactDirectory) -> bool:
    """Before a sync from Zoho writes to `target`: another contact (a merged, archived one) keeps
    the Account id as its Contact Code, so the write must leave ContactNumber out (link by
    ContactID). Asks Xero only when the target does not carry the code already."""
    if target is None or (target.number or "") == account_id:
        return False
    holder = directory.by_number(account_id)
    return holder is not None and holder.contact_id.lower() != target.contact_id.lower()


def without_taken_number(
    account_id: str, prepared: PreparedContact, target: XeroContact | None, directory: ContactDirectory
) -> PreparedContact:
    """The prepared contact to send to `target`: without ContactNumber when a merged contact keeps it."""
    if not number_held_elsewhere(account_id, target, directory):
        return prepared
    body = {k: v for k, v in prepared.xero_contact.items() if k != "ContactNumber"}
    return replace(prepared, xero_contact=body)


def relinked_note(loser: str, survivor: str) -> str:
    return (
        f"The Xero contact “{loser}” was merged into “{survivor}” in Xero, so this Account now syncs "
        f"with “{survivor}”. It is linked by its Xero ID: Xero keeps the merged contact archived "
        "with this Account's Contact Code, which no other contact can take. Nothing to do."
    )


def held_elsewhere_note(loser: str, survivor: str, owner: str) -> str:
    return (
        f"The Xero contact “{loser}” was merged into “{survivor}” in Xero, but “{survivor}” is linked "
        f"to another Zoho Account ({owner}). If both Accounts are the same customer, merge them in "
        "Zoho CRM; if not, undo the merge in Xero (restore the archived contact)."
    )


class MergeRelinker:
    def __init__(self, deps: Any, history: Any) -> None:
        self.deps = deps  # InboundDependencies
        self.history = history  # InboundRecords.history (services/xero_inbound/records.py)

    def relink(self, tenant_id: str, contact: dict[str, Any], account_id: str, deadline: Deadline) -> bool:
        """Relink the Account of a merged contact to the survivor; True when it is handled
        (relinked now or before, or refused), False when the survivor cannot be read."""
        directory = LiveDirectory(self.deps.xero, deadline)
        loser = XeroContact.from_xero(contact)
        survivor = follow_merges(loser, directory)
        if survivor.contact_id.lower() == loser.contact_id.lower():
            return False
        state = self.deps.states.get(account_id) or AccountState(account_id=account_id)
        if (state.xero_contact_id or "").lower() == survivor.contact_id.lower():
            return True  # relinked already (a redelivery, a run after the webhook)
        owner = self.deps.states.find_account_by_xero_contact(tenant_id, survivor.contact_id)
        if owner and owner != account_id:
            self._refuse(state, loser, survivor, owner, deadline)
            return True
        self._relink(state, tenant_id, loser, survivor, deadline)
        return True

    def _relink(
        self,
        state: AccountState,
        tenant_id: str,
        loser: XeroContact,
        survivor: XeroContact,
        deadline: Deadline,
    ) -> None:
        field_map, now = self.deps.field_map(), self.deps.now()
        survivor_id = survivor.contact_id.lower()
        note = relinked_note(loser.name, survivor.name)
        url = self.deps.contact_url(survivor_id)
        shown = zoho_update(field_map, SyncStatus.SYNCED, survivor_id, url, iso_seconds(now), None)
        shown[field_map.writeback.error] = note  # said on the Account until its next sync
        self._show(state.account_id, shown, deadline)
        relinked = replace(
            state,
            xero_contact_id=survivor_id,
            tenant_id=tenant_id,
            status=SyncStatus.SYNCED,
            last_error=None,
            content_hash=None,  # the next sync from Zoho writes the Account to the survivor
            last_attempt_at=iso_seconds(now),
        )
        self._save(relinked)
        self.history(state.account_id, survivor_id, SyncStatus.SYNCED, SyncAction.UPDATED, note)

    def _refuse(
        self, state: AccountState, loser: XeroContact, survivor: XeroContact, owner: str, deadline: Deadline
    ) -> None:
        field_map = self.deps.field_map()
        note = held_elsewhere_note(loser.name, survivor.name, owner)
        if state.status is SyncStatus.REJECTED and state.last_error == note:
            return
        self._show(
            state.account_id, zoho_update(field_map, SyncStatus.REJECTED, None, None, None, note), deadline
        )
        self._save(replace(state, status=SyncStatus.REJECTED, last_error=note))
        self.history(state.account_id, loser.contact_id.lower(), SyncStatus.REJECTED, SyncAction.NONE, note)

    def _show(self, account_id: str, shown: dict[str, Any], deadline: Deadline) -> None:
        [answer] = self.deps.zoho.update_records("Accounts", [{"id": account_id, **shown}], deadline)
        code = str(answer.get("code") or "")
        if code in ("", "INTERNAL_ERROR"):
            raise RetriableError("Zoho CRM could not save the change; trying again shortly.", detail=code)
        if code != "SUCCESS":  # the Account is gone or locked: our record and the timeline still say it
            logger.warning("merge not shown on the account", extra={"account_id": account_id, "code": code})

    def _save(self, state: AccountState) -> None:
        try:
            self.deps.states.save(state)
        except StaleStateError:
            raise RetriableError("This Account changed while we updated it; trying again shortly.") from None
