"""The schedule: every SYNC_SCHEDULE_HOURS, sync what changed since the last run."""

from __future__ import annotations

from chalicelib.observability import logger


def scheduled_sync() -> dict[str, str]:
    """Starts a `since_last_run` run; skipped while another run is in progress."""
    from chalicelib.models.runs import StartRunRequest
    from chalicelib.services.runs import RunInProgressError
    from chalicelib.wiring import container

    try:
        run = container().runs.start(StartRunRequest(window="since_last_run"), trigger="schedule")
    except RunInProgressError as busy:
        logger.info("scheduled run skipped: another run is in progress", extra={"run_id": busy.run.run_id})
        return {"status": "skipped", "run_id": busy.run.run_id}
    return {"status": "started", "run_id": run.run_id}
