"""What Xero → Zoho CRM keeps once it wrote: the pair's snapshot, our link, the timeline."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.mapping.directions import FlowField, zoho_side, zoho_writes
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.sync.decide import iso_now
from chalicelib.services.sync.from_xero import InboundDecision, next_snapshot
from chalicelib.services.xero_inbound.model import InboundDependencies
from chalicelib.store.errors import StaleStateError
from chalicelib.store.snapshots import LinkSnapshot

logger = logging.getLogger(__name__)


class InboundRecords:
    def __init__(self, deps: InboundDependencies) -> None:
        self.deps = deps

    # --- the pair's last synced values ----------------------------------------------

    def save_snapshot(
        self,
        previous: LinkSnapshot | None,
        account_id: str,
        tenant_id: str,
        contact: dict[str, Any],
        fields: list[FlowField],
        account: dict[str, Any],
        primary: dict[str, Any] | None,
        primary_id: str | None = None,
    ) -> None:
        snapshot = next_snapshot(
            previous,
            account_id,
            tenant_id,
            contact,
            fields,
            zoho_values=zoho_side(account, primary, fields),
            primary_contact_id=primary_id or (str(primary["id"]) if primary and primary.get("id") else None),
            at=self.deps.now(),
        )
        try:
            self.deps.snapshots.save(snapshot)
        except StaleStateError:  # saved meanwhile (we hold the lock, so rare): keep the newer one
            logger.info("snapshot saved meanwhile", extra={"account_id": account_id})

    def moved_snapshot(
        self,
        snapshot: LinkSnapshot,
        tenant_id: str,
        contact: dict[str, Any],
        fields: list[FlowField],
        decision: InboundDecision,
    ) -> LinkSnapshot:
        """After a run's write: the snapshot moved to what both sides now hold."""
        account, primary = zoho_writes(dict(snapshot.zoho), fields)
        account.update(decision.account_fields)
        primary.update(decision.contact_fields)
        return next_snapshot(
            snapshot,
            snapshot.account_id,
            tenant_id,
            contact,
            fields,
            zoho_values=zoho_side(account, primary, fields),
            primary_contact_id=snapshot.primary_contact_id,
            at=self.deps.now(),
        )

    # --- our link -------------------------------------------------------------------

    def link_state(
        self, account_id: str, tenant_id: str, contact_id: str, contact: dict[str, Any], now: datetime
    ) -> None:
        """Our link record (the index a Zoho → Xero sync and the next event find the pair by)."""
        state = self.deps.states.get(account_id) or AccountState(account_id=account_id)
        if state.xero_contact_id == contact_id and state.tenant_id == tenant_id:
            return
        try:
            self.deps.states.save(
                replace(
                    state,
                    xero_contact_id=contact_id,
                    tenant_id=tenant_id,
                    account_name=contact.get("Name") or state.account_name,
                    last_attempt_at=iso_now(now),
                )
            )
        except StaleStateError:
            logger.info("account state saved meanwhile", extra={"account_id": account_id})

    # --- the Account's timeline -------------------------------------------------------

    def history(
        self,
        account_id: str,
        contact_id: str,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        detail: str | None = None,
        *,
        run_id: str | None = None,
    ) -> None:
        self.deps.history.add(
            self.history_entry(account_id, contact_id, status, action, message, detail, run_id=run_id)
        )

    def history_entry(
        self,
        account_id: str,
        contact_id: str,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        detail: str | None = None,
        *,
        run_id: str | None = None,
    ) -> HistoryEntry:
        """A timeline entry of a change from Xero (trigger "Change in Xero")."""
        return HistoryEntry(
            account_id=account_id,
            at=iso_now(self.deps.now()),
            trigger=Trigger.XERO,
            status=status,
            action=action,
            message=message,
            xero_contact_id=contact_id,
            detail=detail,
            run_id=run_id,
        )
