"""`both` runs: one batch of a run that plans both sides (services/runs/both_plan.py).

A batch holds Zoho Account ids (Zoho changed them) and Xero ContactIDs (Xero changed them).
Each key is paired by identity — the Account's stored link and base snapshot, or the
contact's ContactNumber (our Account id) or stored link — and:

- a linked pair with a base, an active contact and its Account is merged field by field by
  services/sync/merge.py (through BothWay, the same rules as a click under SYNC_MODE=both),
  and each side gets what it lacks in ONE Xero POST and one Zoho PUT per module
  (services/both_run_writes.py);
- anything else goes the way its own direction goes: an Account to the Zoho → Xero batch
  (services/bulk_sync.py: a new Account is created in Xero), a contact to the Xero → Zoho
  batch (services/xero_runs.py: archives, merges, contacts with no Account).

An Account whose contact Xero changed in the window is left to the Xero-side batch, which
reads Zoho too, so a pair is merged once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.models.runs import Run, RunAccount
from chalicelib.models.webhook import ZOHO_ID
from chalicelib.services.both_run_writes import LinkedPair, PairMerger
from chalicelib.services.bulk_sync import BatchSyncer
from chalicelib.services.sync.from_xero import account_key
from chalicelib.services.xero_index import XeroIndex, index_row
from chalicelib.services.xero_runs import XeroRuns
from chalicelib.store.snapshots import LinkSnapshot

if TYPE_CHECKING:
    from chalicelib.store.accounts import AccountStateRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.xero.client import XeroClient

ZOHO_PHASES = ("both_accounts", "both_contacts")  # listed by Zoho: a kept contact's pair is merged there


@dataclass
class BothRunDependencies:
    xero: XeroClient
    states: AccountStateRepository
    snapshots: SnapshotRepository
    merger: PairMerger
    xero_runs: XeroRuns  # unpaired contacts: the xero_to_zoho batch
    batches: BatchSyncer  # unpaired Accounts: the zoho_to_xero batch


@dataclass
class _Routes:
    pairs: dict[str, LinkedPair]  # by Account id
    accounts: list[str]  # to the Zoho → Xero batch
    contacts: list[str]  # to the Xero → Zoho batch


class BothRuns:
    def __init__(self, deps: BothRunDependencies) -> None:
        self.deps = deps

    def sync_batch(
        self, run: Run, keys: list[str], phase: str, deadline: Deadline, *, final_attempt: bool
    ) -> list[RunAccount]:
        """One outcome per pair merged and per key sent its own way (none for a pair left to
        the Xero-side batch). Raises RetriableError when SQS should deliver the batch again."""
        tenant_id = run.tenant_id or self.deps.xero.tenant_id(deadline)
        kept = self.deps.xero_runs.kept_contacts(run)
        routes = self._route(tenant_id, list(dict.fromkeys(keys)), phase, kept, deadline)
        self._read_zoho(routes, deadline)
        outcomes = self.deps.merger.merge(run, tenant_id, list(routes.pairs.values()), deadline)
        if routes.contacts:
            outcomes += self.deps.xero_runs.sync_batch(
                run, routes.contacts, deadline, final_attempt=final_attempt
            )
        if routes.accounts:
            index = XeroIndex(index_row(c) for c in kept.values())
            outcomes += self.deps.batches.sync_batch(
                run, routes.accounts, index, deadline, final_attempt=final_attempt
            )
        return outcomes

    # --- pairing ----------------------------------------------------------------

    def _route(
        self, tenant_id: str, keys: list[str], phase: str, kept: dict[str, dict[str, Any]], deadline: Deadline
    ) -> _Routes:
        contact_keys = [k.lower() for k in keys if not ZOHO_ID.fullmatch(k)]
        by_contact = {c: self._account_of(tenant_id, c, kept.get(c)) for c in contact_keys}
        account_keys = [k for k in keys if ZOHO_ID.fullmatch(k)]
        snapshots = self.deps.snapshots.get_many([a for a in [*by_contact.values(), *account_keys] if a])
        states = self.deps.states.get_many(account_keys)
        links = {a: _linked(snapshots.get(a), states.get(a), tenant_id) for a in account_keys}
        if phase in ZOHO_PHASES:  # the pair's contact changed in Xero too: its Xero-side batch merges it
            account_keys = [a for a in account_keys if links[a] not in kept]
        wanted = {c for c, a in by_contact.items() if a} | {links[a] for a in account_keys if links[a]}
        contacts = self._contacts(wanted - {None}, kept, deadline)
        routes = _Routes({}, [], [])
        for contact_id, account_id in by_contact.items():
            pair = _pair(account_id, snapshots, contacts.get(contact_id), contact_id)
            self._add(routes, pair, contact_id, routes.contacts)
        for account_id in account_keys:
            pair = _pair(account_id, snapshots, contacts.get(links[account_id] or ""), links[account_id])
            self._add(routes, pair, account_id, routes.accounts)
        return routes

    def _account_of(self, tenant_id: str, contact_id: str, contact: dict[str, Any] | None) -> str | None:
        found = account_key(contact) if contact else None
        return found or self.deps.states.find_account_by_xero_contact(tenant_id, contact_id)

    def _contacts(
        self, wanted: set[str | None], kept: dict[str, dict[str, Any]], deadline: Deadline
    ) -> dict[str, dict[str, Any]]:
        """The contacts the pairs need: kept by the plan, the others read in ONE call."""
        found = {c: kept[c] for c in wanted if c and c in kept}
        missing = sorted(c for c in wanted if c and c not in kept)
        for contact in self.deps.xero.get_contacts_by_ids(missing, deadline) if missing else []:
            found[str(contact["ContactID"]).lower()] = contact
        return found

    @staticmethod
    def _add(routes: _Routes, pair: LinkedPair | None, key: str, otherwise: list[str]) -> None:
        if pair is None:
            otherwise.append(key)
            return
        # A retry may list a pair by both its keys: it is merged once.
        routes.pairs.setdefault(pair.account_id, pair).keys.append(key)

    def _read_zoho(self, routes: _Routes, deadline: Deadline) -> None:
        """Each pair's Account and primary Contact; a pair whose Account is gone goes its own way."""
        if not routes.pairs:
            return
        read = self.deps.merger.read_zoho(list(routes.pairs), deadline)
        for account_id, pair in list(routes.pairs.items()):
            found = read.get(account_id)
            primary = _primary(found[1], pair.snapshot) if found else None
            if found is None or primary is None:
                del routes.pairs[account_id]
                for key in pair.keys:
                    (routes.accounts if ZOHO_ID.fullmatch(key) else routes.contacts).append(key)
                continue
            pair.account, pair.primary, pair.contacts = found[0], primary, found[1]


def _linked(snapshot: LinkSnapshot | None, state: Any, tenant_id: str) -> str | None:
    """The ContactID both our link and the base agree on (None: not a mergeable pair)."""
    if snapshot is None or state is None or not snapshot.contact_id:
        return None
    if (state.xero_contact_id or "").lower() != snapshot.contact_id or state.tenant_id != tenant_id:
        return None
    return snapshot.contact_id


def _pair(
    account_id: str | None,
    snapshots: dict[str, LinkSnapshot],
    contact: dict[str, Any] | None,
    contact_id: str | None,
) -> LinkedPair | None:
    """A pair to merge: a base with both sides, a contact that is active and not merged away."""
    snapshot = snapshots.get(account_id) if account_id else None
    if account_id is None or snapshot is None or contact is None or not snapshot.xero:
        return None
    if not snapshot.primary_contact_id or snapshot.contact_id != contact_id:
        return None
    if str(contact.get("ContactStatus") or "ACTIVE") != "ACTIVE" or contact.get("MergedToContactID"):
        return None  # archived or merged: the lifecycle rules of its own direction apply
    return LinkedPair(account_id, contact, snapshot)


def _primary(contacts: list[dict[str, Any]], snapshot: LinkSnapshot) -> dict[str, Any] | None:
    return next((c for c in contacts if str(c.get("id")) == snapshot.primary_contact_id), None)
