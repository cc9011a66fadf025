"""Use case: bulk runs — start one, plan it page by page, sync its batches, finish it.

A run never holds all its Accounts in memory and never runs in one Lambda:

    start ──► plan step 0 ──► plan step 1 ... ──► (planned)
                  │ index of Xero contacts, then pages of up to 2,000 Account ids
                  └──► batch messages (50 Accounts each) ──► BatchSyncer ──► accounting
                                                                          └─► finish

Zoho is paged with a keyset cursor on (Modified_Time, id), not an offset: our own
write-backs move synced Accounts to the end of a Modified_Time ordering while the
run is going, and an offset would then skip Accounts. The window's upper bound is
the run's start; later edits belong to the next run.

Rate limits pause, never fail: a batch that meets Xero's limit goes back on the
queue with a delay, and the run shows "waiting" with the time it resumes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, InvalidRequestError, RateLimitedError, RetriableError, SyncError
from chalicelib.mapping import FieldMap
from chalicelib.models.runs import (
    XERO_TO_ZOHO,
    AccountResult,
    Run,
    RunAccount,
    RunOrigin,
    RunState,
    StartRunRequest,
    WindowKind,
)
from chalicelib.models.sync import Trigger
from chalicelib.run_queue import RunMessage
from chalicelib.services.bulk_sync import BatchSyncer, gave_up
from chalicelib.services.xero_index import XeroIndex, index_row
from chalicelib.store.runs import (
    PlannedBatch,
    PlanStep,
    RunConflictError,
    StepAlreadyCommittedError,
    StoredBatch,
    compress_index,
    decompress_index,
)
from chalicelib.xero.client import XeroClient
from chalicelib.zoho import coql
from chalicelib.zoho.client import ZohoClient

logger = logging.getLogger(__name__)

PLAN_PAGE = 2000  # COQL's maximum LIMIT
XERO_PAGE = 1000  # Xero's maximum pageSize
# Contacts per batch of a xero_to_zoho run (one Zoho PUT each). A batch's outcomes are
# recorded in one DynamoDB transaction of at most 100 items, two of them the run's own.
XERO_TO_ZOHO_BATCH = 50
MAX_DEFERRALS = 400  # 15-minute waits: more than four days of rate limits
MAX_SEEN = 5000  # contact-pass dedupe memory carried between plan steps
# Plan phases that never list an Account twice in a run: Accounts by a keyset on
# (Modified_Time, id) up to the run's start (an edit meanwhile moves it past the end), and
# a retry's problems (one item per Account). Their batches keep unchanged outcomes on the
# batch item. The contacts pass (its dedupe memory is bounded) and the carry (failures of
# the last run, which the window may list too) record every outcome as its own item, which
# counts an Account planned twice once.
SINGLE_LISTING_PHASES = ("accounts", "retry")


class RunInProgressError(Exception):
    def __init__(self, run: Run) -> None:
        super().__init__(f"run {run.run_id} is in progress")
        self.run = run


class RunNotFoundError(Exception):
    pass


class RunStore(Protocol):
    def create(self, run: Run, *, stale_after_seconds: float) -> Run: ...
    def get(self, run_id: str) -> Run | None: ...
    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]: ...
    def last_finished(self) -> dict[str, Any] | None: ...
    def set_state(self, run_id: str, state: RunState, **kwargs: Any) -> bool: ...
    def finish(self, run: Run, state: RunState, finished_at: str, message: str | None = None) -> bool: ...
    def set_tenant(self, run_id: str, tenant_id: str) -> None: ...
    def commit_step(self, run_id: str, step: PlanStep) -> None: ...
    def get_batch(self, run_id: str, number: int) -> StoredBatch | None: ...
    def pending_batches(self, run_id: str, first: int, count: int) -> list[int]: ...
    def iter_index_pages(self, run_id: str) -> Iterator[bytes]: ...
    def account_batch(
        self,
        run_id: str,
        number: int,
        outcomes: list[RunAccount],
        *,
        calls: tuple[int, ...],
        compact_unchanged: bool = False,
    ) -> bool: ...
    def add_calls(self, run_id: str, calls: tuple[int, ...]) -> None: ...
    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[RunAccount], str | None]: ...


class Queue(Protocol):
    def send(self, message: RunMessage, delay_seconds: float = 0) -> None: ...
    def send_batches(self, run_id: str, numbers: list[int]) -> None: ...
    def dead_letters(self) -> int: ...


@dataclass
class RunDependencies:
    runs: RunStore
    queue: Queue
    zoho: ZohoClient
    xero: XeroClient
    batches: BatchSyncer
    field_map: Callable[[], FieldMap]
    calls: Callable[[], tuple[int, ...]]  # (Xero, Zoho) requests sent so far by this thread, Zoho credits
    notify: Callable[[Run], None] | None = None
    schedule_hours: float = 4.0
    batch_size: int = 50
    overlap_seconds: float = 300.0
    stale_after_seconds: float = 3600.0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    xero_runs: Any = None  # xero_to_zoho runs: services/xero_runs.XeroRuns


class RunService:
    def __init__(self, deps: RunDependencies) -> None:
        self.deps = deps
        self._index_lock = threading.Lock()
        self._index: tuple[str, XeroIndex] | None = None

    # --- what users call ----------------------------------------------------

    def start(self, request: StartRunRequest, *, trigger: str = RunOrigin.PORTAL) -> Run:
        now = self.deps.now()
        since: str | None = None
        if request.kind is WindowKind.DAYS:
            since = _iso(now - timedelta(days=request.days or 0))
        elif request.kind is WindowKind.SINCE_LAST_RUN:
            last = self.deps.runs.last_finished()
            if last and last.get("until"):
                since = _iso(_parse(str(last["until"])) - timedelta(seconds=self.deps.overlap_seconds))
        run = Run(
            run_id=_new_run_id(now),
            kind=request.kind,
            state=RunState.PLANNING,
            created_at=_iso(now),
            started_at=_stamp(now),
            trigger=str(trigger),
            dry_run=request.dry_run,
            days=request.days,
            since=since,
            until=_iso(now),
            direction=request.direction,
        )
        return self._launch(run)

    def retry(self, run_id: str, *, trigger: str = RunOrigin.PORTAL, dry_run: bool = False) -> Run:
        """A new run over the failed and rejected Accounts of `run_id`.

        A retry of a dry run is a dry run too: whoever looked at a dry run's problems asked
        to see them again, never to write to Xero and Zoho (`dry_run` only adds, never removes).
        """
        old = self.get(run_id)
        if old is None:
            raise RunNotFoundError(run_id)
        if not old.state.finished:
            raise RunInProgressError(old)
        if old.counts.get("failed", 0) + old.counts.get("rejected", 0) == 0:
            raise InvalidRequestError(
                f"Run {run_id} has no failed or rejected Accounts, so there is nothing to retry."
            )
        now = self.deps.now()
        run = Run(
            run_id=_new_run_id(now),
            kind=WindowKind.RETRY,
            state=RunState.PLANNING,
            created_at=_iso(now),
            started_at=_stamp(now),
            trigger=str(trigger),
            dry_run=old.dry_run or dry_run,
            retry_of=run_id,
            until=_iso(now),
            direction=old.direction,
        )
        return self._launch(run)

    def get(self, run_id: str) -> Run | None:
        return self.deps.runs.get(run_id)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]:
        return self.deps.runs.list(limit=limit, cursor=cursor)

    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[RunAccount], str | None]:
        return self.deps.runs.accounts(run_id, problems_only=problems_only, limit=limit, cursor=cursor)

    def dead_letters(self) -> int:
        return self.deps.queue.dead_letters()

    def next_scheduled_at(self) -> str | None:
        """When the schedule will next start a run (from the last scheduled run and the interval)."""
        runs, _ = self.deps.runs.list(limit=20)
        scheduled = [r for r in runs if r.trigger == RunOrigin.SCHEDULE]
        if not scheduled:
            return None
        moment = _parse(scheduled[0].created_at) + timedelta(hours=self.deps.schedule_hours)
        return _iso(moment)

    def _launch(self, run: Run) -> Run:
        try:
            self.deps.runs.create(run, stale_after_seconds=self.deps.stale_after_seconds)
        except RunConflictError as conflict:
            holder = self.deps.runs.get(conflict.run_id)
            raise RunInProgressError(holder or run) from None
        try:
            self.deps.queue.send(RunMessage(kind="plan", run_id=run.run_id, step=0))
        except Exception:
            self.deps.runs.finish(run, RunState.FAILED, _stamp(self.deps.now()), message=PLAN_QUEUE_DOWN)
            raise
        logger.info(
            "run started", extra={"run_id": run.run_id, "window": run.kind.value, "dry_run": run.dry_run}
        )
        return run

    # --- what the queue calls -----------------------------------------------

    def handle(self, message: RunMessage, deadline: Deadline, *, final_attempt: bool) -> None:
        """Do one plan step or one batch. Raises RetriableError when SQS should deliver it again."""
        run = self.deps.runs.get(message.run_id)
        if run is None or run.state.finished:
            logger.info("run message for a finished or unknown run ignored", extra={"run_id": message.run_id})
            return
        before = self.deps.calls()
        try:
            if message.kind == "plan":
                self._plan(run, int(message.step or 0), deadline)
            else:
                self._batch(run, int(message.batch or 0), deadline, final_attempt)
        except RateLimitedError as error:
            self.deps.runs.add_calls(run.run_id, self._spent(before))
            self._defer(run, message, error)
        except RetriableError as error:
            self.deps.runs.add_calls(run.run_id, self._spent(before))
            if not final_attempt:
                raise
            self._give_up(run, message, error)
        except FatalError as error:
            self.deps.runs.add_calls(run.run_id, self._spent(before))
            if message.kind == "plan":
                self._fail(run, error.message)
            else:
                self._account_failed_batch(run, int(message.batch or 0), error)
        metrics.run_step_done()  # the "run stuck" alarm watches these against the queue's depth

    # --- planning -----------------------------------------------------------

    def _plan(self, run: Run, step: int, deadline: Deadline) -> None:
        if run.plan_step > step:
            self._resend_last_step(run, step)
            return
        if run.plan_step < step:
            return  # an older step is still to be committed; its message will come back
        before = self.deps.calls()
        cursor = run.plan_cursor or _start(run)
        ids, next_cursor, index_page = self._plan_page(run, cursor, deadline)
        first = run.batches_total
        size = XERO_TO_ZOHO_BATCH if run.direction == XERO_TO_ZOHO else self.deps.batch_size
        batches = [
            PlannedBatch(first + n, ids[start : start + size], phase=str(cursor["phase"]))
            for n, start in enumerate(range(0, len(ids), size))
        ]
        try:
            self.deps.runs.commit_step(
                run.run_id,
                PlanStep(
                    step=step,
                    next_cursor=next_cursor,
                    batches=batches,
                    planned_accounts=len(ids),
                    done=next_cursor is None,
                    index_page=index_page,
                    calls=self._spent(before),
                ),
            )
        except StepAlreadyCommittedError:
            return
        self._after_step(run, step, [b.number for b in batches], next_cursor)

    def _after_step(
        self, run: Run, step: int, numbers: list[int], next_cursor: dict[str, Any] | None
    ) -> None:
        if numbers:
            self.deps.queue.send_batches(run.run_id, numbers)
            self.deps.runs.set_state(run.run_id, RunState.RUNNING, only_from=[RunState.PLANNING])
        if next_cursor is not None:
            self.deps.queue.send(RunMessage(kind="plan", run_id=run.run_id, step=step + 1))
        else:
            self._maybe_finish(run.run_id)

    def _resend_last_step(self, run: Run, step: int) -> None:
        """The step was committed but its messages may not have gone out (a crash in between)."""
        if run.plan_step != step + 1:
            return
        numbers = []
        if run.last_step_batch_count:
            numbers = self.deps.runs.pending_batches(
                run.run_id, run.last_step_first_batch, run.last_step_batch_count
            )
        self._after_step(run, step, numbers, run.plan_cursor)

    def _plan_page(
        self, run: Run, cursor: dict[str, Any], deadline: Deadline
    ) -> tuple[list[str], dict[str, Any] | None, tuple[int, bytes] | None]:
        phase = cursor["phase"]
        if phase == "index":
            return self._index_page(run, cursor, deadline)
        if phase == "xero":  # xero_to_zoho: the contacts Xero changed in the window
            return self.deps.xero_runs.plan_page(run, cursor, deadline)
        if phase == "accounts":
            return self._accounts_page(run, cursor, deadline)
        if phase == "contacts":
            return self._contacts_page(run, cursor, deadline)
        if phase in ("retry", "carry"):
            return self._problems_page(run, cursor)
        raise FatalError("The run's plan is damaged; start a new run.", detail=f"unknown phase {phase}")

    def _index_page(
        self, run: Run, cursor: dict[str, Any], deadline: Deadline
    ) -> tuple[list[str], dict[str, Any] | None, tuple[int, bytes] | None]:
        page = int(cursor["page"])
        if page == 1:
            self.deps.runs.set_tenant(run.run_id, self.deps.xero.tenant_id(deadline))
        contacts = self.deps.xero.list_contacts_page(page, deadline, page_size=XERO_PAGE)
        blob = compress_index([index_row(c) for c in contacts])
        if len(contacts) >= XERO_PAGE:
            return [], {"phase": "index", "page": page + 1}, (page, blob)
        return [], self._first_source(run), (page, blob)

    def _first_source(self, run: Run) -> dict[str, Any] | None:
        if run.kind is WindowKind.RETRY:
            return {"phase": "retry", "of": run.retry_of, "cursor": None}
        return {"phase": "accounts", "after": None}

    def _after_accounts(self, run: Run) -> dict[str, Any] | None:
        if run.since:
            return {"phase": "contacts", "after": None, "seen": []}
        return self._carry(run)

    def _carry(self, run: Run) -> dict[str, Any] | None:
        """A since-last-run run also retries what failed (for passing reasons) in the last one."""
        if run.kind is not WindowKind.SINCE_LAST_RUN:
            return None
        last = self.deps.runs.last_finished()
        if not last or not last.get("run_id"):
            return None
        return {"phase": "carry", "of": str(last["run_id"]), "cursor": None}

    def _accounts_page(
        self, run: Run, cursor: dict[str, Any], deadline: Deadline
    ) -> tuple[list[str], dict[str, Any] | None, None]:
        fm = self.deps.field_map()
        criteria = [
            f"{fm.add_to_xero_field} = true",
            _window(run, "Modified_Time"),
            _after(cursor.get("after")),
        ]
        query = coql.select(
            ["id", "Modified_Time"],
            "Accounts",
            coql.all_of(*criteria),
            f"order by Modified_Time asc, id asc limit {PLAN_PAGE}",
        )
        rows, more = self.deps.zoho.coql(query, deadline)
        ids = [str(r["id"]) for r in rows]
        if more and rows:
            last = rows[-1]
            return ids, {"phase": "accounts", "after": [last["Modified_Time"], str(last["id"])]}, None
        return ids, self._after_accounts(run), None

    def _contacts_page(
        self, run: Run, cursor: dict[str, Any], deadline: Deadline
    ) -> tuple[list[str], dict[str, Any] | None, None]:
        """Accounts whose Contacts changed in the window while the Account itself did not."""
        fm = self.deps.field_map()
        lookup = fm.contact_account_field
        criteria = [
            _window(run, "Modified_Time"),
            f"{lookup}.{fm.add_to_xero_field} = true",
            f"{lookup}.Modified_Time < {coql.text(str(run.since))}",
            _after(cursor.get("after")),
        ]
        query = coql.select(
            ["id", lookup, "Modified_Time"],
            "Contacts",
            coql.all_of(*criteria),
            f"order by Modified_Time asc, id asc limit {PLAN_PAGE}",
        )
        rows, more = self.deps.zoho.coql(query, deadline)
        seen = list(cursor.get("seen") or [])
        known = set(seen)
        ids = []
        for row in rows:
            account = row.get(lookup)
            account_id = str(account.get("id")) if isinstance(account, dict) else None
            if account_id and account_id not in known:
                known.add(account_id)
                seen.append(account_id)
                ids.append(account_id)
        if more and rows:
            last = rows[-1]
            after = [last["Modified_Time"], str(last["id"])]
            return ids, {"phase": "contacts", "after": after, "seen": seen[-MAX_SEEN:]}, None
        return ids, self._carry(run), None

    def _problems_page(
        self, run: Run, cursor: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any] | None, None]:
        wanted = (
            (AccountResult.FAILED, AccountResult.REJECTED)
            if cursor["phase"] == "retry"
            else (AccountResult.FAILED,)
        )
        page, next_cursor = self.deps.runs.accounts(
            str(cursor["of"]), problems_only=True, limit=PLAN_PAGE, cursor=cursor.get("cursor")
        )
        ids = [_key(p, run) for p in page if p.result in wanted]
        if next_cursor:
            return ids, {**cursor, "cursor": next_cursor}, None
        return ids, None, None

    # --- batches ------------------------------------------------------------

    def _batch(self, run: Run, number: int, deadline: Deadline, final_attempt: bool) -> None:
        batch = self.deps.runs.get_batch(run.run_id, number)
        if batch is None or batch.status != "pending":
            return  # already accounted (a duplicate delivery)
        before = self.deps.calls()
        if run.direction == XERO_TO_ZOHO:
            outcomes = self.deps.xero_runs.sync_batch(run, batch[0], deadline, final_attempt=final_attempt)
            self._account(run, number, outcomes, self._spent(before))
            return
        index = self._index_for(run)
        outcomes = self.deps.batches.sync_batch(
            run, batch.account_ids, index, deadline, final_attempt=final_attempt
        )
        if batch.phase == "carry":
            # Carried for a retry, found synced meanwhile by something else than this run (a
            # click, say): nothing to retry. If it changed, the window lists it and counts it.
            outcomes = [o for o in outcomes if o.result is not AccountResult.UNCHANGED]
        compact = batch.phase in SINGLE_LISTING_PHASES
        self._account(run, number, outcomes, self._spent(before), compact_unchanged=compact)

    def _account(
        self,
        run: Run,
        number: int,
        outcomes: list[RunAccount],
        calls: tuple[int, ...],
        *,
        compact_unchanged: bool = False,
    ) -> None:
        if self.deps.runs.account_batch(
            run.run_id, number, outcomes, calls=calls, compact_unchanged=compact_unchanged
        ):
            if not run.dry_run:  # counted here, exactly once per Account, like the run's own counts
                for result, count in Counter(o.result.value for o in outcomes).items():
                    metrics.sync_finished(result, Trigger.RUN, count)
            if run.state is RunState.WAITING:
                self.deps.runs.set_state(run.run_id, RunState.RUNNING, only_from=[RunState.WAITING])
            self._maybe_finish(run.run_id)

    def _index_for(self, run: Run) -> XeroIndex:
        with self._index_lock:
            if self._index is not None and self._index[0] == run.run_id:
                return self._index[1]
            rows = [
                row for blob in self.deps.runs.iter_index_pages(run.run_id) for row in decompress_index(blob)
            ]
            index = XeroIndex(rows)
            self._index = (run.run_id, index)
            return index

    def _account_failed_batch(self, run: Run, number: int, error: SyncError) -> None:
        batch = self.deps.runs.get_batch(run.run_id, number)
        if batch is None or batch[1] != "pending":
            return
        now = _iso(self.deps.now())
        outcomes = [
            RunAccount(run.run_id, account_id, AccountResult.FAILED, error.message, at=now)
            for account_id in batch[0]
        ]
        self._account(run, number, outcomes, (0, 0))

    def _give_up(self, run: Run, message: RunMessage, error: RetriableError) -> None:
        if message.kind == "plan":
            self._fail(
                run, f"The run could not list the Accounts to sync: {error.message} Start it again later."
            )
        else:
            self._account_failed_batch(run, int(message.batch or 0), gave_up(error))

    # --- pausing and finishing ----------------------------------------------

    def _defer(self, run: Run, message: RunMessage, error: RateLimitedError) -> None:
        wait = error.retry_after if error.retry_after is not None else 30.0
        if message.deferrals >= MAX_DEFERRALS:
            self._give_up(run, message, error)
            return
        resume = self.deps.now() + timedelta(seconds=wait)
        if error.problem == "day":
            text = (
                "Xero's daily limit for this organisation is used up. The run is paused and continues "
                f"automatically at {resume:%H:%M} UTC; nothing is lost."
            )
        elif error.problem == "zoho_credits":  # chalicelib/zoho/limits.py CREDITS_PROBLEM
            text = (
                "Zoho CRM's API credits for the last 24 hours are used up. The run is paused and "
                f"continues automatically at {resume:%H:%M} UTC; nothing is lost."
            )
        else:
            text = f"Waiting for Xero's rate limit; continuing at {resume:%H:%M:%S} UTC."
        self.deps.runs.set_state(
            run.run_id,
            RunState.WAITING,
            message=text,
            resume_at=_iso(resume),
            only_from=[RunState.RUNNING, RunState.PLANNING, RunState.WAITING],
        )
        self.deps.queue.send(
            message.model_copy(update={"deferrals": message.deferrals + 1}), delay_seconds=wait
        )
        logger.info(
            "run paused for a rate limit",
            extra={"run_id": run.run_id, "problem": error.problem, "wait_seconds": round(wait)},
        )

    def _maybe_finish(self, run_id: str) -> None:
        run = self.deps.runs.get(run_id)
        if run is None or run.state.finished or not run.planned or run.batches_done < run.batches_total:
            return
        problems = run.counts.get("failed", 0) + run.counts.get("rejected", 0)
        state = RunState.COMPLETED_WITH_ERRORS if problems else RunState.COMPLETED
        message = _summary(run, problems)
        if self.deps.runs.finish(run, state, _stamp(self.deps.now()), message=message):
            self._measure_finished(run)
            logger.info("run finished", extra={"run_id": run_id, "state": state.value, "counts": run.counts})
            self._notify(run_id)

    def _fail(self, run: Run, text: str) -> None:
        if self.deps.runs.finish(run, RunState.FAILED, _stamp(self.deps.now()), message=text):
            self._measure_finished(run)
            logger.warning("run failed", extra={"run_id": run.run_id, "reason": text})
            self._notify(run.run_id)

    def _measure_finished(self, run: Run) -> None:
        started = _parse(run.started_at or run.created_at)
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

    def _spent(self, before: tuple[int, ...]) -> tuple[int, ...]:
        """(Xero calls, Zoho calls[, Zoho credits]) spent since `before`."""
        return tuple(now - then for now, then in zip(self.deps.calls(), before, strict=True))


PLAN_QUEUE_DOWN = "The run could not be queued (the queue service did not answer). Please start it again."


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


def _window(run: Run, column: str) -> str:
    upper = f"{column} <= {coql.text(str(run.until))}"
    if not run.since:
        return upper
    return coql.all_of(f"{column} >= {coql.text(run.since)}", upper)


def _after(after: list[str] | None) -> str:
    """Keyset: rows strictly after (Modified_Time, id) of the last row of the previous page."""
    if not after:
        return ""
    moment, record_id = coql.text(after[0]), coql.id_list([after[1]])[1:-1]
    return coql.any_of(
        f"Modified_Time > {moment}", coql.all_of(f"Modified_Time = {moment}", f"id > {record_id}")
    )


def _start(run: Run) -> dict[str, Any]:
    """A run's first plan step: Xero's index (Zoho → Xero), or Xero's changed contacts
    (Xero → Zoho, whose retry goes straight to the contacts that failed)."""
    if run.direction != XERO_TO_ZOHO:
        return {"phase": "index", "page": 1}
    if run.kind is WindowKind.RETRY:
        return {"phase": "retry", "of": run.retry_of, "cursor": None}
    return {"phase": "xero", "page": 1}


def _key(outcome: RunAccount, run: Run) -> str:
    """What a retry plans by: the Account (Zoho → Xero) or the Xero contact (Xero → Zoho)."""
    if run.direction == XERO_TO_ZOHO:
        return outcome.xero_contact_id or outcome.account_id
    return outcome.account_id


def _new_run_id(now: datetime) -> str:
    # Sortable by time for people reading logs; unique by the random part.
    return f"{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _stamp(moment: datetime) -> str:
    """Start and finish to the millisecond, so a 1.3 s run lasts 1.3 s (not 0 or 2).

    Only these two: window bounds go into COQL, which takes whole seconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
