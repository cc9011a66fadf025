"""A Xero contact archived or restored: what its Account shows (services/sync/lifecycle.py decides).

Used by a Xero webhook event (XeroInbound.sync_contact) and a `xero_to_zoho` run's batch before
anything else is decided for a contact. Archived → under the Account's lock, ONE PUT of the
Account's `Xero_Sync_Status` ("Archived in Xero") and `Xero_Sync_Error` (what to do), our record
marked, a timeline entry; nothing else is written either way. Seen again → nothing (our record
says so). Restored (ACTIVE again while our record says archived) → the Account shows "Synced",
and the contact's changes then flow as usual. A Zoho fault raises RetriableError (tried again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from enum import StrEnum
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.mapping import FieldMap
from chalicelib.models.sync import AccountState, SyncAction, SyncStatus
from chalicelib.services.account_lock import ANOTHER_SYNC_RUNNING, account_lock
from chalicelib.services.sync import lifecycle
from chalicelib.services.sync.decide import iso_now
from chalicelib.services.sync.from_xero import account_key
from chalicelib.services.xero_merge import MergeRelinker, is_merged
from chalicelib.store.errors import StaleStateError

logger = logging.getLogger(__name__)
ARCHIVED_SUMMARY = "The Xero contact is archived: the Account shows “Archived in Xero”; nothing else synced."

FindAccount = Callable[[str, dict[str, Any], FieldMap, Deadline], "str | None"]
History = Callable[..., None]


class Lifecycle(StrEnum):
    NONE = "none"  # nothing to do here: decide the contact as usual
    ARCHIVED = "archived"  # the Account shows it archived; stop here
    RESTORED = "restored"  # the Account shows Synced again; carry on as usual
    MERGED = "merged"  # merged in Xero: the Account now holds the surviving contact; stop here


class ArchiveMirror:
    def __init__(self, deps: Any, history: History, find_account: FindAccount) -> None:
        self.deps = deps  # InboundDependencies
        self.history = history  # InboundRecords.history: a timeline entry "Change in Xero"
        self.find_account = find_account  # XeroInbound.find_account: the Account of a contact
        self.merges = MergeRelinker(deps, history)  # services/xero_merge.py

    def step(
        self, tenant_id: str, contact: dict[str, Any], deadline: Deadline
    ) -> tuple[Lifecycle, str | None]:
        """For a webhook event: archive, restore or relink (a merge) this contact's Account when due."""
        if is_merged(contact):
            account_id = self.find_account(tenant_id, contact, self.deps.field_map(), deadline)
            return (
                self.relink(tenant_id, contact, account_id, deadline) if account_id else Lifecycle.NONE
            ), account_id
        if lifecycle.is_archived(contact):
            account_id = self.find_account(tenant_id, contact, self.deps.field_map(), deadline)
            if account_id is None:  # no Account: nothing to show (archived contacts create none)
                return Lifecycle.NONE, None
            return self.apply(tenant_id, contact, account_id, deadline), account_id
        contact_id = str(contact["ContactID"]).lower()
        account_id = account_key(contact) or self.deps.states.find_account_by_xero_contact(
            tenant_id, contact_id
        )
        state = self.deps.states.get(account_id) if account_id else None
        if account_id and lifecycle.is_restored(contact, state):
            return self.apply(tenant_id, contact, account_id, deadline), account_id
        return Lifecycle.NONE, account_id

    def run_steps(
        self,
        tenant_id: str,
        pairs: list[tuple[dict[str, Any], str | None]],
        deadline: Deadline,
        *,
        dry_run: bool,
    ) -> dict[str, Lifecycle]:
        """For a run's batch (contact, its Account): ONE batched read of our records, then the
        archived and restored pairs applied one by one (rare). Keyed by ContactID."""
        states = self.deps.states.get_many([a for _, a in pairs if a])
        steps: dict[str, Lifecycle] = {}
        for contact, account_id in pairs:
            if is_merged(contact) and account_id:
                merged = (
                    Lifecycle.MERGED if dry_run else self.relink(tenant_id, contact, account_id, deadline)
                )
                steps[str(contact["ContactID"]).lower()] = merged
                continue
            archived = lifecycle.is_archived(contact)
            if not account_id or not (archived or lifecycle.is_restored(contact, states.get(account_id))):
                continue
            contact_id = str(contact["ContactID"]).lower()
            if dry_run:
                steps[contact_id] = Lifecycle.ARCHIVED if archived else Lifecycle.NONE
            else:
                steps[contact_id] = self.apply(tenant_id, contact, account_id, deadline)
        return steps

    def relink(
        self, tenant_id: str, contact: dict[str, Any], account_id: str, deadline: Deadline
    ) -> Lifecycle:
        """A merged contact's Account relinked to the survivor, under the Account's lock."""
        with self._locked(account_id, "xero-merge", deadline):
            handled = self.merges.relink(tenant_id, contact, account_id, deadline)
        return Lifecycle.MERGED if handled else Lifecycle.NONE

    def apply(
        self, tenant_id: str, contact: dict[str, Any], account_id: str, deadline: Deadline
    ) -> Lifecycle:
        """Under the Account's lock (the one every sync of it takes)."""
        with self._locked(account_id, "xero-lifecycle", deadline):
            state = self.deps.states.get(account_id) or AccountState(account_id=account_id)
            if lifecycle.is_archived(contact):
                self._archive(tenant_id, contact, state, deadline)
                return Lifecycle.ARCHIVED
            if lifecycle.is_restored(contact, state):
                self._restore(tenant_id, contact, state, deadline)
                return Lifecycle.RESTORED
            return Lifecycle.NONE

    def _locked(self, account_id: str, purpose: str, deadline: Deadline) -> AbstractContextManager[None]:
        return account_lock(
            self.deps.locks,
            account_id,
            purpose=purpose,
            deadline=deadline,
            lock_seconds=self.deps.lock_seconds,
            busy=RetriableError(ANOTHER_SYNC_RUNNING),
        )

    def _archive(
        self, tenant_id: str, contact: dict[str, Any], state: AccountState, deadline: Deadline
    ) -> None:
        contact_id = str(contact["ContactID"]).lower()
        if lifecycle.shows_archived(state, contact_id):
            return  # shown already (a redelivery, a run after the webhook, a click)
        field_map = self.deps.field_map()
        refused = self._show(state.account_id, lifecycle.archived_fields(field_map, contact), deadline)
        note = lifecycle.archived_note(str(contact.get("Name") or ""))
        self._save(state, tenant_id, contact_id, SyncStatus.ARCHIVED, note)
        self.history(state.account_id, contact_id, SyncStatus.ARCHIVED, SyncAction.NONE, refused or note)

    def _restore(
        self, tenant_id: str, contact: dict[str, Any], state: AccountState, deadline: Deadline
    ) -> None:
        contact_id = str(contact["ContactID"]).lower()
        field_map, now = self.deps.field_map(), self.deps.now()
        shown = lifecycle.restored_fields(field_map, contact_id, self.deps.contact_url(contact_id), now)
        refused = self._show(state.account_id, shown, deadline)
        self._save(state, tenant_id, contact_id, SyncStatus.SYNCED, None)
        self.history(
            state.account_id, contact_id, SyncStatus.SYNCED, SyncAction.NONE, refused or lifecycle.RESTORED
        )

    def _show(self, account_id: str, shown: dict[str, Any], deadline: Deadline) -> str | None:
        """ONE PUT of the Account's Xero fields ("trigger": []); Zoho's refusal as words, if any."""
        [answer] = self.deps.zoho.update_records("Accounts", [{"id": account_id, **shown}], deadline)
        code = str(answer.get("code") or "")
        if code == "SUCCESS":
            return None
        if code in ("", "INTERNAL_ERROR"):
            raise RetriableError("Zoho CRM could not save the change; trying again shortly.", detail=code)
        logger.warning("account status not shown in zoho", extra={"account_id": account_id, "code": code})
        return lifecycle.status_refused_message(str(shown.get(self.deps.field_map().writeback.status)), code)

    def _save(
        self, state: AccountState, tenant_id: str, contact_id: str, status: SyncStatus, error: str | None
    ) -> None:
        try:
            self.deps.states.save(
                replace(
                    state,
                    status=status,
                    last_error=error,
                    xero_contact_id=contact_id,
                    tenant_id=tenant_id,
                    last_attempt_at=iso_now(self.deps.now()),
                )
            )
        except StaleStateError:  # we hold the Account's lock, so rare: the next event sees it again
            raise RetriableError("This Account changed while we updated it; trying again shortly.") from None
