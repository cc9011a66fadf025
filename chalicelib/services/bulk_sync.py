"""Use case: sync one batch (up to 50 Accounts) of a bulk run in a handful of calls.

Per batch: two COQL reads from Zoho (the Accounts, then all their Contacts), the
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
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.errors import ConflictError, FatalError, RejectedError, RetriableError, SyncError
from chalicelib.mapping import FieldMap, PreparedContact, prepare_contact, writeback_fields
from chalicelib.models.runs import AccountResult, Run, RunAccount
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncOutcome, SyncStatus, Trigger
from chalicelib.services.sync_account import (
    AccountSyncer,
    SyncRequest,
    name_conflict_message,
    not_found_message,
    rejection_from_xero,
    zoho_datetime,
)
from chalicelib.services.xero_index import IndexedContact, XeroIndex
from chalicelib.services.xero_links import XeroLinks
from chalicelib.store.errors import StaleStateError
from chalicelib.xero.client import ElementResult, XeroClient
from chalicelib.zoho import coql
from chalicelib.zoho.client import MAX_UPDATE_RECORDS, ZohoClient

logger = logging.getLogger(__name__)

COQL_PAGE = 2000
DUPLICATE_NUMBER = "contact number"


class BulkStateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def get_many(self, account_ids: Sequence[str]) -> dict[str, AccountState]: ...
    def save_many(self, states: Sequence[AccountState]) -> list[Any]: ...
    def save(self, state: AccountState) -> AccountState: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class BulkHistoryStore(Protocol):
    def add_many(self, entries: Sequence[HistoryEntry]) -> None: ...


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


@dataclass
class _Work:
    """One Account on its way through the batch."""

    account_id: str
    account: dict[str, Any] | None = None
    state: AccountState | None = None
    prepared: PreparedContact | None = None
    target: str | None = None  # Xero ContactID to update; None = create
    adopted: bool = False
    outcome: RunAccount | None = None
    new_state: AccountState | None = None
    writeback: dict[str, Any] | None = None
    history: HistoryEntry | None = None
    warnings: list[str] = field(default_factory=list)


class BatchSyncer:
    def __init__(self, deps: BulkDependencies) -> None:
        self.deps = deps

    def sync_batch(
        self,
        run: Run,
        account_ids: Sequence[str],
        index: XeroIndex,
        deadline: Deadline,
        *,
        final_attempt: bool,
    ) -> list[RunAccount]:
        """Sync (or, in a dry run, assess) these Accounts; one outcome each.

        Raises RetriableError (rate limits included) when the batch should be tried again.
        """
        field_map = self.deps.field_map()
        work = {account_id: _Work(account_id) for account_id in dict.fromkeys(account_ids)}
        contacts = self._read_zoho(list(work), work, field_map, deadline)
        tenant_id = self.deps.xero.tenant_id(deadline)
        states = self.deps.states.get_many(list(work))
        claimed: dict[str, str] = {}  # Xero ContactID -> Account, so two Accounts never share one
        to_write: list[_Work] = []
        for item in work.values():
            item.state = states.get(item.account_id) or AccountState(account_id=item.account_id)
            try:
                self._prepare(
                    run, item, contacts.get(item.account_id, []), field_map, tenant_id, index, claimed
                )
            except RejectedError as error:
                self._not_synced(run, item, field_map, SyncStatus.REJECTED, error)
                continue
            if item.outcome is None:
                to_write.append(item)
        if run.dry_run:
            self._assess(run, to_write)
        else:
            try:
                fallback = self._write_to_xero(run, to_write, tenant_id, deadline)
            except RetriableError as error:
                if not final_attempt:
                    raise
                # Out of attempts: only the Accounts that needed Xero failed; the rejected
                # and unchanged ones keep their own outcome.
                for item in to_write:
                    self._not_synced(run, item, field_map, SyncStatus.FAILED, gave_up(error))
                fallback = []
            self._fall_back(run, fallback, deadline, final_attempt)
            self._record(run, list(work.values()), deadline, final_attempt)
        return [item.outcome for item in work.values() if item.outcome is not None]

    # --- reading ------------------------------------------------------------

    def _read_zoho(
        self, ids: list[str], work: dict[str, _Work], field_map: FieldMap, deadline: Deadline
    ) -> dict[str, list[dict[str, Any]]]:
        """Fill in each Account; return its Contacts by Account id (two COQL reads in all)."""
        in_ids = coql.id_list(ids)
        accounts = self._coql_all(
            coql.select(field_map.account_fields(), "Accounts", f"id in {in_ids}"), deadline
        )
        for account in accounts:
            if str(account.get("id")) in work:
                work[str(account["id"])].account = account
        lookup = field_map.contact_account_field
        contacts = self._coql_all(
            coql.select(field_map.contact_fields(), "Contacts", f"{lookup} in {in_ids}"), deadline
        )
        by_account: dict[str, list[dict[str, Any]]] = {}
        for contact in contacts:
            linked = contact.get(lookup)
            linked_id = linked.get("id") if isinstance(linked, dict) else linked
            by_account.setdefault(str(linked_id), []).append(contact)
        return by_account

    def _coql_all(self, query: str, deadline: Deadline) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            page, more = self.deps.zoho.coql(f"{query} order by id asc limit {offset}, {COQL_PAGE}", deadline)
            rows.extend(page)
            if not more or not page:
                return rows
            offset += len(page)

    # --- deciding -----------------------------------------------------------

    def _prepare(
        self,
        run: Run,
        item: _Work,
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
        if _unchanged(state, item.prepared, tenant_id):
            result = AccountResult.UNCHANGED
            if state.last_run_id == run.run_id and state.last_action in ("created", "updated"):
                result = AccountResult(state.last_action)  # a redelivered batch: report what it did
            message = "Already up to date in Xero; nothing to change."
            item.outcome = self._outcome(run, item, result, message, state.xero_contact_id)
            if not run.dry_run and not _zoho_shows(item.account, field_map, state, SyncStatus.SYNCED, None):
                item.writeback = self._writeback(field_map, SyncStatus.SYNCED, state, None)
            return
        self._resolve_target(item, tenant_id, index)
        if item.target:
            owner = claimed.setdefault(item.target.lower(), item.account_id)
            if owner != item.account_id:
                raise ConflictError(
                    f"Another Account in this run (Zoho id {owner}) matched the same Xero contact. "
                    "Xero needs contact names to be unique: rename one of the Accounts in Zoho CRM, "
                    "then sync again."
                )

    def _resolve_target(self, item: _Work, tenant_id: str, index: XeroIndex) -> None:
        state, prepared = item.state, item.prepared
        assert state is not None and prepared is not None
        if state.xero_contact_id and state.tenant_id == tenant_id:
            linked = index.by_id(state.xero_contact_id)
            if linked is None:  # created after the index was built: trust our own record
                item.target = state.xero_contact_id
                return
            item.target = _usable(linked).contact_id
            return
        by_number = index.by_number(item.account_id)
        if by_number is not None:
            item.target = _usable(by_number).contact_id
            return
        name = str(prepared.xero_contact.get("Name", ""))
        by_name = index.active_by_name(name)
        if by_name is None:
            return  # create
        linked_account = self.deps.states.find_account_by_xero_contact(tenant_id, by_name.contact_id)
        if by_name.number or (linked_account and linked_account != item.account_id):
            raise ConflictError(name_conflict_message(name, by_name.number, linked_account))
        item.target, item.adopted = by_name.contact_id, True

    def _assess(self, run: Run, items: list[_Work]) -> None:
        """Dry run: say what would happen, write nothing."""
        for item in items:
            if item.target:
                message = "Would update the Xero contact" + (
                    " (linking the existing contact with the same name)." if item.adopted else "."
                )
                item.outcome = self._outcome(run, item, AccountResult.UPDATED, message, item.target)
            else:
                item.outcome = self._outcome(
                    run, item, AccountResult.CREATED, "Would create a Xero contact.", None
                )

    # --- writing ------------------------------------------------------------

    def _write_to_xero(self, run: Run, items: list[_Work], tenant_id: str, deadline: Deadline) -> list[_Work]:
        """One POST for every changed Account; returns those to hand to the single sync."""
        if not items:
            return []
        bodies = []
        for item in items:
            assert item.prepared is not None
            body = dict(item.prepared.xero_contact)
            if item.target:
                body["ContactID"] = item.target
            bodies.append(body)
        key = _batch_key(tenant_id, items)
        try:
            results = self.deps.xero.save_contacts(bodies, idempotency_key=key, deadline=deadline)
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
                    rejection_from_xero(result, item.prepared),
                )
        return fallback

    def _synced(self, run: Run, item: _Work, tenant_id: str, result: ElementResult) -> None:
        assert item.prepared is not None and item.state is not None
        action = SyncAction.UPDATED if item.target else SyncAction.CREATED
        contact_id = str(result.contact_id)
        now = _iso(self.deps.now())
        item.new_state = replace(
            item.state,
            xero_contact_id=contact_id,
            tenant_id=tenant_id,
            content_hash=item.prepared.content_hash,
            status=SyncStatus.SYNCED,
            last_error=None,
            last_synced_at=now,
            last_attempt_at=now,
            account_name=item.prepared.xero_contact.get("Name"),
            last_run_id=run.run_id,
            last_action=action.value,
        )
        message = "Synced to Xero (created)." if action is SyncAction.CREATED else "Synced to Xero (updated)."
        if item.adopted:
            message = "Synced to Xero (updated): linked to the existing Xero contact with the same name."
        item.warnings += result.warnings
        item.outcome = self._outcome(run, item, AccountResult(action.value), message, contact_id)
        item.history = self._history(run, item, SyncStatus.SYNCED, action, message, contact_id)
        item.writeback = self._writeback(self.deps.field_map(), SyncStatus.SYNCED, item.new_state, None)

    def _not_synced(
        self, run: Run, item: _Work, field_map: FieldMap, status: SyncStatus, error: SyncError
    ) -> None:
        state = item.state or AccountState(account_id=item.account_id)
        result = AccountResult.REJECTED if status is SyncStatus.REJECTED else AccountResult.FAILED
        item.outcome = self._outcome(run, item, result, error.message, state.xero_contact_id)
        if run.dry_run or item.account is None:
            return
        item.new_state = replace(
            state, status=status, last_error=error.message, last_attempt_at=_iso(self.deps.now())
        )
        item.history = self._history(
            run, item, status, SyncAction.NONE, error.message, state.xero_contact_id, error
        )
        if not _zoho_shows(item.account, field_map, state, status, error.message):
            item.writeback = self._writeback(field_map, status, state, error.message)

    def _fall_back(self, run: Run, items: list[_Work], deadline: Deadline, final_attempt: bool) -> None:
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

    def _record(self, run: Run, items: list[_Work], deadline: Deadline, final_attempt: bool) -> None:
        self._save_states([i for i in items if i.new_state is not None])
        entries = [i.history for i in items if i.history is not None]
        if entries:
            try:
                self.deps.history.add_many(entries)
            except Exception:  # history is diagnostic; never fail a batch over it
                logger.exception("could not record sync history for a batch", extra={"run_id": run.run_id})
        self._write_back(run, [i for i in items if i.writeback is not None], deadline, final_attempt)

    def _save_states(self, items: list[_Work]) -> None:
        if not items:
            return
        results = self.deps.states.save_many([i.new_state for i in items if i.new_state is not None])
        for item, result in zip(items, results, strict=True):
            if result.ok:
                continue
            # Saved meanwhile (a button click on the same Account): re-apply on the fresh copy.
            fresh = self.deps.states.get(item.account_id) or AccountState(account_id=item.account_id)
            assert item.new_state is not None
            changes = {k: v for k, v in vars(item.new_state).items() if k not in ("account_id", "version")}
            try:
                self.deps.states.save(replace(fresh, **changes))
            except StaleStateError:
                logger.warning(
                    "state changed twice during a batch; kept the other write",
                    extra={"account_id": item.account_id},
                )

    def _write_back(self, run: Run, items: list[_Work], deadline: Deadline, final_attempt: bool) -> None:
        """Up to 100 Accounts per PUT. A failed PUT retries the batch (Xero and our state are
        already right, so the retry only writes back), except on the last attempt."""
        for start in range(0, len(items), MAX_UPDATE_RECORDS):
            chunk = items[start : start + MAX_UPDATE_RECORDS]
            records = [{"id": i.account_id, **(i.writeback or {})} for i in chunk]
            try:
                results = self.deps.zoho.update_accounts(records, deadline)
            except SyncError as error:
                logger.warning(
                    "bulk write-back to Zoho failed", extra={"run_id": run.run_id, "reason": error.detail}
                )
                note = "Xero is up to date, but the result could not be written onto the Zoho Account yet."
                for item in chunk:
                    _add_note(item, note)
                if not final_attempt:
                    raise
                continue
            for item, result in zip(chunk, results, strict=False):
                if result.get("status") != "success":
                    _add_note(
                        item,
                        "The result could not be written onto the Zoho Account: "
                        f"{result.get('message')} (check the Xero fields on Accounts, see docs/zoho-setup.md).",
                    )

    # --- shaping ------------------------------------------------------------

    def _writeback(
        self, field_map: FieldMap, status: SyncStatus, state: AccountState, error: str | None
    ) -> dict[str, Any]:
        contact_id = state.xero_contact_id
        return writeback_fields(
            field_map,
            status=status.value,
            xero_contact_id=contact_id,
            xero_contact_url=self.deps.links.contact_url(contact_id) if contact_id else None,
            synced_at=zoho_datetime(state.last_synced_at) if state.last_synced_at else None,
            error=error,
        )

    def _outcome(
        self, run: Run, item: _Work, result: AccountResult, message: str, contact_id: str | None
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
            at=_iso(self.deps.now()),
        )

    def _history(
        self,
        run: Run,
        item: _Work,
        status: SyncStatus,
        action: SyncAction,
        message: str,
        contact_id: str | None,
        error: SyncError | None = None,
    ) -> HistoryEntry:
        return HistoryEntry(
            account_id=item.account_id,
            at=_iso(self.deps.now()),
            trigger=Trigger.RUN,
            status=status,
            action=action,
            message=message,
            xero_contact_id=contact_id,
            run_id=run.run_id,
            detail=error.detail if error else None,
        )


# --- helpers -------------------------------------------------------------------


def gave_up(error: RetriableError) -> RetriableError:
    """The message for Accounts left after the last attempt: what happened and what to do."""
    reason = error.message.replace(" We will try again.", "").strip()
    return RetriableError(
        f"{reason} We tried several times without success, so this Account was not synced. "
        "Use “Retry failed” on the run, or wait for the next scheduled run.",
        detail=error.detail,
    )


def _unchanged(state: AccountState, prepared: PreparedContact, tenant_id: str) -> bool:
    return (
        state.status == SyncStatus.SYNCED
        and state.xero_contact_id is not None
        and state.tenant_id == tenant_id
        and state.content_hash == prepared.content_hash
    )


def _usable(contact: IndexedContact) -> IndexedContact:
    if contact.status == "ARCHIVED":
        raise RejectedError(
            f"The Xero contact for this Account (“{contact.name}”) is archived in Xero, and we do not "
            "restore archived contacts on our own. Restore it in Xero (Contacts › Archived › Restore) "
            "and sync again, or untick Add to Xero."
        )
    if contact.status == "GDPRREQUEST":
        raise RejectedError(
            f"The Xero contact for this Account (“{contact.name}”) has a data-erasure request in Xero, "
            "so it cannot be updated. Resolve it in Xero, then sync again."
        )
    return contact


def _zoho_shows(
    account: dict[str, Any], field_map: FieldMap, state: AccountState, status: SyncStatus, error: str | None
) -> bool:
    """Does the Account already display this result (so writing it back would change nothing)?"""
    wanted_error = writeback_fields(
        field_map,
        status=status.value,
        xero_contact_id=None,
        xero_contact_url=None,
        synced_at=None,
        error=error,
    )[field_map.sync_error_field]
    return (
        account.get(field_map.sync_status_field) == status.value
        and (account.get(field_map.sync_error_field) or None) == wanted_error
        and (state.xero_contact_id is None or account.get(field_map.xero_id_field) == state.xero_contact_id)
        and (state.xero_contact_id is None or bool(account.get(field_map.xero_contact_url_field)))
    )


def _batch_key(tenant_id: str, items: list[_Work]) -> str:
    parts = sorted(
        f"{i.account_id}:{i.target or 'new'}:{i.prepared.content_hash if i.prepared else ''}" for i in items
    )
    return hashlib.sha256(("|".join([tenant_id, *parts])).encode()).hexdigest()


def _from_single(run: Run, outcome: SyncOutcome, item: _Work) -> RunAccount:
    if outcome.status is SyncStatus.SYNCED:
        result = (
            AccountResult(outcome.action.value)
            if outcome.action is not SyncAction.NONE
            else AccountResult.UPDATED
        )
    elif outcome.status is SyncStatus.REJECTED:
        result = AccountResult.REJECTED
    else:
        result = AccountResult.FAILED
    name = (item.prepared.xero_contact.get("Name") if item.prepared else None) or None
    return RunAccount(
        run_id=run.run_id,
        account_id=item.account_id,
        result=result,
        message=outcome.message,
        account_name=name,
        xero_contact_id=outcome.xero_contact_id,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _add_note(item: _Work, note: str) -> None:
    if item.outcome is not None and note not in item.outcome.message:
        item.outcome.message = f"{item.outcome.message} {note}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
