"""The linked pairs of a `both` run's batch: merged, then each side written in one go.

Per batch: two COQL reads (the Accounts, with Modified_Time for newest_wins, and their
Contacts), ONE `POST /Contacts` for every contact that lacks something (up to 50), then one
Zoho PUT of Contacts and one of Accounts (`"trigger": []`, up to 100 each). The decisions are
services/sync/merge.py's, asked through BothWay (services/both_way.py), which also records
every conflict in the Account's timeline with both values and keeps the held ones.

A batch SQS delivers again is safe: the Xero POST carries an Idempotency-Key derived from what
it sends, Zoho's writes set values (sending them twice changes nothing), and a pair whose base
this run already moved is reported, not merged again against the contact kept before the write.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RejectedError
from chalicelib.mapping import FieldMap, prepare_contact
from chalicelib.mapping.clearing import xero_update
from chalicelib.mapping.directions import FlowField, fields_to_zoho, mapped_fields, xero_side, zoho_writes
from chalicelib.models.runs import AccountResult, Run, RunAccount
from chalicelib.models.sync import HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.both_way import BothWay, Pair, account_shows
from chalicelib.services.sync.decide import iso_now
from chalicelib.services.sync.from_xero import updated_at
from chalicelib.services.sync.merge import Base, MergeResult, Sides, merge
from chalicelib.services.sync.messages import rejection_from_xero
from chalicelib.store.snapshots import LinkSnapshot
from chalicelib.zoho import queries

if TYPE_CHECKING:
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.xero.client import XeroClient
    from chalicelib.zoho.client import ZohoClient

IDENTITY = (
    "ContactNumber",
)  # the link, not data: Zoho → Xero syncs set it (a merged survivor keeps its own)
ZohoRecords = dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]  # Account id → (Account, Contacts)


@dataclass
class LinkedPair:
    """One linked pair of the batch, from reading it to its outcome."""

    account_id: str
    contact: dict[str, Any]
    snapshot: LinkSnapshot
    account: dict[str, Any] = field(default_factory=dict)
    primary: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)  # all the Account's Contacts
    keys: list[str] = field(default_factory=list)  # the batch keys that named it
    result: MergeResult | None = None
    xero_body: dict[str, Any] | None = None
    zoho: dict[str, dict[str, Any]] = field(default_factory=dict)  # module → record to write
    answer: dict[str, Any] | None = None  # the contact as Xero answered our write
    outcome: RunAccount | None = None

    @property
    def contact_id(self) -> str:
        return str(self.contact["ContactID"]).lower()


@dataclass
class _OneWay:
    to_xero: dict[str, str]
    prepared: dict[str, Any]  # the contact as a Zoho → Xero push would send it


@dataclass
class MergerDependencies:
    zoho: ZohoClient
    xero: XeroClient
    snapshots: SnapshotRepository
    history: HistoryRepository
    both: BothWay
    field_map: Callable[[], FieldMap]
    contact_url: Callable[[str], str | None]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


class PairMerger:
    def __init__(self, deps: MergerDependencies) -> None:
        self.deps = deps

    def read_zoho(self, account_ids: list[str], deadline: Deadline) -> ZohoRecords:
        """The Accounts and their Contacts, each with Modified_Time, in two COQL reads."""
        fm = self.deps.field_map()
        accounts = self._coql(
            queries.accounts_by_id([*fm.account_fields(), "Modified_Time"], account_ids), deadline
        )
        lookup = fm.contact_account_field
        fields = [*fm.contact_fields(), "Modified_Time"]
        found: ZohoRecords = {str(a["id"]): (a, []) for a in accounts}
        for contact in self._coql(queries.contacts_of_accounts(fields, lookup, account_ids), deadline):
            linked = contact.get(lookup)
            owner = str(linked.get("id") if isinstance(linked, dict) else linked)
            if owner in found:
                found[owner][1].append(contact)
        return found

    def _coql(self, query: str, deadline: Deadline) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page, more = self.deps.zoho.coql(queries.by_id_from(query, len(rows)), deadline)
            rows.extend(page)
            if not more or not page:
                return rows

    def merge(
        self, run: Run, tenant_id: str, pairs: list[LinkedPair], deadline: Deadline
    ) -> list[RunAccount]:
        """Merge each pair; write each side what it lacks (not in a dry run); one outcome each."""
        if not pairs:
            return []
        field_map = self.deps.field_map()
        fields = fields_to_zoho(field_map)
        for pair in pairs:
            self._decide(run, pair, field_map, fields)
        if not run.dry_run:
            self._to_xero(run, tenant_id, [p for p in pairs if p.outcome is None], deadline)
            self._to_zoho(run, [p for p in pairs if p.outcome is None], fields, deadline)
            self._record(run, [p for p in pairs if p.outcome is None], fields)
        return [p.outcome for p in pairs if p.outcome is not None]

    # --- deciding -----------------------------------------------------------------

    def _decide(self, run: Run, pair: LinkedPair, field_map: FieldMap, fields: list[FlowField]) -> None:
        if pair.snapshot.last_run_id == run.run_id and not run.dry_run:
            # This batch, delivered again after it wrote: the kept contact predates our write.
            pair.outcome = self._outcome(run, pair, AccountResult.UPDATED, "Merged both ways by this run.")
            return
        try:
            to_xero = self._one_way(pair, field_map)
        except RejectedError as error:  # the Account cannot go to Xero as it is
            pair.outcome = self._outcome(run, pair, AccountResult.REJECTED, error.message)
            return
        merged = self.deps.both.merge_pair(self._both_pair(run, pair), fields)
        result = pair.result = replace(merged, to_xero={**merged.to_xero, **to_xero.to_xero})
        url = self.deps.contact_url(pair.contact_id)
        shown = self.deps.both.shown(field_map, pair.contact_id, url, result.held)
        account_fields, contact_fields = zoho_writes(result.to_zoho, fields)
        if contact_fields and pair.primary is not None:
            pair.zoho["Contacts"] = {"id": str(pair.primary["id"]), **contact_fields}
        if account_fields or not account_shows(pair.account, shown, field_map.writeback.last_synced):
            pair.zoho["Accounts"] = {"id": pair.account_id, **account_fields, **shown}
        if result.to_xero:
            pair.xero_body = _xero_body(
                pair.contact, result.to_xero, to_xero.prepared, mapped_fields(field_map)
            )
        if run.dry_run or not (pair.zoho or pair.xero_body or _base_moves(pair.snapshot, result)):
            pair.outcome = self._merged(run, pair, dry=run.dry_run)

    def _one_way(self, pair: LinkedPair, field_map: FieldMap) -> _OneWay:
        """The `to_xero` fields (Fax, Mobile, shipping address, payment terms...): the base keeps
        no Zoho value of theirs, so Zoho's values, as a push would send them, are compared with
        Xero's in Xero's own form (the merge's one-way rule: Xero gets Zoho's when they differ)."""
        one_way = [f for f in mapped_fields(field_map) if f.direction == "to_xero" and f.key not in IDENTITY]
        prepared = prepare_contact(pair.account, pair.contacts, field_map).xero_contact
        sides = Sides(zoho=xero_side(prepared, one_way), xero=xero_side(pair.contact, one_way))
        result = merge(Base(), sides, {f.key: f.direction for f in one_way})
        return _OneWay(result.to_xero, prepared)

    def _both_pair(self, run: Run, pair: LinkedPair) -> Pair:
        return Pair(
            pair.account_id, pair.account, pair.primary, pair.contact, pair.snapshot, Trigger.RUN, run.run_id
        )

    # --- writing ------------------------------------------------------------------

    def _to_xero(self, run: Run, tenant_id: str, pairs: list[LinkedPair], deadline: Deadline) -> None:
        """ONE POST for every contact of the batch that lacks something."""
        sending = [p for p in pairs if p.xero_body is not None]
        if not sending:
            return
        bodies = [body for p in sending if (body := p.xero_body) is not None]
        raw = json.dumps(
            [tenant_id, [[p.contact.get("UpdatedDateUTC"), p.xero_body] for p in sending]], sort_keys=True
        )
        key = "both-run-" + hashlib.sha256(raw.encode()).hexdigest()
        try:
            results = self.deps.xero.save_contacts(bodies, idempotency_key=key, deadline=deadline)
        except FatalError as error:  # Xero refused the request as a whole
            for pair in sending:
                pair.outcome = self._outcome(run, pair, AccountResult.REJECTED, error.message)
            return
        if len(results) != len(sending):
            raise FatalError(
                "Xero answered a batch of contacts with a different number of results.",
                detail=f"sent {len(sending)}, got {len(results)}",
            )
        for pair, saved in zip(sending, results, strict=True):
            if saved.ok:
                pair.answer = dict(saved.contact)
            else:
                refusal = rejection_from_xero(saved.errors, pair.contact.get("Name"))
                pair.outcome = self._outcome(run, pair, AccountResult.REJECTED, refusal.message)

    def _to_zoho(
        self, run: Run, pairs: list[LinkedPair], fields: list[FlowField], deadline: Deadline
    ) -> None:
        """One PUT of Contacts, then one of Accounts (a refused person holds its Account back)."""
        labels = {f.source.field: f.label for f in fields}
        for module in ("Contacts", "Accounts"):
            writing = [p for p in pairs if module in p.zoho and p.outcome is None]
            if not writing:
                continue
            answers = self.deps.zoho.update_records(module, [p.zoho[module] for p in writing], deadline)
            for pair, answer in zip(writing, answers, strict=False):
                if str(answer.get("code")) != "SUCCESS":
                    pair.outcome = self._outcome(
                        run, pair, AccountResult.REJECTED, _zoho_refusal(answer, labels)
                    )

    def _record(self, run: Run, pairs: list[LinkedPair], fields: list[FlowField]) -> None:
        """Conflicts, the moved bases and the timeline, for the pairs both sides took."""
        moved, timeline = [], []
        now = iso_now(self.deps.now())
        for pair in pairs:
            assert pair.result is not None
            self.deps.both.record_conflicts(self._both_pair(run, pair), pair.result, fields)
            moved.append(_moved(pair, pair.result, run.run_id, now))
            pair.outcome = self._merged(run, pair, dry=False)
            if pair.result.writes or pair.result.held:
                timeline.append(self._entry(run, pair, now))
        self.deps.snapshots.put_many(moved)
        self.deps.history.add_many(timeline)

    # --- outcomes -----------------------------------------------------------------

    def _merged(self, run: Run, pair: LinkedPair, *, dry: bool) -> RunAccount:
        result = pair.result
        assert result is not None
        labels = {f.key: f.label for f in mapped_fields(self.deps.field_map())}
        if result.held:
            names = ", ".join(labels.get(c.key, c.key) for c in result.held)
            text = f"Changed differently in Zoho CRM and in Xero: {names}. "
            text += "Neither value would be written" if dry else "Neither value was written"
            message = text + "; choose one on the portal's Conflicts page."
            return self._outcome(run, pair, AccountResult.REJECTED, message)
        if not result.writes:
            return self._outcome(
                run, pair, AccountResult.UNCHANGED, "Nothing new on either side since the last sync."
            )
        return self._outcome(run, pair, AccountResult.UPDATED, _flows(result, labels, dry=dry))

    def _entry(self, run: Run, pair: LinkedPair, at: str) -> HistoryEntry:
        assert pair.outcome is not None and pair.result is not None
        held = bool(pair.result.held)
        return HistoryEntry(
            account_id=pair.account_id,
            at=at,
            trigger=Trigger.RUN,
            status=SyncStatus.CONFLICT if held else SyncStatus.SYNCED,
            action=SyncAction.UPDATED if pair.result.writes else SyncAction.NONE,
            message=pair.outcome.message,
            xero_contact_id=pair.contact_id,
            run_id=run.run_id,
        )

    def _outcome(self, run: Run, pair: LinkedPair, result: AccountResult, message: str) -> RunAccount:
        name = pair.account.get(self.deps.field_map().account_name_field) or pair.contact.get("Name")
        return RunAccount(
            run_id=run.run_id,
            account_id=pair.account_id,
            result=result,
            message=message,
            account_name=str(name or "") or None,
            xero_contact_id=pair.contact_id,
            at=iso_now(self.deps.now()),
        )


def _xero_body(
    contact: dict[str, Any], values: dict[str, str], prepared: dict[str, Any], fields: list[FlowField]
) -> dict[str, Any]:
    """The smallest update (mapping/clearing.py); a whole element like PaymentTerms is sent as
    the push builds it, in Xero's types (a day is a number, not text)."""
    body = xero_update(contact, values, fields)
    by_key = {f.key: f for f in fields}
    for key in values:
        first = by_key[key].path[0] if key in by_key else None
        if isinstance(first, str) and len(by_key[key].path) > 1 and first in prepared:
            body[first] = copy.deepcopy(prepared[first])
    return body


def _flows(result: MergeResult, labels: dict[str, str], *, dry: bool) -> str:
    """What went where, in words: "Merged both ways: Zoho CRM got Phone; Xero got Website."."""
    parts = []
    for side, values in (("Zoho CRM", result.to_zoho), ("Xero", result.to_xero)):
        if values:
            names = ", ".join(labels.get(k, k) for k in values)
            parts.append(f"{side} {'would get' if dry else 'got'} {names}")
    return ("Would merge both ways: " if dry else "Merged both ways: ") + "; ".join(parts) + "."


def _base_moves(snapshot: LinkSnapshot, result: MergeResult) -> bool:
    base = result.next_base
    return any(snapshot.zoho.get(k) != v for k, v in base.zoho.items()) or any(
        snapshot.xero.get(k) != v for k, v in base.xero.items()
    )


def _moved(pair: LinkedPair, result: MergeResult, run_id: str, now: str) -> LinkSnapshot:
    previous = pair.snapshot
    when = updated_at(pair.answer or pair.contact)
    return replace(
        previous,
        zoho={**previous.zoho, **result.next_base.zoho},
        xero={**previous.xero, **result.next_base.xero},
        xero_updated=max(filter(None, [when, previous.xero_updated]), default=None),
        synced_at=now,
        last_run_id=run_id,
    )


def _zoho_refusal(answer: dict[str, Any], labels: dict[str, str]) -> str:
    field_name = str((answer.get("details") or {}).get("api_name") or "")
    label = labels.get(field_name) or field_name.replace("_", " ") or "a field"
    return (
        f"Zoho CRM refused Xero's value for {label}: {answer.get('message')}. "
        "Correct it in Xero or on the Account, then sync again."
    )
