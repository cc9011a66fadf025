"""A rate-limited single sync is held back on the FIFO sync queue until the limit's Retry-After
(SQS ChangeMessageVisibility, real boto3 against moto) instead of coming back at every visibility
timeout and spending a receive each time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3

from tests.integration.sandbox_api import Xero, Zoho, acct

CONTACTS = "/api.xro/2.0/Contacts"
RETRY_AFTER = 8  # seconds: longer than a wait inside the click (5 s) and the queue's 2 s timeout


def _in_flight() -> int:
    from chalicelib.settings import get_settings

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=get_settings().SYNC_QUEUE_URL, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_rate_limited_sync_waits_out_retry_after_on_the_queue(
    live: Any, click: Callable[..., Any], drain: Callable[..., int]
) -> None:
    xero, zoho = Xero(live.xero_url), Zoho(live.zoho_url)
    xero.fault(status=429, retry_after=RETRY_AFTER, count=1, method="POST", path_prefix=CONTACTS)
    limited_at = time.monotonic()
    assert click(acct(1)).status_code == 202  # queued: Xero asked for 8 s

    first = drain(max_seconds=4, quiet_polls=40)  # the queue's own timeout (2 s) passes twice

    assert first == 1  # received once, then held back: not received again every 2 s
    assert _in_flight() == 1
    assert xero.with_number(acct(1)) == []

    # Back once Retry-After is over (counted from when it was held), and synced.
    while not xero.with_number(acct(1)) and time.monotonic() - limited_at < RETRY_AFTER + 20:
        drain(max_seconds=1, quiet_polls=5)
    assert time.monotonic() - limited_at >= RETRY_AFTER
    assert len(xero.with_number(acct(1))) == 1
    assert len(xero.with_number(acct(1))) == 1
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Synced"
