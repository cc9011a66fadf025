"""An Account a run had to sync on its own is counted as the batch would have counted it."""

from __future__ import annotations

import pytest

from chalicelib.models.runs import AccountResult
from chalicelib.models.sync import SyncAction, SyncOutcome, SyncStatus
from chalicelib.services.bulk_sync import single_result


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (SyncStatus.SYNCED, SyncAction.CREATED, AccountResult.CREATED),
        (SyncStatus.SYNCED, SyncAction.UPDATED, AccountResult.UPDATED),
        (SyncStatus.SYNCED, SyncAction.UNCHANGED, AccountResult.UNCHANGED),
        (SyncStatus.SYNCED, SyncAction.NONE, AccountResult.UPDATED),
        (SyncStatus.REJECTED, SyncAction.NONE, AccountResult.REJECTED),
        # Archived in Xero and a held conflict ask a person to act, like a rejection; they are
        # not faults a retry would cure.
        (SyncStatus.ARCHIVED, SyncAction.NONE, AccountResult.REJECTED),
        (SyncStatus.CONFLICT, SyncAction.NONE, AccountResult.REJECTED),
        (SyncStatus.FAILED, SyncAction.NONE, AccountResult.FAILED),
    ],
)
def test_a_single_sync_counts_like_the_batch(
    status: SyncStatus, action: SyncAction, expected: AccountResult
) -> None:
    assert single_result(SyncOutcome("5725767000000400001", status, action, "")) is expected
