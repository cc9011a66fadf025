"""`xero_to_zoho` runs: the contacts Xero changed in the window, brought into Zoho CRM in batches.

Planning pages Xero's contacts with `If-Modified-Since` = the window's start (1,000 a page,
archived included) and keeps each page with the run (the pages are what the batches read: no
contact is read from Xero twice). A batch of up to 50 contacts asks services/sync/from_xero.py
about each linked pair against its stored snapshot, and writes what changed in ONE Zoho PUT of
Accounts and at most one of Contacts (`"trigger": []`). A contact with no snapshot yet, or no
Account, goes through the webhook's own path (services/xero_inbound/), one at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import FlowField, fields_to_zoho, zoho_writes
from chalicelib.models.run_plan import XeroCursor
from chalicelib.models.runs import AccountResult, Run, RunAccount
from chalicelib.models.sync import SyncAction, SyncStatus
from chalicelib.services.sync import messages
from chalicelib.services.sync.decide import iso_now
from chalicelib.services.sync.from_xero import (
    InboundDecision,
    InboundVerdict,
    account_key,
    decide_linked,
    decide_unlinked,
    shown_in_zoho,
)
from chalicelib.services.xero_archive import ARCHIVED_SUMMARY, Lifecycle
from chalicelib.services.xero_inbound import XeroInbound, ZohoRefused
from chalicelib.services.xero_merge import MERGED_SUMMARY
from chalicelib.store.runs import RunRepository, compress_index, decompress_index
from chalicelib.store.snapshots import LinkSnapshot

logger = logging.getLogger(__name__)
XERO_PAGE = 1000  # Xero's largest page

_RESULTS = {
    InboundVerdict.UPDATE: (AccountResult.UPDATED, messages.FROM_XERO_UPDATED),
    InboundVerdict.CREATE: (AccountResult.CREATED, messages.FROM_XERO_CREATED),
    InboundVerdict.ECHO: (AccountResult.UNCHANGED, "Nothing changed in Xero since the last sync."),
    InboundVerdict.STALE: (AccountResult.UNCHANGED, "Zoho CRM already has a newer version of this contact."),
    InboundVerdict.ARCHIVED: (AccountResult.UNCHANGED, ARCHIVED_SUMMARY),
}


@dataclass
class _Pair:
    """One contact of a batch on its way into Zoho."""

    contact: dict[str, Any]
    account_id: str | None = None
    snapshot: LinkSnapshot | None = None
    decision: InboundDecision | None = None
    outcome: RunAccount | None = None
    writes: dict[str, dict[str, Any]] = field(default_factory=dict)  # module -> record

    @property
    def contact_id(self) -> str:
        return str(self.contact["ContactID"]).lower()


class XeroRuns:
    def __init__(
        self,
        inbound: XeroInbound,
        runs: RunRepository,  # the run's pages of contacts
        field_map: Callable[[], FieldMap],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.inbound = inbound
        self.deps = inbound.deps
        self.runs = runs
        self.field_map = field_map
        self.now = now
        self._lock = threading.Lock()
        self._pages: tuple[str, dict[str, dict[str, Any]]] | None = None

    # --- planning ---------------------------------------------------------------

    def plan_page(
        self, run: Run, cursor: XeroCursor, deadline: Deadline
    ) -> tuple[list[str], XeroCursor | None, tuple[int, bytes] | None]:
        """One page of changed contacts: their ids to batch, the next cursor, the page to keep."""
        page = cursor.page
        if page == 1:
            self.runs.set_tenant(run.run_id, self.deps.xero.tenant_id(deadline))
        since = _xero_time(run.since) if run.since else None
        contacts = self.deps.xero.list_contacts_modified_since(since, page, deadline, page_size=XERO_PAGE)
        blob = compress_index([[c] for c in contacts])
        ids = [str(c["ContactID"]).lower() for c in contacts]
        more = XeroCursor(page=page + 1) if len(contacts) >= XERO_PAGE else None
        return ids, more, (page, blob)

    # --- a batch ----------------------------------------------------------------

    def sync_batch(
        self, run: Run, contact_ids: list[str], deadline: Deadline, *, final_attempt: bool
    ) -> list[RunAccount]:
        tenant_id = run.tenant_id or self.deps.xero.tenant_id(deadline)
        field_map = self.field_map()
        fields = fields_to_zoho(field_map)
        pairs = [_Pair(c) for c in self._contacts(run, tenant_id, contact_ids, deadline)]
        for pair in pairs:
            pair.account_id = account_key(pair.contact) or self.deps.states.find_account_by_xero_contact(
                tenant_id, pair.contact_id
            )
        snapshots = self.deps.snapshots.get_many([p.account_id for p in pairs if p.account_id])
        steps = self.inbound.archive.run_steps(
            tenant_id, [(p.contact, p.account_id) for p in pairs], deadline, dry_run=run.dry_run
        )
        for pair in pairs:
            pair.snapshot = snapshots.get(pair.account_id) if pair.account_id else None
            if steps.get(pair.contact_id) is Lifecycle.ARCHIVED:
                self._done(run, pair, InboundVerdict.ARCHIVED)
                continue
            if steps.get(pair.contact_id) is Lifecycle.MERGED:
                pair.outcome = self._outcome(run, pair, AccountResult.UPDATED, MERGED_SUMMARY)
                continue
            self._decide(run, tenant_id, pair, field_map, fields, deadline)
        if not run.dry_run:
            self._write(run, tenant_id, [p for p in pairs if p.writes], field_map, fields, deadline)
        return [p.outcome for p in pairs if p.outcome is not None]

    def _contacts(
        self, run: Run, tenant_id: str, contact_ids: list[str], deadline: Deadline
    ) -> list[dict[str, Any]]:
        """The batch's contacts from the run's pages; a retry's (not paged) read in ONE call."""
        kept = self._kept(run)
        found = [kept[i] for i in contact_ids if i in kept]
        missing = [i for i in contact_ids if i not in kept]
        return found + (self.inbound.fetch(tenant_id, missing, deadline) if missing else [])

    def kept_contacts(self, run: Run) -> dict[str, dict[str, Any]]:
        """The contacts this run's plan kept (Xero's changes in the window), by ContactID."""
        return self._kept(run)

    def _kept(self, run: Run) -> dict[str, dict[str, Any]]:
        with self._lock:
            if self._pages is None or self._pages[0] != run.run_id:
                contacts = {
                    str(row[0]["ContactID"]).lower(): row[0]
                    for blob in self.runs.iter_index_pages(run.run_id)
                    for row in decompress_index(blob)
                    if row and isinstance(row[0], dict)
                }
                self._pages = (run.run_id, contacts)
            return self._pages[1]

    def _decide(
        self,
        run: Run,
        tenant_id: str,
        pair: _Pair,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> None:
        contact = pair.contact
        if pair.snapshot is None or not pair.snapshot.xero or not pair.snapshot.primary_contact_id:
            self._one_by_one(run, tenant_id, pair, field_map, fields, deadline)
            return
        account, primary = _as_zoho(pair.snapshot, fields)
        pair.decision = decide_linked(contact, account, primary, pair.snapshot, fields)
        if pair.decision.verdict is not InboundVerdict.UPDATE or run.dry_run:
            verdict = pair.decision.verdict
            if verdict is InboundVerdict.ECHO and pair.snapshot.last_run_id == run.run_id:
                verdict = InboundVerdict.UPDATE  # this batch, delivered again: it did write it
            self._done(run, pair, verdict, dry=run.dry_run)
            return
        url = self.deps.contact_url(pair.contact_id)
        shown = shown_in_zoho(field_map, pair.contact_id, url, self.now())
        pair.writes["Accounts"] = {"id": pair.account_id, **pair.decision.account_fields, **shown}
        if pair.decision.contact_fields:
            pair.writes["Contacts"] = {"id": pair.snapshot.primary_contact_id, **pair.decision.contact_fields}

    def _one_by_one(
        self,
        run: Run,
        tenant_id: str,
        pair: _Pair,
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> None:
        """No snapshot to decide against: the webhook's path, which reads Zoho for this pair."""
        if run.dry_run:
            verdict = (
                InboundVerdict.UPDATE
                if pair.account_id
                else decide_unlinked(
                    pair.contact, field_map, fields, creates_accounts=self.deps.creates_accounts
                ).verdict
            )
            self._done(run, pair, verdict, dry=True)
            return
        outcome = self.inbound.sync_contact(tenant_id, pair.contact, deadline)  # RetriableError: batch again
        pair.account_id = outcome.account_id or pair.account_id
        if outcome.verdict is InboundVerdict.SKIP and outcome.account_id:
            self._problem(run, pair, outcome.message)
        elif outcome.verdict is InboundVerdict.SKIP:
            pair.outcome = self._outcome(
                run, pair, AccountResult.UNCHANGED, f"Not brought into Zoho CRM: {outcome.message}."
            )
        else:
            self._done(run, pair, outcome.verdict)

    def _write(
        self,
        run: Run,
        tenant_id: str,
        pairs: list[_Pair],
        field_map: FieldMap,
        fields: list[FlowField],
        deadline: Deadline,
    ) -> None:
        """ONE PUT of Accounts and at most one of Contacts for the whole batch (up to 50 each)."""
        refused = self._put(pairs, fields, deadline)
        moved, timeline = [], []
        for pair in pairs:
            assert pair.account_id and pair.decision is not None and pair.snapshot is not None
            if pair.contact_id in refused:
                self.inbound.report_refusal(
                    tenant_id, pair.contact_id, pair.account_id, refused[pair.contact_id], field_map, deadline
                )
                self._problem(run, pair, refused[pair.contact_id].message)
                continue
            snapshot = self.inbound.moved_snapshot(
                pair.snapshot, tenant_id, pair.contact, fields, pair.decision
            )
            moved.append(replace(snapshot, last_run_id=run.run_id))
            timeline.append(
                self.inbound.history_entry(
                    pair.account_id,
                    pair.contact_id,
                    SyncStatus.SYNCED,
                    SyncAction.UPDATED,
                    messages.FROM_XERO_UPDATED,
                    run_id=run.run_id,
                )
            )
            self._done(run, pair, InboundVerdict.UPDATE)
        self.deps.snapshots.put_many(moved)  # batched and unconditional, like a bulk Zoho → Xero batch
        self.deps.history.add_many(timeline)

    def _put(self, pairs: list[_Pair], fields: list[FlowField], deadline: Deadline) -> dict[str, ZohoRefused]:
        """The batch's writes to Zoho; what Zoho refused, by contact."""
        refused: dict[str, ZohoRefused] = {}
        for module in ("Contacts", "Accounts"):  # the person first: a refused person holds the Account back
            writing = [p for p in pairs if module in p.writes and p.contact_id not in refused]
            if not writing:
                continue
            answers = self.deps.zoho.update_records(module, [p.writes[module] for p in writing], deadline)
            for pair, answer in zip(writing, answers, strict=False):
                if str(answer.get("code")) != "SUCCESS":
                    refused[pair.contact_id] = self.inbound.refusal(answer, fields, pair.contact)
        return refused

    # --- outcomes ---------------------------------------------------------------

    def _done(self, run: Run, pair: _Pair, verdict: InboundVerdict, *, dry: bool = False) -> None:
        result, message = _RESULTS.get(verdict, (AccountResult.UNCHANGED, ""))
        if dry and verdict is InboundVerdict.UPDATE:
            message = "Would update the Account from Xero."
        elif dry and verdict is InboundVerdict.CREATE:
            message = "Would create an Account from the Xero contact."
        pair.outcome = self._outcome(run, pair, result, message)

    def _problem(self, run: Run, pair: _Pair, message: str) -> None:
        pair.outcome = self._outcome(run, pair, AccountResult.REJECTED, message)

    def _outcome(self, run: Run, pair: _Pair, result: AccountResult, message: str) -> RunAccount:
        return RunAccount(
            run_id=run.run_id,
            account_id=pair.account_id or pair.contact_id,
            result=result,
            message=message,
            account_name=str(pair.contact.get("Name") or "") or None,
            xero_contact_id=pair.contact_id,
            at=iso_now(self.now()),
        )


def _as_zoho(snapshot: LinkSnapshot, fields: list[FlowField]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Account and primary Contact as Zoho last held them (the snapshot's Zoho side)."""
    account, primary = zoho_writes(dict(snapshot.zoho), fields)
    primary["id"] = snapshot.primary_contact_id
    return account, primary


def _xero_time(iso: str) -> str:
    """If-Modified-Since as Xero's examples write it: UTC, to the second, no offset."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
