"""A run whose stored plan cannot be read ends at once with a message a person can act on,
instead of going round the queue until its dead-letter queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import httpx

from chalicelib.store.runs.items import run_key
from tests.integration.test_runs import admin, drive, runs_queue, start

__all__ = ["admin", "drive", "runs_queue", "start"]


def test_a_damaged_plan_fails_the_run_with_what_to_do(
    start: Callable[..., httpx.Response], drive: Callable[..., dict[str, Any]]
) -> None:
    from chalicelib.settings import get_settings

    run_id = start("all").json()["run_id"]
    boto3.client("dynamodb").update_item(
        TableName=get_settings().TABLE_NAME,
        Key=run_key(run_id),
        UpdateExpression="SET plan_cursor = :c",
        ExpressionAttributeValues={":c": {"S": '{"phase": "sideways", "page": 1}'}},
    )

    run = drive(run_id)

    assert run["state"] == "failed"
    assert run["message"] == "The run's plan is damaged; start a new run."
