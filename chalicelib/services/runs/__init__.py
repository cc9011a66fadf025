"""Use case: bulk runs — start one, plan it page by page, sync its batches, finish it.

A run never holds all its Accounts in memory and never runs in one Lambda:

    start ──► plan step 0 ──► plan step 1 ... ──► (planned)
                  │ index of Xero contacts, then pages of up to 2,000 Account ids
                  └──► batch messages (50 Accounts each) ──► BatchSyncer ──► accounting
                                                                          └─► finish

Read top-down:
    service.py     RunService: what the portal, the API, the schedule and the queue call
    lifecycle.py   start, retry, the one-at-a-time slot, finish, the watermark
    planner.py     one plan step: the typed cursor (models/run_plan.py) says what to read next
    dispatcher.py  one queue message: a plan step or a batch; rate limits, retries, giving up
    deps.py        what the engine works with (store, queue, clients) and its errors
"""

from __future__ import annotations

from chalicelib.services.runs.deps import RunDependencies, RunInProgressError, RunNotFoundError
from chalicelib.services.runs.service import RunService

__all__ = ["RunDependencies", "RunInProgressError", "RunNotFoundError", "RunService"]
