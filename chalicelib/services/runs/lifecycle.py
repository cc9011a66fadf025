"""A run's life: started (or retried) in the one-at-a-time slot, finished once, then the
watermark that the next since-last-run run starts from, and the slot freed.

A slot whose run finished, or made no progress for `stale_after_seconds` (a crashed run),
is taken over by the next start.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chalicelib import metrics
from chalicelib.errors import InvalidRequestError
from chalicelib.models.run_plan import Watermark
from chalicelib.models.runs import AccountResult, Run, RunOrigin, RunState, StartRunRequest, WindowKind
from chalicelib.run_queue import RunMessage
from chalicelib.services.runs.deps import (
    RunDependencies,
    RunInProgressError,
    RunNotFoundError,
    iso,
    new_run_id,
    stamp,
)
from chalicelib.store.runs import RunConflictError
from chalicelib.timestamps import parse_iso

logger = logging.getLogger(__name__)

PLAN_QUEUE_DOWN = "The run could not be queued (the queue service did not answer). Please start it again."


class Lifecycle:
    def __init__(self, deps: RunDependencies) -> None:
        self.deps = deps

    # --- starting -------------------------------------------------------------

    def start(self, request: StartRunRequest, *, trigger: str = RunOrigin.PORTAL) -> Run:
        run = self._new_run(
            request.kind,
            trigger,
            dry_run=request.dry_run,
            days=request.days,
            since=self._since(request),
            direction=request.direction,
        )
        return self._launch(run)

    def _since(self, request: StartRunRequest) -> str | None:
        """The window's lower bound: N days back, or the last real run's end less an overlap."""
        if request.kind is WindowKind.DAYS:
            return iso(self.deps.now() - timedelta(days=request.days or 0))
        if request.kind is WindowKind.SINCE_LAST_RUN:
            last = self.deps.runs.last_finished()
            if last and last.until:
                return iso(parse_iso(last.until) - timedelta(seconds=self.deps.overlap_seconds))
        return None

    def retry(self, run_id: str, *, trigger: str = RunOrigin.PORTAL, dry_run: bool = False) -> Run:
        """A new run over the failed and rejected Accounts of `run_id`.

        A retry of a dry run is a dry run too: whoever looked at a dry run's problems asked
        to see them again, never to write to Xero and Zoho (`dry_run` only adds, never removes).
        """
        old = self.deps.runs.get(run_id)
        if old is None:
            raise RunNotFoundError(run_id)
        if not old.state.finished:
            raise RunInProgressError(old)
        if old.counts.get("failed", 0) + old.counts.get("rejected", 0) == 0:
            raise InvalidRequestError(
                f"Run {run_id} has no failed or rejected Accounts, so there is nothing to retry."
            )
        run = self._new_run(
            WindowKind.RETRY,
            trigger,
            dry_run=old.dry_run or dry_run,
            retry_of=run_id,
            direction=old.direction,
        )
        return self._launch(run)

    def _new_run(self, kind: WindowKind, trigger: str, **window: Any) -> Run:
        """A run starting now: its window ends now (later edits belong to the next run)."""
        now = self.deps.now()
        return Run(
            run_id=new_run_id(now),
            kind=kind,
            state=RunState.PLANNING,
            created_at=iso(now),
            started_at=stamp(now),
            trigger=str(trigger),
            until=iso(now),
            **window,
        )

    def _launch(self, run: Run) -> Run:
        self._take_slot(run)
        try:
            self.deps.queue.send(RunMessage(kind="plan", run_id=run.run_id, step=0))
        except Exception:
            self._close(run, RunState.FAILED, PLAN_QUEUE_DOWN)
            raise
        logger.info(
            "run started", extra={"run_id": run.run_id, "window": run.kind.value, "dry_run": run.dry_run}
        )
        return run

    def _take_slot(self, run: Run) -> None:
        """Store the run in the free slot, or in place of a finished or stalled holder."""
        holder_id = self.deps.runs.active_run_id()
        holder = self.deps.runs.get(holder_id) if holder_id else None
        if holder is not None and not holder.state.finished and not self._stalled(holder):
            raise RunInProgressError(holder)
        try:
            self.deps.runs.create(run, replacing=holder_id)
        except RunConflictError as conflict:
            raise RunInProgressError(self.deps.runs.get(conflict.run_id) or run) from None

    def _stalled(self, run: Run) -> bool:
        if run.updated_at is None:
            return False
        return self.deps.now().timestamp() - run.updated_at > self.deps.stale_after_seconds

    def next_scheduled_at(self) -> str | None:
        """When the schedule will next start a run (from the last scheduled run and the interval)."""
        runs, _ = self.deps.runs.list(limit=20)
        scheduled = [r for r in runs if r.trigger == RunOrigin.SCHEDULE]
        if not scheduled:
            return None
        return iso(parse_iso(scheduled[0].created_at) + timedelta(hours=self.deps.schedule_hours))

    # --- finishing ------------------------------------------------------------

    def finish_if_done(self, run_id: str) -> None:
        """Finish the run once every batch is planned and accounted."""
        run = self.deps.runs.get(run_id)
        if run is None or run.state.finished or not run.planned or run.batches_done < run.batches_total:
            return
        problems = run.counts.get("failed", 0) + run.counts.get("rejected", 0)
        state = RunState.COMPLETED_WITH_ERRORS if problems else RunState.COMPLETED
        if self._close(run, state, _summary(run, problems)):
            self._measure(run)
            logger.info("run finished", extra={"run_id": run_id, "state": state.value, "counts": run.counts})
            self._notify(run_id)

    def fail(self, run: Run, text: str) -> None:
        if self._close(run, RunState.FAILED, text):
            self._measure(run)
            logger.warning("run failed", extra={"run_id": run.run_id, "reason": text})
            self._notify(run.run_id)

    def _close(self, run: Run, state: RunState, message: str) -> bool:
        """Finish the run (once), move the watermark and free the slot. False if finished before."""
        if not self.deps.runs.finish(run.run_id, state, stamp(self.deps.now()), message=message):
            return False
        if moves_watermark(run, state):
            self.deps.runs.set_watermark(Watermark(run.run_id, run.until, run.kind.value))
        self.deps.runs.release_slot(run.run_id)
        return True

    def _measure(self, run: Run) -> None:
        started = parse_iso(run.started_at or run.created_at)
        accounts = sum(run.counts.get(name, 0) for name in AccountResult)
        metrics.run_finished((self.deps.now() - started).total_seconds(), accounts)

    def _notify(self, run_id: str) -> None:
        if self.deps.notify is None:
            return
        run = self.deps.runs.get(run_id)
        try:
            if run is not None:
                self.deps.notify(run)
        except Exception:  # a summary e-mail must never undo a finished run
            logger.exception("could not send the run summary", extra={"run_id": run_id})


def moves_watermark(run: Run, state: RunState) -> bool:
    """Only a real run that went through its window: a dry run wrote nothing, a failed one
    may have stopped half-way (the next since-last-run run must cover its window again)."""
    return not run.dry_run and state is not RunState.FAILED


def _summary(run: Run, problems: int) -> str:
    c = run.counts
    text = f"{c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
    if run.dry_run:
        text = "Dry run, nothing was written: " + text.replace("created", "to create").replace(
            "updated", "to update"
        )
    if problems:
        text += f"; {c['rejected']} rejected and {c['failed']} failed (see the problems)"
    return text + "."
