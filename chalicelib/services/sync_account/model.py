"""What one Account's sync reads: its dependencies and the request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.models.sync import AccountState, HistoryEntry, Trigger
from chalicelib.services.account_lock import Locks
from chalicelib.services.xero_links import XeroLinks
from chalicelib.xero.client import XeroClient
from chalicelib.zoho.client import ZohoClient

if TYPE_CHECKING:
    from chalicelib.services.both_way import BothWay
    from chalicelib.store.snapshots import SnapshotRepository


class StateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def save(self, state: AccountState) -> AccountState: ...
    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None: ...


class HistoryStore(Protocol):
    def add(self, entry: HistoryEntry) -> None: ...


@dataclass
class SyncDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: StateStore
    history: HistoryStore
    locks: Locks
    field_map: Callable[[], FieldMap]
    links: XeroLinks
    lock_seconds: float = 120.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The pair's last synced values (store/snapshots.py), so Xero's echo of our write is ignored.
    snapshots: SnapshotRepository | None = None
    # SYNC_MODE=both: services/both_way.BothWay merges a linked pair before pushing it.
    both_way: BothWay | None = None


@dataclass
class SyncRequest:
    account_id: str
    trigger: Trigger
    deadline: Deadline
    run_id: str | None = None
    # Only the last queue attempt turns a passing fault into a visible "Failed".
    final_attempt: bool = True
