"""A bulk run's plan: where its planner stands (the cursor), and what one plan step adds.

The cursor is one of a few shapes, told apart by `phase`; it is stored with the run as
JSON and read back into the same shape (a pydantic discriminated union), so a damaged or
unknown cursor is refused where it is read, not half-way through a plan step.

    index ──► accounts ──► contacts ──► carry        (Zoho → Xero; a retry: index ──► retry)
    xero                                             (Xero → Zoho; a retry: retry)
    both_xero ──► both_accounts ──► both_contacts ──► carry   (both ways; a retry: retry)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chalicelib.models.calls import UpstreamCalls


class _Cursor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexCursor(_Cursor):
    """Zoho → Xero: reading Xero's contacts into the run's index, a page at a time."""

    phase: Literal["index"] = "index"
    page: int = 1


class XeroCursor(_Cursor):
    """Xero → Zoho: the contacts Xero changed in the window, a page at a time."""

    phase: Literal["xero"] = "xero"
    page: int = 1


class AccountsCursor(_Cursor):
    """The Accounts of the window, keyset-paged on (Modified_Time, id) after `after`."""

    phase: Literal["accounts"] = "accounts"
    after: tuple[str, str] | None = None


class ContactsCursor(_Cursor):
    """Accounts whose Contacts changed in the window; `seen` bounds the dedupe memory."""

    phase: Literal["contacts"] = "contacts"
    after: tuple[str, str] | None = None
    seen: list[str] = Field(default_factory=list)


class RetryCursor(_Cursor):
    """A retry: the failed and rejected Accounts (or contacts) of run `of`."""

    phase: Literal["retry"] = "retry"
    of: str
    cursor: str | None = None  # the page cursor into that run's problems


class CarryCursor(_Cursor):
    """A since-last-run run also retries what failed in the last run (`of`)."""

    phase: Literal["carry"] = "carry"
    of: str
    cursor: str | None = None


class BothXeroCursor(_Cursor):
    """Both ways, first: the contacts Xero changed in the window, kept with the run."""

    phase: Literal["both_xero"] = "both_xero"
    page: int = 1


class BothAccountsCursor(_Cursor):
    """Both ways, then: the Accounts Zoho changed in the window (keyset as AccountsCursor)."""

    phase: Literal["both_accounts"] = "both_accounts"
    after: tuple[str, str] | None = None


class BothContactsCursor(_Cursor):
    """Both ways, last: Accounts whose Contacts changed in the window while they did not."""

    phase: Literal["both_contacts"] = "both_contacts"
    after: tuple[str, str] | None = None
    seen: list[str] = Field(default_factory=list)


BothCursor = BothXeroCursor | BothAccountsCursor | BothContactsCursor

PlanCursor = Annotated[
    IndexCursor
    | XeroCursor
    | AccountsCursor
    | ContactsCursor
    | RetryCursor
    | CarryCursor
    | BothXeroCursor
    | BothAccountsCursor
    | BothContactsCursor,
    Field(discriminator="phase"),
]
PLAN_CURSOR: TypeAdapter[PlanCursor] = TypeAdapter(PlanCursor)

# Phases that never list an Account twice in a run: Accounts by a keyset on (Modified_Time,
# id) up to the run's start (an edit meanwhile moves it past the end), and a retry's problems
# (one item per Account). Their batches keep unchanged outcomes on the batch item. The
# contacts pass (its dedupe memory is bounded) and the carry (failures of the last run, which
# the window may list too) record every outcome as its own item, which counts an Account
# planned twice once.
SINGLE_LISTING_PHASES = ("accounts", "retry")


class BatchStatus(StrEnum):
    PENDING = "pending"  # planned, on the queue, not accounted yet
    DONE = "done"


@dataclass(frozen=True)
class PlannedBatch:
    number: int
    account_ids: list[str]
    phase: str = ""  # the plan phase that listed these Accounts ("accounts", "carry", ...)


@dataclass(frozen=True)
class RunBatch:
    """A planned batch as stored: its Accounts, whether it was accounted, who listed it."""

    number: int
    account_ids: list[str]
    status: BatchStatus
    phase: str = ""  # "" for batches planned before phases were recorded


@dataclass(frozen=True)
class PlanStep:
    """What one plan step adds to a run, committed atomically."""

    step: int  # the step being committed; the run must be at this step
    next_cursor: PlanCursor | None
    batches: list[PlannedBatch] = field(default_factory=list)
    planned_accounts: int = 0
    done: bool = False  # the last step: every batch is now planned
    index_page: tuple[int, bytes] | None = None  # (page number, compressed Xero index page)
    calls: UpstreamCalls = field(default_factory=UpstreamCalls)  # spent by this step


@dataclass(frozen=True)
class Watermark:
    """The last finished real run: a since-last-run run starts from its `until`."""

    run_id: str
    until: str | None
    kind: str = ""
