"""A full run's Zoho reads, one id range of up to 2,000 Accounts at a time instead of two COQL
reads per batch of 50 (COQL's IN takes 50 ids; a range takes any number).

A full run (no `since`) plans its Accounts in id order (queries.accounts_changed_by_id), so a
block of RANGE_BATCHES "accounts" batches numbered alike holds one id span. The first batch of a
block the Lambda meets reads, for the block's span: the Contacts of the ticked Accounts in it,
THEN the ticked Accounts in it, both in pages of 2,000. The Lambda keeps them for the block's
other batches (bounded: the last KEPT blocks).

Only Accounts unchanged since the run began (Modified_Time <= the run's `until`) are taken from
a range: such an Account was the same when its Contacts were read just before, so none of its
Contacts can be missing (an Account unticked, re-linked or written back meanwhile is newer).
Anything else (edited since, written back by a redelivered batch, not found) is read on its own
by the batch, as before. Data read after the run began is what the run syncs either way: later
edits belong to the next run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.models.run_plan import RunBatch
from chalicelib.models.runs import Run
from chalicelib.zoho import queries
from chalicelib.zoho.client import ZohoClient

RANGE_BATCHES = 40  # batches of 50: 2,000 Accounts, one COQL page
KEPT = 2  # ranges a Lambda keeps (a few MB each)
# A block's span holds its 2,000 Accounts, plus those ticked but not in the run. A span much
# wider (a run planned before id order, say) is not read by range: too many rows for too few.
MAX_ACCOUNT_PAGES = 2
MAX_CONTACT_PAGES = 5  # 10,000 Contacts: five per Account

# Per Account id: the Account and its Contacts.
PreRead = dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]


class BatchReader(Protocol):
    def get_batch(self, run_id: str, number: int) -> RunBatch | None: ...


@dataclass(frozen=True)
class _Range:
    run_id: str
    low: int
    high: int
    records: PreRead

    def covers(self, run_id: str, ids: list[str]) -> bool:
        return run_id == self.run_id and all(self.low <= int(i) <= self.high for i in ids)


class ZohoPages:
    def __init__(self, zoho: ZohoClient, batches: BatchReader, field_map: Callable[[], FieldMap]) -> None:
        self.zoho = zoho
        self.batches = batches
        self.field_map = field_map
        self._lock = threading.Lock()  # one read per range: the other threads wait for it
        self._ranges: deque[_Range] = deque(maxlen=KEPT)

    def read(self, run: Run, batch: RunBatch, deadline: Deadline) -> PreRead:
        """The batch's Accounts that a range vouches for, with their Contacts (maybe not all)."""
        if run.since or not run.until or batch.phase != "accounts" or not batch.account_ids:
            return {}
        ids = batch.account_ids
        with self._lock:
            found = next((r for r in self._ranges if r.covers(run.run_id, ids)), None)
            if found is None:
                found = self._read_range(run, batch, deadline)
                self._ranges.append(found)
        return {i: found.records[i] for i in ids if i in found.records}

    def _read_range(self, run: Run, batch: RunBatch, deadline: Deadline) -> _Range:
        low, high = self._span(run.run_id, batch)
        fm = self.field_map()
        lookup, ticked = fm.contact_account_field, fm.add_to_xero_field
        contacts = self._all(
            lambda after: queries.contacts_in_range(fm.contact_fields(), lookup, ticked, low, high, after),
            deadline,
            MAX_CONTACT_PAGES,
        )
        fields = list(dict.fromkeys([*fm.account_fields(), "Modified_Time"]))
        accounts = self._all(
            lambda after: queries.accounts_in_range(fields, ticked, low, high, after),
            deadline,
            MAX_ACCOUNT_PAGES,
        )
        if contacts is None or accounts is None:  # a span much wider than its block: per batch
            return _Range(run.run_id, int(low), int(high), {})
        by_account: dict[str, list[dict[str, Any]]] = {}
        for contact in contacts:
            linked = contact.get(lookup)
            linked_id = linked.get("id") if isinstance(linked, dict) else linked
            by_account.setdefault(str(linked_id), []).append(contact)
        until = _moment(str(run.until))
        records = {
            str(a["id"]): (a, by_account.get(str(a["id"]), []))
            for a in accounts
            if _moment(str(a.get("Modified_Time") or "")) <= until
        }
        return _Range(run.run_id, int(low), int(high), records)

    def _span(self, run_id: str, batch: RunBatch) -> tuple[str, str]:
        """The ids of this batch's block: RANGE_BATCHES batches numbered alike, in whatever order
        the queue hands them out, one range for all (a full run plans them in id order)."""
        first = batch.number - batch.number % RANGE_BATCHES
        ids = list(batch.account_ids)
        for number in range(first, first + RANGE_BATCHES):
            other = self.batches.get_batch(run_id, number) if number != batch.number else None
            if other is not None and other.phase == "accounts":
                ids += other.account_ids
        return min(ids, key=int), max(ids, key=int)

    def _all(
        self, query: Callable[[str | None], str], deadline: Deadline, max_pages: int
    ) -> list[dict[str, Any]] | None:
        """Every row, in pages of 2,000; None when there are more than `max_pages` pages."""
        rows: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(max_pages):
            page, more = self.zoho.coql(query(after), deadline)
            rows.extend(page)
            if not more or not page:
                return rows
            after = str(page[-1]["id"])
        return None


def _moment(text: str) -> datetime:
    """A Zoho or ISO 8601 date-time as UTC; an empty or unreadable one is the newest possible."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
