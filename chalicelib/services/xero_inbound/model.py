"""What every piece of Xero → Zoho CRM shares: its dependencies, one contact's change, outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.mapping.directions import FlowField
from chalicelib.services.account_lock import Locks
from chalicelib.services.sync.from_xero import InboundVerdict

if TYPE_CHECKING:
    from chalicelib.services.both_way import BothWay
    from chalicelib.store.accounts import AccountStateRepository
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.snapshots import SnapshotRepository
    from chalicelib.xero.client import XeroClient
    from chalicelib.zoho.client import ZohoClient


@dataclass
class InboundDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: AccountStateRepository
    snapshots: SnapshotRepository
    history: HistoryRepository
    locks: Locks
    field_map: Callable[[], FieldMap]
    contact_url: Callable[[str], str | None]
    creates_accounts: bool = True
    lock_seconds: float = 60.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    both_way: BothWay | None = None  # SYNC_MODE=both: services/both_way.BothWay merges a linked pair


@dataclass(frozen=True)
class ContactChange:
    """One Xero contact on its way into Zoho, with what every step of it reads."""

    tenant_id: str
    contact: dict[str, Any]  # as Xero has it now
    field_map: FieldMap
    fields: list[FlowField]  # the map's fields that flow to Zoho
    deadline: Deadline

    @property
    def contact_id(self) -> str:
        return str(self.contact["ContactID"]).lower()


@dataclass(frozen=True)
class InboundOutcome:
    contact_id: str
    verdict: InboundVerdict
    account_id: str | None = None
    message: str = ""


class ZohoRefused(Exception):
    """Zoho refused a record: `message` says what to fix in Xero, `code` is Zoho's."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
