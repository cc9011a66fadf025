"""Bulk runs as stored: the run itself, its planned batches, per-Account outcomes and the Xero index.

The store persists and returns models; which run may take the slot, when the watermark
moves and which batches are still to send are decided in chalicelib/services/runs/.

Everything that must happen exactly once is a conditional write, so SQS's
at-least-once delivery can never count a batch twice or plan a page twice:

- a plan step commits (batches + cursor + counters) in one transaction that
  requires the run to still be at that step (plan.py);
- a batch is accounted (outcomes + counters + "done") in one transaction that
  requires the batch to still be pending, and each Account's outcome item
  must not exist yet: an Account planned twice is counted once (outcomes.py).

Most Accounts of most runs are unchanged. When the planner knows a batch's Accounts
are planned nowhere else in the run (`compact_unchanged`), their outcomes are kept on
the batch item itself (one zlib JSON attribute) instead of one item each: an
unchanged rerun of 1,000 Accounts writes 20 batch updates, not 1,000 items kept for
400 days. The batch's "pending" condition still makes it count once.

Items (see chalicelib/store/__init__.py for the table; keys and codecs in items.py):
    RUN#{id} / RUN              the Run; gsi1 RUNS / {created_at}#{id} lists runs newest first
    RUN#{id} / BATCH#{n:06d}    account_ids, status pending|done, phase (which plan phase
                                listed them), unchanged (their unchanged outcomes, zlib JSON)
    RUN#{id} / ACCT#{account}   the RunAccount; problems also in gsi1 RUNPROB#{id} / {account}
    RUN#{id} / XIDX#{n:05d}     one page of the Xero contact index (zlib JSON)
    RUNS / ACTIVE               the run in progress (one at a time per organisation)
    RUNS / LAST                 the last finished real run (since-last-run starts from its `until`)
"""

from __future__ import annotations

from chalicelib.models.run_plan import PlannedBatch, PlanStep, RunBatch, Watermark
from chalicelib.store.runs.items import compress_index, decompress_index
from chalicelib.store.runs.outcomes import OutcomeRecords
from chalicelib.store.runs.plan import PlanRecords, StepAlreadyCommittedError
from chalicelib.store.runs.records import RunConflictError, RunRecords


class RunRepository(RunRecords, PlanRecords, OutcomeRecords):
    """Every stored part of bulk runs, over one table (the parts share its client and clock)."""


__all__ = [
    "PlanStep",
    "PlannedBatch",
    "RunBatch",
    "RunConflictError",
    "RunRepository",
    "StepAlreadyCommittedError",
    "Watermark",
    "compress_index",
    "decompress_index",
]
