"""docs/operations.md reads one Account's story from the logs: its "sync ended" lines, and
through their correlation id every other line of the same click or queued message."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import httpx

from tests.integration.conftest import WEBHOOK_TOKEN
from tests.integration.sandbox_api import acct


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_click_ends_with_one_line_naming_the_account_and_its_outcome(
    click: Callable[..., httpx.Response], service_logs: io.StringIO
) -> None:
    click(acct(1))
    click(acct(3))

    lines = _lines(service_logs)
    ended = [line for line in lines if line.get("event") == "sync_ended"]
    assert [(e["account_id"], e["outcome"], e["source"]) for e in ended] == [
        (acct(1), "created", "button"),
        (acct(3), "rejected", "button"),
    ]
    # (A click's correlation id is API Gateway's request id; chalice's local gateway sends none,
    # so the correlation-id half of the story is shown with a queued sync below.)
    (why,) = [line for line in lines if line["message"] == "account not synced"]
    assert (why["account_id"], why["status"]) == (acct(3), "Rejected")


def test_a_queued_sync_is_told_under_its_message_id(
    client: httpx.Client, drain: Callable[..., int], service_logs: io.StringIO
) -> None:
    client.post(
        "/webhooks/zoho",
        json={"account_id": acct(1), "source": "workflow"},
        headers={"X-Webhook-Token": WEBHOOK_TOKEN},
    )
    drain()

    lines = _lines(service_logs)
    (ended,) = [line for line in lines if line.get("event") == "sync_ended"]
    assert (ended["account_id"], ended["outcome"], ended["source"]) == (acct(1), "created", "workflow")
    story = [line["message"] for line in lines if line.get("correlation_id") == ended["correlation_id"]]
    assert "queued sync finished" in story
