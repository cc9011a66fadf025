"""What the runs engine works with: its store, its queue, the clients, and its settings."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap
from chalicelib.models.calls import UpstreamCalls
from chalicelib.models.run_plan import PlanStep, RunBatch, Watermark, XeroCursor
from chalicelib.models.runs import Run, RunAccount, RunState
from chalicelib.run_queue import RunMessage
from chalicelib.services.bulk_sync import BatchSyncer
from chalicelib.services.zoho_deletions import ZohoDeletions
from chalicelib.timestamps import iso_seconds
from chalicelib.xero.client import XeroClient
from chalicelib.zoho.client import ZohoClient


class RunInProgressError(Exception):
    def __init__(self, run: Run) -> None:
        super().__init__(f"run {run.run_id} is in progress")
        self.run = run


class RunNotFoundError(Exception):
    pass


class RunStore(Protocol):
    """chalicelib/store/runs: persists runs and returns models (the rules are ours)."""

    def create(self, run: Run, *, replacing: str | None = None) -> Run: ...
    def active_run_id(self) -> str | None: ...
    def release_slot(self, run_id: str) -> None: ...
    def get(self, run_id: str) -> Run | None: ...
    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]: ...
    def last_finished(self) -> Watermark | None: ...
    def set_watermark(self, mark: Watermark) -> None: ...
    def set_state(
        self,
        run_id: str,
        state: RunState,
        *,
        message: str | None = None,
        resume_at: str | None = None,
        only_from: Sequence[RunState] = (),
    ) -> bool: ...
    def finish(self, run_id: str, state: RunState, finished_at: str, message: str | None = None) -> bool: ...
    def set_tenant(self, run_id: str, tenant_id: str) -> None: ...
    def commit_step(self, run_id: str, step: PlanStep) -> None: ...
    def get_batch(self, run_id: str, number: int) -> RunBatch | None: ...
    def batches(self, run_id: str, numbers: Iterable[int]) -> builtins.list[RunBatch]: ...
    def iter_index_pages(self, run_id: str) -> Iterator[bytes]: ...
    def account_batch(
        self,
        run_id: str,
        number: int,
        outcomes: Sequence[RunAccount],
        *,
        calls: UpstreamCalls,
        compact_unchanged: bool = False,
    ) -> bool: ...
    def add_calls(self, run_id: str, calls: UpstreamCalls) -> None: ...
    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[builtins.list[RunAccount], str | None]: ...


class Queue(Protocol):
    def send(self, message: RunMessage, delay_seconds: float = 0) -> None: ...
    def send_batches(self, run_id: str, numbers: list[int]) -> None: ...
    def dead_letters(self) -> int: ...


class XeroToZoho(Protocol):
    """services/xero_runs.XeroRuns: plans and syncs the batches of xero_to_zoho runs."""

    def plan_page(
        self, run: Run, cursor: XeroCursor, deadline: Deadline
    ) -> tuple[list[str], XeroCursor | None, tuple[int, bytes] | None]: ...
    def sync_batch(
        self, run: Run, contact_ids: list[str], deadline: Deadline, *, final_attempt: bool
    ) -> list[RunAccount]: ...


class BothWays(Protocol):
    """services/both_runs.BothRuns: syncs the batches of `both` runs (Account ids and ContactIDs)."""

    def sync_batch(
        self, run: Run, keys: list[str], phase: str, deadline: Deadline, *, final_attempt: bool
    ) -> list[RunAccount]: ...


@dataclass
class RunDependencies:
    runs: RunStore
    queue: Queue
    zoho: ZohoClient
    xero: XeroClient
    batches: BatchSyncer
    field_map: Callable[[], FieldMap]
    calls: Callable[[], UpstreamCalls]  # what this thread has spent so far
    notify: Callable[[Run], None] | None = None
    schedule_hours: float = 4.0
    batch_size: int = 50
    overlap_seconds: float = 300.0
    stale_after_seconds: float = 3600.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    xero_runs: XeroToZoho | None = None  # xero_to_zoho runs
    deletions: ZohoDeletions | None = None  # Accounts deleted in Zoho: archive their contacts
    both_runs: BothWays | None = None  # `both` runs

    def spent_since(self, before: UpstreamCalls) -> UpstreamCalls:
        """What this thread spent since `before` was read from `calls`."""
        return self.calls().since(before)

    def xero_to_zoho(self) -> XeroToZoho:
        if self.xero_runs is None:
            raise RuntimeError("xero_to_zoho runs are not wired in this build")
        return self.xero_runs

    def both_ways(self) -> BothWays:
        if self.both_runs is None:
            raise RuntimeError("both-way runs are not wired in this build")
        return self.both_runs


def new_run_id(now: datetime) -> str:
    # Sortable by time for people reading logs; unique by the random part.
    return f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def iso(moment: datetime) -> str:
    """Window bounds go into COQL, which takes whole seconds."""
    return iso_seconds(moment)


def stamp(moment: datetime) -> str:
    """Start and finish to the millisecond, so a 1.3 s run lasts 1.3 s (not 0 or 2)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
