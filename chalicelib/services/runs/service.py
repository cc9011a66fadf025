"""RunService: what the portal, the API, the schedule and the runs queue call."""

from __future__ import annotations

import builtins

from chalicelib.deadline import Deadline
from chalicelib.models.runs import Run, RunAccount, RunOrigin, StartRunRequest
from chalicelib.run_queue import RunMessage
from chalicelib.services.runs.deps import RunDependencies
from chalicelib.services.runs.dispatcher import Dispatcher
from chalicelib.services.runs.lifecycle import Lifecycle
from chalicelib.services.runs.planner import Planner


class RunService:
    def __init__(self, deps: RunDependencies) -> None:
        self.deps = deps
        self.lifecycle = Lifecycle(deps)
        self.planner = Planner(deps, self.lifecycle)
        self.dispatcher = Dispatcher(deps, self.lifecycle, self.planner)

    # --- what users call --------------------------------------------------------

    def start(self, request: StartRunRequest, *, trigger: str = RunOrigin.PORTAL) -> Run:
        return self.lifecycle.start(request, trigger=trigger)

    def retry(self, run_id: str, *, trigger: str = RunOrigin.PORTAL, dry_run: bool = False) -> Run:
        return self.lifecycle.retry(run_id, trigger=trigger, dry_run=dry_run)

    def get(self, run_id: str) -> Run | None:
        return self.deps.runs.get(run_id)

    def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[Run], str | None]:
        return self.deps.runs.list(limit=limit, cursor=cursor)

    def accounts(
        self, run_id: str, *, problems_only: bool = True, limit: int = 50, cursor: str | None = None
    ) -> tuple[builtins.list[RunAccount], str | None]:
        return self.deps.runs.accounts(run_id, problems_only=problems_only, limit=limit, cursor=cursor)

    def dead_letters(self) -> int:
        return self.deps.queue.dead_letters()

    def next_scheduled_at(self) -> str | None:
        return self.lifecycle.next_scheduled_at()

    # --- what the queue calls ---------------------------------------------------

    def handle(self, message: RunMessage, deadline: Deadline, *, final_attempt: bool) -> None:
        """Do one plan step or one batch. Raises RetriableError when SQS should deliver it again."""
        self.dispatcher.handle(message, deadline, final_attempt=final_attempt)
