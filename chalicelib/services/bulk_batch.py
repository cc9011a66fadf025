"""A bulk batch's I/O around its decisions: each Account's way through the batch (`Work`),
reading the batch from Zoho (two COQL queries), and, once Xero has answered, the batched
writes of what happened (states, history, the Zoho write-back).

The decisions are made in `services/sync/decide.py`; the batch runs in `bulk_sync.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.errors import RateLimitedError, SyncError
from chalicelib.mapping import FieldMap, PreparedContact
from chalicelib.models.runs import Run, RunAccount
from chalicelib.models.sync import AccountState, HistoryEntry
from chalicelib.services.sync.decide import Decision
from chalicelib.store.errors import StaleStateError
from chalicelib.zoho import queries
from chalicelib.zoho.client import MAX_UPDATE_RECORDS, ZohoClient

logger = logging.getLogger(__name__)


class BulkStateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def get_many(self, account_ids: Sequence[str]) -> dict[str, AccountState]: ...
    def save_many(self, states: Sequence[AccountState]) -> list[Any]: ...
    def save(self, state: AccountState) -> AccountState: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class BulkHistoryStore(Protocol):
    def add_many(self, entries: Sequence[HistoryEntry]) -> None: ...


@dataclass
class Work:
    """One Account on its way through the batch."""

    account_id: str
    account: dict[str, Any] | None = None
    state: AccountState | None = None
    prepared: PreparedContact | None = None
    decision: Decision | None = None  # what to do in Xero (its contact: the one to update)
    outcome: RunAccount | None = None
    new_state: AccountState | None = None
    writeback: dict[str, Any] | None = None
    history: HistoryEntry | None = None
    warnings: list[str] = field(default_factory=list)
    pushed: dict[str, Any] | None = None  # the contact as Xero answered our write (the snapshot's Xero side)

    @property
    def target(self) -> str | None:
        """The Xero ContactID to update; None = create."""
        return self.decision.contact_id if self.decision else None


def read_zoho(
    zoho: ZohoClient,
    work: dict[str, Work],
    field_map: FieldMap,
    deadline: Deadline,
    preread: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Fill in each Account; return its Contacts by Account id: those a full run's range read
    already (services/zoho_pages.py), the rest in two COQL reads."""
    known = {i: preread[i] for i in work if preread and i in preread}
    for account_id, (account, _) in known.items():
        work[account_id].account = account
    ids = [i for i in work if i not in known]
    if not ids:
        return {i: linked for i, (_, linked) in known.items()}
    accounts = _coql_all(zoho, queries.accounts_by_id(field_map.account_fields(), ids), deadline)
    for account in accounts:
        if str(account.get("id")) in work:
            work[str(account["id"])].account = account
    lookup = field_map.contact_account_field
    contacts = _coql_all(
        zoho, queries.contacts_of_accounts(field_map.contact_fields(), lookup, ids), deadline
    )
    by_account: dict[str, list[dict[str, Any]]] = {}
    for contact in contacts:
        linked = contact.get(lookup)
        linked_id = linked.get("id") if isinstance(linked, dict) else linked
        by_account.setdefault(str(linked_id), []).append(contact)
    return {**by_account, **{i: linked for i, (_, linked) in known.items()}}


def _coql_all(zoho: ZohoClient, query: str, deadline: Deadline) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page, more = zoho.coql(queries.by_id_from(query, offset), deadline)
        rows.extend(page)
        if not more or not page:
            return rows
        offset += len(page)


@dataclass
class BatchRecorder:
    zoho: ZohoClient
    states: BulkStateStore
    history: BulkHistoryStore
    now: Callable[[], datetime]

    def record(self, run: Run, items: list[Work], deadline: Deadline, final_attempt: bool) -> None:
        self._save_states([i for i in items if i.new_state is not None])
        entries = [i.history for i in items if i.history is not None]
        if entries:
            try:
                self.history.add_many(entries)
            except Exception:  # history is diagnostic; never fail a batch over it
                logger.exception("could not record sync history for a batch", extra={"run_id": run.run_id})
        self._write_back(run, [i for i in items if i.writeback is not None], deadline, final_attempt)

    def _save_states(self, items: list[Work]) -> None:
        if not items:
            return
        results = self.states.save_many([i.new_state for i in items if i.new_state is not None])
        for item, result in zip(items, results, strict=True):
            if result.ok:
                continue
            # Saved meanwhile (a button click on the same Account): re-apply on the fresh copy.
            fresh = self.states.get(item.account_id) or AccountState(account_id=item.account_id)
            assert item.new_state is not None
            changes = {k: v for k, v in vars(item.new_state).items() if k not in ("account_id", "version")}
            try:
                self.states.save(replace(fresh, **changes))
            except StaleStateError:
                logger.warning(
                    "state changed twice during a batch; kept the other write",
                    extra={"account_id": item.account_id},
                )

    def _write_back(self, run: Run, items: list[Work], deadline: Deadline, final_attempt: bool) -> None:
        """Up to 100 Accounts per PUT. A failed PUT retries the batch (Xero and our state are
        already right, so the retry only writes back), except on the last attempt."""
        for start in range(0, len(items), MAX_UPDATE_RECORDS):
            chunk = items[start : start + MAX_UPDATE_RECORDS]
            records = [{"id": i.account_id, **(i.writeback or {})} for i in chunk]
            try:
                results = self.zoho.update_accounts(records, deadline)
            except SyncError as error:
                logger.warning(
                    "bulk write-back to Zoho failed", extra={"run_id": run.run_id, "reason": error.detail}
                )
                note = "Xero is up to date, but the result could not be written onto the Zoho Account yet."
                for item in chunk:
                    _add_note(item, note)
                if not final_attempt or isinstance(error, RateLimitedError):  # a pause loses nothing
                    raise
                continue
            for item, result in zip(chunk, results, strict=False):
                if result.get("status") != "success":
                    _add_note(
                        item,
                        "The result could not be written onto the Zoho Account: "
                        f"{result.get('message')} (check the Xero fields on Accounts, see docs/zoho-setup.md).",
                    )


def _add_note(item: Work, note: str) -> None:
    if item.outcome is not None and note not in item.outcome.message:
        item.outcome.message = f"{item.outcome.message} {note}"
