"""What the runs queue calls: one plan step or one batch per message, and what its errors mean.

Rate limits pause, never fail: work that meets Xero's limit goes back on the queue with a
delay, and the run shows "waiting" with the time it resumes. A passing error is retried by
SQS; on the last attempt (or a fatal error) a batch's Accounts are recorded as failed, and a
plan step fails the run.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RateLimitedError, RetriableError, SyncError
from chalicelib.models.calls import UpstreamCalls
from chalicelib.models.run_plan import SINGLE_LISTING_PHASES, BatchStatus, RunBatch
from chalicelib.models.runs import BOTH, XERO_TO_ZOHO, AccountResult, Run, RunAccount, RunState
from chalicelib.models.sync import Trigger
from chalicelib.run_queue import RunMessage
from chalicelib.services.runs.deps import RunDependencies, iso
from chalicelib.services.runs.lifecycle import Lifecycle
from chalicelib.services.runs.planner import Planner
from chalicelib.services.sync.messages import gave_up
from chalicelib.services.xero_index import XeroIndex
from chalicelib.services.zoho_pages import ZohoPages
from chalicelib.store.runs import decompress_index
from chalicelib.zoho.limits import CREDITS_PROBLEM

logger = logging.getLogger(__name__)

MAX_DEFERRALS = 400  # 15-minute waits: more than four days of rate limits
DEFAULT_WAIT_SECONDS = 30.0  # a rate limit that did not say how long


class Dispatcher:
    def __init__(self, deps: RunDependencies, lifecycle: Lifecycle, planner: Planner) -> None:
        self.deps = deps
        self.lifecycle = lifecycle
        self.planner = planner
        self._index_lock = threading.Lock()
        self._index: tuple[str, XeroIndex] | None = None
        self.pages = ZohoPages(deps.zoho, deps.runs, deps.field_map)

    def handle(self, message: RunMessage, deadline: Deadline, *, final_attempt: bool) -> None:
        """Do one plan step or one batch. Raises RetriableError when SQS should deliver it again."""
        run = self.deps.runs.get(message.run_id)
        if run is None or run.state.finished:
            logger.info("run message for a finished or unknown run ignored", extra={"run_id": message.run_id})
            return
        before = self.deps.calls()
        try:
            self._do(run, message, deadline, final_attempt)
        except RateLimitedError as error:
            self.deps.runs.add_calls(run.run_id, self.deps.spent_since(before))
            self._defer(run, message, error)
        except RetriableError as error:
            self.deps.runs.add_calls(run.run_id, self.deps.spent_since(before))
            if not final_attempt:
                raise
            self._give_up(run, message, error)
        except FatalError as error:
            self.deps.runs.add_calls(run.run_id, self.deps.spent_since(before))
            self._stop(run, message, error.message, error)
        metrics.run_step_done()  # the "run stuck" alarm watches these against the queue's depth

    def _do(self, run: Run, message: RunMessage, deadline: Deadline, final_attempt: bool) -> None:
        if message.kind == "plan":
            self.planner.plan(run, int(message.step or 0), deadline)
        else:
            self._batch(run, int(message.batch or 0), deadline, final_attempt)

    # --- a batch --------------------------------------------------------------

    def _batch(self, run: Run, number: int, deadline: Deadline, final_attempt: bool) -> None:
        batch = self._pending_batch(run, number)
        if batch is None:
            return  # already accounted (a duplicate delivery)
        before = self.deps.calls()
        if run.direction == XERO_TO_ZOHO:
            xero_to_zoho = self.deps.xero_to_zoho()
            outcomes = xero_to_zoho.sync_batch(run, batch.account_ids, deadline, final_attempt=final_attempt)
            self._account(run, number, outcomes, self.deps.spent_since(before))
            return
        if run.direction == BOTH:
            self._both_batch(run, batch, deadline, final_attempt)
            return
        index = self._index_for(run)
        preread = self.pages.read(run, batch, deadline)  # a full run: by id range, not per batch
        outcomes = self.deps.batches.sync_batch(
            run, batch.account_ids, index, deadline, final_attempt=final_attempt, preread=preread
        )
        if batch.phase == "carry":
            # Carried for a retry, found synced meanwhile by something else than this run (a
            # click, say): nothing to retry. If it changed, the window lists it and counts it.
            outcomes = [o for o in outcomes if o.result is not AccountResult.UNCHANGED]
        compact = batch.phase in SINGLE_LISTING_PHASES
        self._account(run, number, outcomes, self.deps.spent_since(before), compact_unchanged=compact)

    def _both_batch(self, run: Run, batch: RunBatch, deadline: Deadline, final_attempt: bool) -> None:
        before = self.deps.calls()
        both = self.deps.both_ways()
        outcomes = both.sync_batch(run, batch.account_ids, batch.phase, deadline, final_attempt=final_attempt)
        if batch.phase == "carry":  # as for a Zoho → Xero carry: nothing to retry
            outcomes = [o for o in outcomes if o.result is not AccountResult.UNCHANGED]
        self._account(run, batch.number, outcomes, self.deps.spent_since(before))

    def _pending_batch(self, run: Run, number: int) -> RunBatch | None:
        batch = self.deps.runs.get_batch(run.run_id, number)
        return batch if batch is not None and batch.status is BatchStatus.PENDING else None

    def _account(
        self,
        run: Run,
        number: int,
        outcomes: Sequence[RunAccount],
        calls: UpstreamCalls,
        *,
        compact_unchanged: bool = False,
    ) -> None:
        """Record the batch's outcomes once; the run may be done with it."""
        if not self.deps.runs.account_batch(
            run.run_id, number, outcomes, calls=calls, compact_unchanged=compact_unchanged
        ):
            return
        if not run.dry_run:  # counted here, exactly once per Account, like the run's own counts
            for result, count in Counter(o.result.value for o in outcomes).items():
                metrics.sync_finished(result, Trigger.RUN, count)
        if run.state is RunState.WAITING:
            self.deps.runs.set_state(run.run_id, RunState.RUNNING, only_from=[RunState.WAITING])
        self.lifecycle.finish_if_done(run.run_id)

    def _index_for(self, run: Run) -> XeroIndex:
        """The run's Xero index, read once per run by this Lambda and shared by its threads."""
        with self._index_lock:
            if self._index is not None and self._index[0] == run.run_id:
                return self._index[1]
            pages = self.deps.runs.iter_index_pages(run.run_id)
            index = XeroIndex([row for blob in pages for row in decompress_index(blob)])
            self._index = (run.run_id, index)
            return index

    # --- when it goes wrong ---------------------------------------------------

    def _stop(self, run: Run, message: RunMessage, text: str, error: SyncError) -> None:
        """A plan step that cannot go on fails the run; a batch's Accounts are recorded failed."""
        if message.kind == "plan":
            self.lifecycle.fail(run, text)
            return
        batch = self._pending_batch(run, int(message.batch or 0))
        if batch is None:
            return
        now = iso(self.deps.now())
        outcomes = [
            RunAccount(run.run_id, account_id, AccountResult.FAILED, error.message, at=now)
            for account_id in batch.account_ids
        ]
        self._account(run, batch.number, outcomes, UpstreamCalls())

    def _give_up(self, run: Run, message: RunMessage, error: RetriableError) -> None:
        text = f"The run could not list the Accounts to sync: {error.message} Start it again later."
        self._stop(run, message, text, gave_up(error))

    def _defer(self, run: Run, message: RunMessage, error: RateLimitedError) -> None:
        if message.deferrals >= MAX_DEFERRALS:
            self._give_up(run, message, error)
            return
        wait = error.retry_after if error.retry_after is not None else DEFAULT_WAIT_SECONDS
        resume = self.deps.now() + timedelta(seconds=wait)
        self.deps.runs.set_state(
            run.run_id,
            RunState.WAITING,
            message=_waiting(error, resume_hhmm=f"{resume:%H:%M}", resume_hhmmss=f"{resume:%H:%M:%S}"),
            resume_at=iso(resume),
            only_from=[RunState.RUNNING, RunState.PLANNING, RunState.WAITING],
        )
        again = message.model_copy(update={"deferrals": message.deferrals + 1})
        self.deps.queue.send(again, delay_seconds=wait)
        logger.info(
            "run paused for a rate limit",
            extra={"run_id": run.run_id, "problem": error.problem, "wait_seconds": round(wait)},
        )


def _waiting(error: RateLimitedError, *, resume_hhmm: str, resume_hhmmss: str) -> str:
    if error.problem == "day":
        return (
            "Xero's daily limit for this organisation is used up. The run is paused and continues "
            f"automatically at {resume_hhmm} UTC; nothing is lost."
        )
    if error.problem == CREDITS_PROBLEM:
        return (
            "Zoho CRM's API credits for the last 24 hours are used up. The run is paused and "
            f"continues automatically at {resume_hhmm} UTC; nothing is lost."
        )
    return f"Waiting for Xero's rate limit; continuing at {resume_hhmmss} UTC."
