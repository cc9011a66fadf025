"""A Zoho Account deleted → its Xero contact archived (unless ARCHIVE_ON_ZOHO_DELETE is false).

Zoho CRM tells no webhook about a deletion, so we read its list of deleted records
(`GET /crm/v8/Accounts/deleted`, type all: the recycle bin and permanent deletions alike) from a
stored watermark: every ZOHO_DELETIONS_POLL_MINUTES (the minute schedule, handlers/zoho_deletions.py,
reads Zoho only when that much time has passed since its last read) and when a
`zoho_to_xero` run plans (its planner calls `archive_deleted_since`). Per deleted Account we
linked: its contact (a merge followed to the survivor) archived with ONE
`POST /Contacts` `{"ContactID": …, "ContactStatus": "ARCHIVED"}` (an Idempotency-Key per
deletion), our record marked and the Account's timeline told what happened, in plain words.

- Seen twice (two pollers, a redelivery, the one-second overlap of the window): our record says
  it was handled after the deletion, so nothing is sent again.
- A passing fault (429, 5xx, a timeout) stops the sweep where it is: the watermark stays before
  that deletion, so the next poll takes it again; nothing is lost.
- Xero refusing (4xx) is final for that deletion: the timeline says what to do in Xero.
- A contact another Account now holds (a merge), or already archived, is left as it is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.deadline import Deadline
from chalicelib.errors import RetriableError
from chalicelib.models.sync import AccountState, HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.services.sync.decide import ARCHIVED, follow_merges, zoho_datetime
from chalicelib.services.sync.directory import LiveDirectory
from chalicelib.services.sync.lifecycle import deleted_archived_note, deleted_refused_note
from chalicelib.store.errors import StaleStateError
from chalicelib.timestamps import iso_seconds

if TYPE_CHECKING:
    from chalicelib.store.accounts import AccountStateRepository
    from chalicelib.store.history import HistoryRepository
    from chalicelib.store.locks import LockRepository
    from chalicelib.store.watermarks import WatermarkRepository
    from chalicelib.xero.client import XeroClient
    from chalicelib.zoho.client import ZohoClient

logger = logging.getLogger(__name__)
WATERMARK = "zoho-deleted-accounts"
POLLED = "zoho-deletions-polled"  # when the schedule's poll last read Zoho (ZOHO_DELETIONS_POLL_MINUTES)
POLL_SLACK = timedelta(seconds=10)  # the minute schedule fires a little early or late
LOCK = "zoho-deletions"
HANDLED = "deleted_in_zoho"  # AccountState.last_action once its deletion was handled
FIRST_LOOKBACK = timedelta(days=1)  # the very first sweep: deletions of the last day
OVERLAP = timedelta(seconds=1)  # If-Modified-Since is "after", to the second: re-read that second
MAX_PAGES = 50  # 10,000 deletions a sweep; the rest on the next one


@dataclass
class DeletionDependencies:
    zoho: ZohoClient
    xero: XeroClient
    states: AccountStateRepository
    history: HistoryRepository
    locks: LockRepository
    watermarks: WatermarkRepository
    archive_on_delete: bool = True
    lock_seconds: float = 120.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass
class DeletionSweep:
    """What one sweep did (logged; the run planner may count it)."""

    status: str = "done"  # done | off | busy | interrupted | skipped (not due: poll)
    seen: int = 0
    archived: list[str] = field(default_factory=list)  # Account ids whose contact was archived
    refused: list[str] = field(default_factory=list)
    watermark: str | None = None


class ZohoDeletions:
    def __init__(self, deps: DeletionDependencies) -> None:
        self.deps = deps

    def archive_deleted_since(self, deadline: Deadline, since: str | None = None) -> DeletionSweep:
        """Archive the Xero contacts of the Accounts deleted since `since` (ISO 8601), else since
        the stored watermark. One sweep at a time; a second caller finds it busy and returns."""
        if not self.deps.archive_on_delete:
            return DeletionSweep(status="off")
        owner = f"deletions-{uuid.uuid4()}"
        if not self.deps.locks.acquire(LOCK, owner, self.deps.lock_seconds):
            return DeletionSweep(status="busy")
        try:
            return self._sweep(deadline, since)
        finally:
            self.deps.locks.release(LOCK, owner)

    def poll(self, deadline: Deadline, every: timedelta) -> DeletionSweep:
        """The minute schedule's sweep, made only every `every` (status "skipped" between): each
        read of Zoho's deleted list costs a credit, 1,440 a day if made every minute. A run's
        planner sweeps on its own anyway, so a run never waits for this."""
        now = self.deps.now()
        last = self.deps.watermarks.get(POLLED) if self.deps.archive_on_delete else None
        if last is not None and now < _utc(last) + every - POLL_SLACK:
            return DeletionSweep(status="skipped")
        sweep = self.archive_deleted_since(deadline)
        if sweep.status == "done":  # a fault or a busy sweep: the next minute tries again
            self.deps.watermarks.advance(POLLED, _iso(now))
        return sweep

    def _sweep(self, deadline: Deadline, since: str | None) -> DeletionSweep:
        start = since or self.deps.watermarks.get(WATERMARK) or _iso(self.deps.now() - FIRST_LOOKBACK)
        rows = self._deleted_after(_utc(start) - OVERLAP, deadline)
        sweep = DeletionSweep(seen=len(rows), watermark=start)
        tenant_id = self.deps.xero.tenant_id(deadline) if rows else ""
        for row in rows:
            try:
                self._handle(row, tenant_id, sweep, deadline)
            except RetriableError as fault:  # the next sweep starts from this deletion again
                logger.warning("deleted account not handled yet", extra={"reason": fault.detail})
                sweep.status = "interrupted"
                break
            sweep.watermark = max(sweep.watermark or "", _iso(_utc(str(row["deleted_time"]))))
        if sweep.watermark and sweep.watermark != start:
            self.deps.watermarks.advance(WATERMARK, sweep.watermark)
        return sweep

    def _deleted_after(self, after: datetime, deadline: Deadline) -> list[dict[str, Any]]:
        """Every deleted Account after `after`, oldest deletion first (Zoho lists newest first)."""
        rows: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            found, more = self.deps.zoho.list_deleted("Accounts", zoho_datetime(_iso(after)), page, deadline)
            rows.extend(r for r in found if r.get("id") and r.get("deleted_time"))
            if not more:
                break
        return sorted(rows, key=lambda r: _utc(str(r["deleted_time"])))

    def _handle(self, row: dict[str, Any], tenant_id: str, sweep: DeletionSweep, deadline: Deadline) -> None:
        account_id, deleted_at = str(row["id"]), _iso(_utc(str(row["deleted_time"])))
        state = self.deps.states.get(account_id)
        if state is None or not state.xero_contact_id or (state.tenant_id or tenant_id) != tenant_id:
            return  # never synced to this organisation: nothing in Xero to archive
        if state.last_action == HANDLED and (state.last_attempt_at or "") >= deleted_at:
            return  # handled already
        directory = LiveDirectory(self.deps.xero, deadline)
        found = directory.by_id(state.xero_contact_id)
        contact = follow_merges(found, directory) if found is not None else None
        owner = (
            self.deps.states.find_account_by_xero_contact(tenant_id, contact.contact_id) if contact else None
        )
        if contact is None or contact.status == ARCHIVED or (owner and owner != account_id):
            self._mark(state, state.xero_contact_id, None)
            return
        [result] = self.deps.xero.save_contacts(
            [{"ContactID": contact.contact_id, "ContactStatus": ARCHIVED}],
            idempotency_key=f"archive-deleted-{account_id}-{contact.contact_id}-{deleted_at}"[:128],
            deadline=deadline,
        )
        name = contact.name or str(row.get("display_name") or "")
        note = deleted_archived_note(name) if result.ok else deleted_refused_note(name, result.errors)
        (sweep.archived if result.ok else sweep.refused).append(account_id)
        self._mark(state, contact.contact_id, note, ok=result.ok)

    def _mark(self, state: AccountState, contact_id: str, note: str | None, *, ok: bool = True) -> None:
        """Our record says the deletion was handled; the timeline says what happened."""
        now = self.deps.now()
        status = SyncStatus.ARCHIVED if ok else SyncStatus.FAILED
        marked = replace(state, status=status, last_action=HANDLED, last_attempt_at=_iso(now))
        if note is not None:
            marked = replace(marked, last_error=note)
            self.deps.history.add(_entry(state.account_id, contact_id, status, note, now))
        try:
            self.deps.states.save(marked)
        except StaleStateError:  # saved meanwhile: seen again next sweep, and Xero's key dedupes
            raise RetriableError("This Account's record changed meanwhile; trying again shortly.") from None


def _entry(account_id: str, contact_id: str, status: SyncStatus, note: str, at: datetime) -> HistoryEntry:
    return HistoryEntry(
        account_id=account_id,
        at=_iso(at),
        trigger=Trigger.ZOHO_DELETE,
        status=status,
        action=SyncAction.NONE,
        message=note,
        xero_contact_id=contact_id,
    )


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


_iso = iso_seconds  # ISO 8601 UTC to the second: compares as text
