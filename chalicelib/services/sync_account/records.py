"""What one Account's sync leaves behind: our state, a timeline entry, the result written back
onto the Account (its Xero sync fields), and one log line per ended sync."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from chalicelib import metrics
from chalicelib.errors import FatalError, SyncError
from chalicelib.mapping import FieldMap, PreparedContact
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncOutcome, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import zoho_shows, zoho_update
from chalicelib.services.sync_account.model import SyncDependencies, SyncRequest
from chalicelib.store.errors import StaleStateError
from chalicelib.timestamps import iso_seconds

logger = logging.getLogger(__name__)
WRITE_BACK_PENDING = (
    "Xero is up to date, but the sync result could not be written onto the Zoho Account yet; "
    "it will be on the next attempt."
)


class SyncRecords:
    def __init__(self, deps: SyncDependencies) -> None:
        self.deps = deps

    # --- how a sync ends, when it wrote nothing to Xero ----------------------------------

    def finish_unchanged(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        state: AccountState,
        prepared: PreparedContact,
    ) -> SyncOutcome:
        assert state.xero_contact_id is not None
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=SyncStatus.SYNCED,
            action=SyncAction.UNCHANGED,
            message=messages.UNCHANGED,
            xero_contact_id=state.xero_contact_id,
            warnings=list(prepared.warnings),
        )
        self.history(request, state, SyncStatus.SYNCED, SyncAction.UNCHANGED, outcome.message)
        if not zoho_shows(account, field_map, SyncStatus.SYNCED, state.xero_contact_id):
            outcome.xero_contact_url = self.deps.links.contact_url(state.xero_contact_id)
            self.write_back(request, field_map, account, outcome, state)
        return outcome

    def finish_not_synced(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any] | None,
        state: AccountState,
        status: SyncStatus,
        error: SyncError,
    ) -> SyncOutcome:
        logger.info(
            "account not synced",
            extra={"account_id": request.account_id, "status": status.value, "reason": error.detail},
        )
        state = self.save_state(
            state, status=status, last_error=error.message, last_attempt_at=iso_seconds(self.deps.now())
        )
        self.history(request, state, status, SyncAction.NONE, error)
        outcome = SyncOutcome(
            account_id=request.account_id,
            status=status,
            action=SyncAction.NONE,
            message=error.message,
            xero_contact_id=state.xero_contact_id,
        )
        if account is not None:
            self.write_back(request, field_map, account, outcome, state, quiet=True)
        return outcome

    # --- the Account's Xero sync fields -------------------------------------------------

    def write_back(
        self,
        request: SyncRequest,
        field_map: FieldMap,
        account: dict[str, Any],
        outcome: SyncOutcome,
        state: AccountState,
        *,
        quiet: bool = False,
    ) -> None:
        contact_id = outcome.xero_contact_id
        url = outcome.xero_contact_url or (self.deps.links.contact_url(contact_id) if contact_id else None)
        fields = zoho_update(
            field_map, outcome.status, contact_id, url, state.last_synced_at, outcome.message
        )
        try:
            results = self.deps.zoho.update_accounts([{"id": request.account_id, **fields}], request.deadline)
            _raise_on_record_error(results)
        except SyncError as error:
            # Xero and our state are right; only the CRM display is behind. Say so, and let
            # the caller queue a retry (which will be an "unchanged" sync plus the write-back).
            logger.warning(
                "write-back to Zoho failed", extra={"account_id": request.account_id, "reason": error.detail}
            )
            if quiet:
                return
            outcome.warnings.append(WRITE_BACK_PENDING)
            outcome.writeback_pending = True

    # --- our state and the timeline -----------------------------------------------------

    def save_state(self, state: AccountState, **changes: Any) -> AccountState:
        try:
            return self.deps.states.save(replace(state, **changes))
        except StaleStateError:  # someone saved since we read (we hold the lock, so rare): re-read once
            fresh = self.deps.states.get(state.account_id) or AccountState(account_id=state.account_id)
            return self.deps.states.save(replace(fresh, **changes))

    def history(
        self,
        request: SyncRequest,
        state: AccountState,
        status: SyncStatus,
        action: SyncAction,
        message_or_error: str | SyncError,
        *,
        retrying: bool = False,
    ) -> None:
        if not retrying:
            _report_ended(request, action.value if status is SyncStatus.SYNCED else status.value.lower())
        if isinstance(message_or_error, SyncError):
            message = message_or_error.message + (" (will retry)" if retrying else "")
            detail = message_or_error.detail
        else:
            message, detail = message_or_error, None
        entry = HistoryEntry(
            account_id=request.account_id,
            at=iso_seconds(self.deps.now()),
            trigger=request.trigger,
            status=status,
            action=action,
            message=message,
            xero_contact_id=state.xero_contact_id,
            run_id=request.run_id,
            detail=detail,
        )
        try:
            self.deps.history.add(entry)
        except Exception:  # history is diagnostic; never fail a sync over it
            logger.exception("could not record sync history", extra={"account_id": request.account_id})


def _report_ended(request: SyncRequest, outcome: str) -> None:
    # One line per ended sync: an Account's story in the logs (docs/operations.md).
    logger.info(
        "sync ended",
        extra={
            "event": "sync_ended",
            "account_id": request.account_id,
            "outcome": outcome,
            "source": request.trigger.value,
            "run_id": request.run_id,
        },
    )
    if request.run_id is None:  # a bulk run counts its Accounts when it accounts a batch
        metrics.sync_finished(outcome, request.trigger)


def _raise_on_record_error(results: list[dict[str, Any]]) -> None:
    for result in results:
        if result.get("status") != "success":
            raise FatalError(
                "Zoho CRM refused the sync result for this Account: "
                f"{result.get('message')} ({(result.get('details') or {}).get('api_name', '')}). "
                "Check that the Xero fields exist on Accounts as described in docs/zoho-setup.md.",
                detail=str(result.get("code")),
            )
