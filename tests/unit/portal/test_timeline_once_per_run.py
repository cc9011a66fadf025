"""The Account's timeline shows a run's attempt once, even when SQS handed its batch out twice
at the same moment and both deliveries recorded it."""

from __future__ import annotations

from chalicelib.models.sync import HistoryEntry, SyncAction, SyncStatus, Trigger
from chalicelib.portal.routes.accounts import once_per_run


def entry(
    at: str, run_id: str | None, action: SyncAction = SyncAction.CREATED, message: str = "Synced."
) -> HistoryEntry:
    return HistoryEntry(
        "1", at, Trigger.RUN if run_id else Trigger.BUTTON, SyncStatus.SYNCED, action, message, run_id=run_id
    )


def test_a_run_recorded_twice_shows_once_and_other_attempts_stay() -> None:
    twice = [entry("2026-12-03T10:00:02Z", "r1"), entry("2026-12-03T10:00:01Z", "r1")]
    assert once_per_run(twice) == twice[:1]

    clicks = [entry("2026-12-03T10:00:02Z", None), entry("2026-12-03T10:00:01Z", None)]
    assert once_per_run(clicks) == clicks  # two clicks are two attempts

    runs = [entry("2026-12-03T10:00:02Z", "r2"), entry("2026-12-03T10:00:01Z", "r1")]
    assert once_per_run(runs) == runs

    retried = [
        entry("2026-12-03T10:00:02Z", "r1"),
        entry("2026-12-03T10:00:01Z", "r1", SyncAction.NONE, "Xero was busy; retrying."),
    ]
    assert once_per_run(retried) == retried  # a failure and its success within one run both show
