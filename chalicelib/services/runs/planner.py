"""Planning a run, one step per queue message: where the cursor stands decides what to read.

    IndexCursor    Xero's contacts, 1,000 a page, kept with the run (Zoho → Xero)
    XeroCursor     the contacts Xero changed in the window (Xero → Zoho: services/xero_runs.py)
    AccountsCursor Accounts ticked "Add to Xero" and modified in the window, 2,000 a page
    ContactsCursor Accounts whose Contacts changed in the window while they did not
    RetryCursor    the failed and rejected Accounts of the run being retried
    CarryCursor    what failed in the last run (a since-last-run run retries it too)

Zoho is paged with a keyset (Accounts on id, Contacts on (Modified_Time, id)), not an offset: our
own write-backs move synced Accounts out of the window while the run goes on, and an offset would
then skip Accounts. Accounts in id order let a full run's batches read Zoho by id range
(services/zoho_pages.py). The window's upper bound is the run's start; later edits belong to
the next run. Each step commits its batches and the next cursor at once (store/runs/plan.py),
then sends them; a redelivered step re-sends what is still pending.
"""

from __future__ import annotations

import logging
from typing import TypeAlias

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.models.run_plan import (
    AccountsCursor,
    BatchStatus,
    BothAccountsCursor,
    BothContactsCursor,
    BothXeroCursor,
    CarryCursor,
    ContactsCursor,
    IndexCursor,
    PlanCursor,
    PlannedBatch,
    PlanStep,
    RetryCursor,
    XeroCursor,
)
from chalicelib.models.runs import BOTH, XERO_TO_ZOHO, AccountResult, Run, RunAccount, RunState, WindowKind
from chalicelib.run_queue import RunMessage
from chalicelib.services.runs.both_plan import plan_both
from chalicelib.services.runs.deps import RunDependencies
from chalicelib.services.runs.lifecycle import Lifecycle
from chalicelib.services.runs.zoho_listing import changed_contacts_page, keyset
from chalicelib.services.xero_index import index_row
from chalicelib.store.runs import StepAlreadyCommittedError, compress_index
from chalicelib.zoho import queries

logger = logging.getLogger(__name__)
PLAN_DAMAGED = "The run's plan is damaged; start a new run."
XERO_PAGE = 1000  # Xero's maximum pageSize
# Contacts per batch of a xero_to_zoho run (one Zoho PUT each). A batch's outcomes are
# recorded in one DynamoDB transaction of at most 100 items, two of them the run's own.
XERO_TO_ZOHO_BATCH = 50
# One page of a plan: the ids to batch, the next cursor (None: planned), a Xero page to keep.
Page: TypeAlias = tuple[list[str], PlanCursor | None, tuple[int, bytes] | None]


class Planner:
    def __init__(self, deps: RunDependencies, lifecycle: Lifecycle) -> None:
        self.deps = deps
        self.lifecycle = lifecycle

    def plan(self, run: Run, step: int, deadline: Deadline) -> None:
        """Plan step `step`: read a page, commit its batches and the next cursor, send them."""
        if run.plan_step > step:
            self._resend_last_step(run, step)
            return
        if run.plan_step < step:
            return  # an older step is still to be committed; its message will come back
        if run.plan_damaged:
            raise FatalError(PLAN_DAMAGED, detail="the stored plan cursor could not be read")
        before = self.deps.calls()
        if step == 0:
            self._archive_deleted(run, deadline)
        cursor = run.plan_cursor or first_cursor(run)
        ids, next_cursor, index_page = self._page(run, cursor, deadline)
        batches = self._batches(run, ids, cursor.phase)
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
                    calls=self.deps.spent_since(before),
                ),
            )
        except StepAlreadyCommittedError:
            return
        self._send(run, step, [b.number for b in batches], next_cursor)

    def _archive_deleted(self, run: Run, deadline: Deadline) -> None:
        """A zoho_to_xero run first archives the contacts of Accounts deleted in Zoho (the same
        sweep the minute schedule makes; it remembers what it handled, so it never repeats)."""
        if run.direction == XERO_TO_ZOHO or run.dry_run or self.deps.deletions is None:
            return
        sweep = self.deps.deletions.archive_deleted_since(deadline)
        logger.info(
            "deleted accounts swept",
            extra={"run_id": run.run_id, "status": sweep.status, "archived": len(sweep.archived)},
        )

    def _batches(self, run: Run, ids: list[str], phase: str) -> list[PlannedBatch]:
        size = XERO_TO_ZOHO_BATCH if run.direction == XERO_TO_ZOHO else self.deps.batch_size
        starts = range(0, len(ids), size)
        return [
            PlannedBatch(run.batches_total + n, ids[start : start + size], phase=phase)
            for n, start in enumerate(starts)
        ]

    def _send(self, run: Run, step: int, numbers: list[int], next_cursor: PlanCursor | None) -> None:
        if numbers:
            self.deps.queue.send_batches(run.run_id, numbers)
            self.deps.runs.set_state(run.run_id, RunState.RUNNING, only_from=[RunState.PLANNING])
        if next_cursor is not None:
            self.deps.queue.send(RunMessage(kind="plan", run_id=run.run_id, step=step + 1))
        else:
            self.lifecycle.finish_if_done(run.run_id)

    def _resend_last_step(self, run: Run, step: int) -> None:
        """The step was committed but its messages may not have gone out (a crash in between)."""
        if run.plan_step != step + 1:
            return
        first, count = run.last_step_first_batch, run.last_step_batch_count
        planned = self.deps.runs.batches(run.run_id, range(first, first + count)) if count else []
        pending = [b.number for b in planned if b.status is BatchStatus.PENDING]
        self._send(run, step, pending, run.plan_cursor)

    # --- one page per kind of cursor ------------------------------------------

    def _page(self, run: Run, cursor: PlanCursor, deadline: Deadline) -> Page:
        match cursor:
            case IndexCursor():
                return self._index_page(run, cursor, deadline)
            case XeroCursor():
                return self.deps.xero_to_zoho().plan_page(run, cursor, deadline)
            case AccountsCursor():
                return self._accounts_page(run, cursor, deadline)
            case ContactsCursor():
                return self._contacts_page(run, cursor, deadline)
            case RetryCursor() | CarryCursor():
                return self._problems_page(run, cursor)
            case BothXeroCursor() | BothAccountsCursor() | BothContactsCursor():
                ids, more, kept = plan_both(self.deps, run, cursor, deadline)
                return ids, (more if more is not None else self._carry(run)), kept

    def _index_page(self, run: Run, cursor: IndexCursor, deadline: Deadline) -> Page:
        if cursor.page == 1:
            self.deps.runs.set_tenant(run.run_id, self.deps.xero.tenant_id(deadline))
        contacts = self.deps.xero.list_contacts_page(cursor.page, deadline, page_size=XERO_PAGE)
        kept = (cursor.page, compress_index([index_row(c) for c in contacts]))
        if len(contacts) >= XERO_PAGE:
            return [], IndexCursor(page=cursor.page + 1), kept
        return [], self._first_source(run), kept

    def _accounts_page(self, run: Run, cursor: AccountsCursor, deadline: Deadline) -> Page:
        fm = self.deps.field_map()
        after_id = cursor.after[1] if cursor.after else None  # id order: services/zoho_pages.py
        query = queries.accounts_changed_by_id(fm.add_to_xero_field, run.since, str(run.until), after_id)
        rows, more = self.deps.zoho.coql(query, deadline)
        ids = [str(r["id"]) for r in rows]
        if more and rows:
            return ids, AccountsCursor(after=keyset(rows[-1])), None
        return ids, self._after_accounts(run), None

    def _contacts_page(self, run: Run, cursor: ContactsCursor, deadline: Deadline) -> Page:
        """Accounts whose Contacts changed in the window while the Account itself did not."""
        page = changed_contacts_page(self.deps, run, cursor.after, list(cursor.seen), deadline)
        if page.after is not None:
            return page.ids, ContactsCursor(after=page.after, seen=page.seen), None
        return page.ids, self._carry(run), None

    def _problems_page(self, run: Run, cursor: RetryCursor | CarryCursor) -> Page:
        retrying = isinstance(cursor, RetryCursor)
        wanted = (AccountResult.FAILED, AccountResult.REJECTED) if retrying else (AccountResult.FAILED,)
        page, next_page = self.deps.runs.accounts(
            cursor.of, problems_only=True, limit=queries.PAGE, cursor=cursor.cursor
        )
        ids = [_key(p, run) for p in page if p.result in wanted]
        if next_page:
            return ids, cursor.model_copy(update={"cursor": next_page}), None
        return ids, None, None

    # --- what comes next -------------------------------------------------------

    def _first_source(self, run: Run) -> PlanCursor | None:
        if run.kind is WindowKind.RETRY:
            return RetryCursor(of=str(run.retry_of))
        return AccountsCursor()

    def _after_accounts(self, run: Run) -> PlanCursor | None:
        if run.since:
            return ContactsCursor()
        return self._carry(run)

    def _carry(self, run: Run) -> PlanCursor | None:
        """A since-last-run run also retries what failed (for passing reasons) in the last one."""
        if run.kind is not WindowKind.SINCE_LAST_RUN:
            return None
        last = self.deps.runs.last_finished()
        return CarryCursor(of=last.run_id) if last and last.run_id else None


def first_cursor(run: Run) -> PlanCursor:
    """A run's first plan step: Xero's index (Zoho → Xero), or Xero's changed contacts
    (Xero → Zoho, whose retry goes straight to the contacts that failed)."""
    if run.direction not in (XERO_TO_ZOHO, BOTH):
        return IndexCursor()
    if run.kind is WindowKind.RETRY:
        return RetryCursor(of=str(run.retry_of))
    return BothXeroCursor() if run.direction == BOTH else XeroCursor()


def _key(outcome: RunAccount, run: Run) -> str:
    """What a retry plans by: the Account (Zoho → Xero) or the Xero contact (Xero → Zoho)."""
    if run.direction == XERO_TO_ZOHO:
        return outcome.xero_contact_id or outcome.account_id
    return outcome.account_id
