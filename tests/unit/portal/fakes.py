"""A RunService stand-in with the interface of chalicelib/services/runs/ (for the page tests)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.errors import InvalidRequestError
from chalicelib.models.runs import AccountResult, Run, RunAccount, RunState, StartRunRequest, WindowKind


class RunInProgress(Exception):
    def __init__(self, run: Run) -> None:
        super().__init__(run.run_id)
        self.run = run


class FakeRuns:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.problems: dict[str, list[RunAccount]] = {}
        self.started: list[tuple[StartRunRequest, str]] = []
        self.retried: list[tuple[str, str, bool]] = []

    def start(self, request: StartRunRequest, *, trigger: str = "portal") -> Run:
        active = next((r for r in self.runs.values() if not r.state.finished), None)
        if active is not None:
            raise RunInProgress(active)
        self.started.append((request, trigger))
        run = Run(
            run_id=f"20260301-0000{len(self.runs):02d}-abcdef0{len(self.runs)}",
            kind=request.kind,
            state=RunState.PLANNING,
            created_at="2026-03-01T00:00:00+00:00",
            started_at="2026-03-01T00:00:00+00:00",
            trigger=trigger,
            dry_run=request.dry_run,
            days=request.days,
            direction=request.direction,
        )
        self.runs[run.run_id] = run
        return run

    def retry(self, run_id: str, *, trigger: str = "portal", dry_run: bool = False) -> Run:
        old = self.runs[run_id]
        if old.counts["failed"] + old.counts["rejected"] == 0:
            raise InvalidRequestError("nothing to retry")
        self.retried.append((run_id, trigger, dry_run))
        run = self.start(StartRunRequest(window="all", dry_run=old.dry_run or dry_run), trigger=trigger)
        run = replace(run, kind=WindowKind.RETRY, retry_of=run_id)
        self.runs[run.run_id] = run
        return run

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]:
        return sorted(self.runs.values(), key=lambda r: r.run_id, reverse=True)[:limit], None

    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[RunAccount], str | None]:
        return self.problems.get(run_id, [])[:limit], None

    def dead_letters(self) -> int:
        return 0

    def next_scheduled_at(self) -> str | None:
        return None

    def finish(self, run_id: str, state: RunState = RunState.COMPLETED_WITH_ERRORS) -> Run:
        run = self.runs[run_id]
        run.state = state
        run.finished_at = "2026-03-01T00:00:01.300+00:00"  # 1.3 s after its start
        run.counts.update(selected=3, created=1, rejected=1, failed=1)
        self.problems[run_id] = [
            RunAccount(
                run_id,
                "5725767000000400003",
                AccountResult.REJECTED,
                "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again.",
            ),
        ]
        return run
