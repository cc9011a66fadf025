"""Use case: sync one batch (up to 50 Accounts) of a bulk run in a handful of calls.

Per batch: two COQL reads from Zoho (the Accounts, then all their Contacts; a full run's
Accounts come read by id range, services/zoho_pages.py), the
same validation and field map as a single sync, unchanged Accounts dropped by
content hash, Xero identities resolved from the run's index, then ONE
`POST /Contacts?summarizeErrors=false` for everything that changed, batched state
and history writes, and ONE Zoho write-back of up to 100 Accounts. A bad record is
rejected on its own; it never fails its batch.

A redelivered batch is safe: the Xero write carries an Idempotency-Key derived
from its content, the state remembers which run wrote each Account, and the run's
accounting is a conditional write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.errors import ConflictError, FatalError, RejectedError, RetriableError, SyncError
from chalicelib.mapping import FieldMap, prepare_contact
from chalicelib.models.runs import AccountResult, Run, RunAccount
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncOutcome, SyncStatus, Trigger
from chalicelib.services.bulk_batch import BatchRecorder, BulkHistoryStore, BulkStateStore, Work, read_zoho
from chalicelib.services.pair_snapshots import Push, record_pushes, with_clears
from chalicelib.services.sync.decide import Verdict, decide, iso_now, synced_record, zoho_shows, zoho_update
from chalicelib.services.sync.lifecycle import rejection_status
from chalicelib.services.sync.messages import (
    claimed_in_run_message,
    gave_up,
    not_found_message,
    rejection_from_xero,
)
from chalicelib.services.sync_account import AccountSyncer, SyncRequest
from chalicelib.services.xero_index import XeroIndex
from chalicelib.services.xero_links import XeroLinks
from chalicelib.services.xero_merge import without_taken_number
from chalicelib.services.zoho_pages import PreRead
from chalicelib.xero.client import ElementResult, XeroClient
from chalicelib.zoho.client import ZohoClient

DUPLICATE_NUMBER = "contact number"


@dataclass
class BulkDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: BulkStateStore
    history: BulkHistoryStore
    field_map: Callable[[], FieldMap]
    links: XeroLinks
    single: AccountSyncer  # for the rare Account the index cannot place
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


class BatchSyncer:
    def __init__(self, deps: BulkDependencies) -> None:
        self.deps = deps
        self.records = BatchRecorder(deps.zoho, deps.states, deps.history, deps.now)

    def sync_batch(
        self,
        run: Run,
        account_ids: Sequence[str],
        index: XeroIndex,
        deadline: Deadline,
        *,
        final_attempt: bool,
        preread: PreRead | None = None,
    ) -> list[RunAccount]:
        """Sync (or, in a dry run, assess) these Accounts (some maybe read already); one outcome
        each. Raises RetriableError (rate limits included) when the batch should be tried again."""
        field_map = self.deps.field_map()
        work = {account_id: Work(account_id) for account_id in dict.fromkeys(account_ids)}
        contacts = read_zoho(self.deps.zoho, work, field_map, deadline, preread)
        tenant_id = self.deps.xero.tenant_id(deadline)
        states = self.deps.states.get_many(list(work))
        claimed: dict[str, str] = {}  # Xero ContactID -> Account, so two Accounts never share one
        to_write: list[Work] = []
        for item in work.values():
            item.state = states.get(item.account_id) or AccountState(account_id=item.account_id)
            try:
                self._prepare(
                    run, item, contacts.get(item.account_id, []), field_map, tenant_id, index, claimed
                )
            except RejectedError as error:
                self._not_synced(run, item, field_map, rejection_status(error), error)
            if item.outcome is None:
                to_write.append(item)
        if run.dry_run:
            self._assess(run, to_write)
        else:
            self._write(run, to_write, tenant_id, deadline, final_attempt)
            self.records.record(run, list(work.values()), deadline, final_attempt)
            self._remember_pairs(tenant_id, list(work.values()), field_map)
        return [item.outcome for item in work.values() if item.outcome is not None]

    def _bodies(self, items: list[Work]) -> list[dict[str, Any]]:
        """Each Account's contact; an update also empties in Xero what was emptied in Zoho."""
        snapshots = self.deps.single.deps.snapshots
        updates = [i.account_id for i in items if i.target]
        last_synced = snapshots.get_many(updates) if snapshots is not None and updates else {}
        bodies = []
        for item in items:
            assert item.prepared is not None
            body = dict(item.prepared.xero_contact)
            if item.target:
                body = with_clears(last_synced.get(item.account_id), item.target, body, self.deps.field_map())
                body["ContactID"] = item.target
            bodies.append(body)
        return bodies

    def _remember_pairs(self, tenant_id: str, items: list[Work], field_map: FieldMap) -> None:
        """Every written pair's last synced values (echo-free Xero → Zoho), batched."""
        snapshots = self.deps.single.deps.snapshots
        pushed = [i for i in items if i.pushed is not None and i.prepared is not None]
        if snapshots is None or not pushed:
            return

        pushes = [
            Push(i.account_id, tenant_id, i.pushed or {}, p.xero_contact, p.primary_contact_id)
            for i in pushed
            if (p := i.prepared) is not None
        ]
        record_pushes(snapshots, pushes, field_map, self.deps.now())

    # --- deciding -----------------------------------------------------------

    def _prepare(
        self,
        run: Run,
        item: Work,
        contacts: list[dict[str, Any]],
        field_map: FieldMap,
        tenant_id: str,
        index: XeroIndex,
        claimed: dict[str, str],
    ) -> None:
        if item.account is None:
            raise RejectedError(not_found_message(item.account_id))
        state = item.state
        assert state is not None
        item.prepared = prepare_contact(item.account, contacts, field_map)
        item.warnings = list(item.prepared.warnings)
        item.decision = decide(item.account_id, item.prepared, state, tenant_id, index, self.deps.states)
        if item.decision.verdict is Verdict.UNCHANGED:
            self._unchanged(run, item, field_map, state)
        elif item.decision.error is not None:
            raise item.decision.error
        elif item.target:
            item.prepared = without_taken_number(item.account_id, item.prepared, item.decision.contact, index)
            owner = claimed.setdefault(item.target.lower(), item.account_id)
            if owner != item.account_id:
                raise ConflictError(claimed_in_run_message(owner))

    def _unchanged(self, run: Run, item: Work, field_map: FieldMap, state: AccountState) -> None:
        assert item.account is not None and item.decision is not None
        result = AccountResult.UNCHANGED
        if state.last_run_id == run.run_id and state.last_action in ("created", "updated"):
            result = AccountResult(state.last_action)  # a redelivered batch: report what it did
        item.outcome = self._outcome(run, item, result, item.decision.message, state.xero_contact_id)
        if not run.dry_run and not zoho_shows(
            item.account, field_map, SyncStatus.SYNCED, state.xero_contact_id
        ):
            item.writeback = self._writeback(field_map, SyncStatus.SYNCED, state, None)

    def _assess(self, run: Run, items: list[Work]) -> None:
        """Dry run: say what would happen, write nothing."""
        for item in items:
            assert item.decision is not None
            result = AccountResult.CREATED if item.target is None else AccountResult.UPDATED
            item.outcome = self._outcome(run, item, result, item.decision.dry_run_message, item.target)

    # --- writing ------------------------------------------------------------

    def _write(
        self, run: Run, items: list[Work], tenant_id: str, deadline: Deadline, final_attempt: bool
    ) -> None:
        try:
            fallback = self._write_to_xero(run, items, tenant_id, deadline)
        except RetriableError as error:
            if not final_attempt:
                raise
            # Out of attempts: only the Accounts that needed Xero failed; the rejected
            # and unchanged ones keep their own outcome.
            for item in items:
                self._not_synced(run, item, self.deps.field_map(), SyncStatus.FAILED, gave_up(error))
            fallback = []
        self._fall_back(run, fallback, deadline, final_attempt)

    def _write_to_xero(self, run: Run, items: list[Work], tenant_id: str, deadline: Deadline) -> list[Work]:
        """One POST for every changed Account; returns those to hand to the single sync."""
        if not items:
            return []
        key = _batch_key(tenant_id, items)
        try:
            results = self.deps.xero.save_contacts(
                self._bodies(items), idempotency_key=key, deadline=deadline
            )
        except FatalError as error:  # Xero refused the request as a whole
            for item in items:
                self._not_synced(run, item, self.deps.field_map(), SyncStatus.FAILED, error)
            return []
        if len(results) != len(items):
            raise FatalError(
                "Xero answered a batch of contacts with a different number of results.",
                detail=f"sent {len(items)}, got {len(results)}",
            )
        fallback = []
        for item, result in zip(items, results, strict=True):
            if result.ok:
                self._synced(run, item, tenant_id, result)
            elif item.target is None and any(DUPLICATE_NUMBER in m.lower() for m in result.errors):
                fallback.append(item)  # someone created it since the index was built
            else:
                assert item.prepared is not None
                self._not_synced(
                    run,
                    item,
                    self.deps.field_map(),
                    SyncStatus.REJECTED,
                    rejection_from_xero(result.errors, item.prepared.xero_contact.get("Name")),
                )
        return fallback

    def _synced(self, run: Run, item: Work, tenant_id: str, result: ElementResult) -> None:
        assert item.prepared is not None and item.state is not None and item.decision is not None
        action, message = item.decision.action, item.decision.message
        contact_id = str(result.contact_id)
        synced = synced_record(contact_id, tenant_id, item.prepared, self.deps.now())
        item.new_state = replace(item.state, **synced, last_run_id=run.run_id, last_action=action.value)
        item.pushed = dict(result.contact)  # the pair's last synced values: see sync_batch
        item.warnings += result.warnings
        item.outcome = self._outcome(run, item, AccountResult(action.value), message, contact_id)
        item.history = self._history(run, item, SyncStatus.SYNCED, action, message, contact_id)
        item.writeback = self._writeback(self.deps.field_map(), SyncStatus.SYNCED, item.new_state, None)

    def _not_synced(
        self, run: Run, item: Work, field_map: FieldMap, status: SyncStatus, error: SyncError
    ) -> None:
        state = item.state or AccountState(account_id=item.account_id)
        result = AccountResult.FAILED if status is SyncStatus.FAILED else AccountResult.REJECTED
        item.outcome = self._outcome(run, item, result, error.message, state.xero_contact_id)
        if run.dry_run or item.account is None:
            return
        item.new_state = replace(
            state, status=status, last_error=error.message, last_attempt_at=iso_now(self.deps.now())
        )
        item.history = self._history(
            run, item, status, SyncAction.NONE, error.message, state.xero_contact_id, error
        )
        if not zoho_shows(item.account, field_map, status, state.xero_contact_id, error.message):
            item.writeback = self._writeback(field_map, status, state, error.message)

    def _fall_back(self, run: Run, items: list[Work], deadline: Deadline, final_attempt: bool) -> None:
        for item in items:
            outcome = self.deps.single.sync(
                SyncRequest(
                    account_id=item.account_id,
                    trigger=Trigger.RUN,
                    deadline=deadline,
                    run_id=run.run_id,
                    final_attempt=final_attempt,
                )
            )
            item.outcome = _from_single(run, outcome, item)

    # --- shaping ------------------------------------------------------------

    def _writeback(
        self, field_map: FieldMap, status: SyncStatus, state: AccountState, error: str | None
    ) -> dict[str, Any]:
        contact_id = state.xero_contact_id
        url = self.deps.links.contact_url(contact_id) if contact_id else None
        return zoho_update(field_map, status, contact_id, url, state.last_synced_at, error)

    def _outcome(
        self, run: Run, item: Work, result: AccountResult, message: str, contact_id: str | None
    ) -> RunAccount:
        name = None
        if item.account is not None:
            name = item.account.get(self.deps.field_map().account_name_field)
        if item.warnings and not result.is_problem:
            message = message + " " + " ".join(item.warnings)
        return RunAccount(
            run_id=run.run_id,
            account_id=item.account_id,
            result=result,
            message=message,
            account_name=str(name) if name else None,
            xero_contact_id=contact_id,
            at=iso_now(self.deps.now()),
        )

    def _history(
        self,
        run: Run,
        item: Work,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        contact_id: str | None,
        error: SyncError | None = None,
    ) -> HistoryEntry:
        return HistoryEntry(
            account_id=item.account_id,
            at=iso_now(self.deps.now()),
            trigger=Trigger.RUN,
            status=status,
            action=action,
            message=message,
            xero_contact_id=contact_id,
            run_id=run.run_id,
            detail=error.detail if error else None,
        )


def _batch_key(tenant_id: str, items: list[Work]) -> str:
    parts = sorted(
        f"{i.account_id}:{i.target or 'new'}:{i.prepared.content_hash if i.prepared else ''}" for i in items
    )
    return hashlib.sha256(("|".join([tenant_id, *parts])).encode()).hexdigest()


def single_result(outcome: SyncOutcome) -> AccountResult:
    """How a run counts an Account it synced on its own: as a batch counts it (_not_synced)."""
    if outcome.status is SyncStatus.SYNCED:
        synced = outcome.action in (SyncAction.CREATED, SyncAction.UPDATED, SyncAction.UNCHANGED)
        return AccountResult(outcome.action.value) if synced else AccountResult.UPDATED
    # Rejected, archived in Xero, a held conflict: a person has something to do. Failed: retry.
    return AccountResult.FAILED if outcome.status is SyncStatus.FAILED else AccountResult.REJECTED


def _from_single(run: Run, outcome: SyncOutcome, item: Work) -> RunAccount:
    name = (item.prepared.xero_contact.get("Name") if item.prepared else None) or None
    return RunAccount(
        run_id=run.run_id,
        account_id=item.account_id,
        result=single_result(outcome),
        message=outcome.message,
        account_name=name,
        xero_contact_id=outcome.xero_contact_id,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
