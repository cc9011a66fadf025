"""Bulk sync runs: what a user asked for, and what happened (one DynamoDB item per run).

A run syncs every Account in a window. Its per-Account outcomes are kept too, so the
portal can list the problems and "Retry failed" can re-run exactly those Accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.models.run_plan import PlanCursor
from chalicelib.timestamps import parse_iso

MAX_WINDOW_DAYS = 30  # like the portal of the plugin we replace


class RunState(StrEnum):
    PLANNING = "planning"  # still listing the Accounts to sync
    RUNNING = "running"
    WAITING = "waiting"  # paused for a Xero rate limit; `resume_at` says until when
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"  # the run itself could not go on (e.g. Zoho disconnected)

    @property
    def finished(self) -> bool:
        return self in (RunState.COMPLETED, RunState.COMPLETED_WITH_ERRORS, RunState.FAILED)


class WindowKind(StrEnum):
    SINCE_LAST_RUN = "since_last_run"
    DAYS = "days"
    ALL = "all"
    RETRY = "retry"  # the failed and rejected Accounts of an earlier run


class AccountResult(StrEnum):
    """What a run did (or, in a dry run, would do) with one Account."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def is_problem(self) -> bool:
        return self in (AccountResult.REJECTED, AccountResult.FAILED)


COUNT_NAMES = ("selected", "created", "updated", "unchanged", "rejected", "failed")


class RunOrigin(StrEnum):
    """Where a run was started (`Run.trigger`); a retry also names the run it repeats."""

    PORTAL = "portal"  # Manual Sync or Retry failed in the portal
    API = "api"  # POST /sync/runs (or .../retry) by anything but our command line
    CLI = "cli"  # python -m chalicelib.cli sync
    SCHEDULE = "schedule"  # the scheduled since-last-run sync


# Labels people read; "manual" and "retry" are what runs recorded before origins were exact.
ORIGIN_LABELS = {
    "portal": "Portal",
    "api": "API",
    "cli": "CLI",
    "schedule": "Schedule",
    "manual": "Portal",
    "retry": "Portal",
}


ZOHO_TO_XERO = "zoho_to_xero"
XERO_TO_ZOHO = "xero_to_zoho"
BOTH = "both"  # both sides planned, paired and merged (services/both_runs.py)
DIRECTIONS = (ZOHO_TO_XERO, XERO_TO_ZOHO, BOTH)


class StartRunRequest(BaseModel):
    """Body of `POST /sync/runs`: {"window": "since_last_run" | "all" | {"days": N}, "dry_run": bool}."""

    model_config = ConfigDict(extra="forbid")

    window: Literal["since_last_run", "all"] | DaysWindow = "since_last_run"
    dry_run: bool = False
    direction: str = ZOHO_TO_XERO

    @field_validator("direction", mode="before")
    @classmethod
    def _known_direction(cls, value: Any) -> Any:
        if value not in DIRECTIONS:
            raise ValueError(
                f'direction must be "{ZOHO_TO_XERO}" (Zoho CRM to Xero, the default), '
                f'"{XERO_TO_ZOHO}" (Xero to Zoho CRM) or "{BOTH}" (both ways, merged), not {value!r}'
            )
        return value

    @property
    def kind(self) -> WindowKind:
        return WindowKind.DAYS if isinstance(self.window, DaysWindow) else WindowKind(self.window)

    @property
    def days(self) -> int | None:
        return self.window.days if isinstance(self.window, DaysWindow) else None


class DaysWindow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=1, le=MAX_WINDOW_DAYS)

    @field_validator("days", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number of days")
        return value


StartRunRequest.model_rebuild()


@dataclass
class Run:
    run_id: str
    kind: WindowKind
    state: RunState
    created_at: str  # ISO 8601 UTC
    trigger: str = RunOrigin.PORTAL.value  # a RunOrigin value (older runs: manual | retry)
    dry_run: bool = False
    days: int | None = None
    since: str | None = None  # lower bound of Modified_Time (inclusive); None = everything
    until: str | None = None  # upper bound (the run's start): later edits belong to the next run
    retry_of: str | None = None
    tenant_id: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    xero_calls: int = 0
    zoho_calls: int = 0
    zoho_credits: int = 0  # Zoho CRM API credits those calls cost (chalicelib/zoho/limits.py)
    batches_total: int = 0
    batches_done: int = 0
    planned: bool = False  # every batch is on the queue
    started_at: str | None = None
    finished_at: str | None = None
    resume_at: str | None = None  # when WAITING: when Xero's limit resets
    message: str | None = None  # plain words about the run as a whole (why it failed, why it waits)
    version: int = 0
    # Bookkeeping of the engine (not part of the public view).
    updated_at: float | None = None  # epoch seconds of the last progress
    planned_accounts: int = 0  # Accounts put in batches so far
    plan_step: int = 0
    plan_cursor: PlanCursor | None = None  # where planning goes on (None: nothing left to plan)
    plan_damaged: bool = False  # the stored cursor could not be read (the planner fails the run)
    last_step_first_batch: int = -1
    last_step_batch_count: int = 0
    direction: str = ZOHO_TO_XERO  # xero_to_zoho: services/xero_runs.py plans and runs it

    def to_public(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "run_id": self.run_id,
            "state": self.state.value,
            "window": self.window_label(),
            "window_kind": self.kind.value,
            "dry_run": self.dry_run,
            "direction": self.direction,
            "trigger": self.trigger,
            "origin": self.origin_label(),
            "counts": dict(self.counts),
            "calls": {"xero": self.xero_calls, "zoho": self.zoho_calls},
            "credits": {"zoho": self.zoho_credits},
            "progress": {
                "batches_done": self.batches_done,
                "batches_total": self.batches_total,
                "planned_accounts": self.planned_accounts,
                "planning_done": self.planned,
            },
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "since": self.since,
            "until": self.until,
        }
        if self.days is not None:
            body["days"] = self.days
        if self.retry_of:
            body["retry_of"] = self.retry_of
        duration = self.duration_seconds()
        if duration is not None:
            body["duration_seconds"] = round(duration, 1)
        if self.resume_at:
            body["resume_at"] = self.resume_at
        if self.message:
            body["message"] = self.message
        return body

    def origin_label(self) -> str:
        """Portal, API, CLI or Schedule; a retry says so and where it was asked for."""
        where = ORIGIN_LABELS.get(self.trigger, self.trigger.capitalize())
        return f"Retry via {where}" if self.retry_of else where

    def duration_seconds(self) -> float | None:
        """From start to finish (None while the run goes on)."""
        start, end = self.started_at or self.created_at, self.finished_at
        if not (start and end):
            return None
        try:
            return max(0.0, (parse_iso(end) - parse_iso(start)).total_seconds())
        except ValueError:
            return None

    def window_label(self) -> str:
        if self.kind is WindowKind.DAYS:
            return f"last {self.days} day{'s' if self.days != 1 else ''}"
        if self.kind is WindowKind.ALL:
            return "every Account with Add to Xero ticked"
        if self.kind is WindowKind.RETRY:
            return f"failed and rejected Accounts of run {self.retry_of}"
        return "changed since the last run" if self.since else "everything (no earlier run)"


@dataclass
class RunAccount:
    """One Account's outcome in a run (the problems list shows the rejected and failed ones)."""

    run_id: str
    account_id: str
    result: AccountResult
    message: str
    account_name: str | None = None
    xero_contact_id: str | None = None
    at: str | None = None

    def to_public(self) -> dict[str, Any]:
        body = {
            "account_id": self.account_id,
            "result": self.result.value,
            "message": self.message,
            "account_name": self.account_name,
            "xero_contact_id": self.xero_contact_id,
            "at": self.at,
        }
        return {k: v for k, v in body.items() if v is not None}
