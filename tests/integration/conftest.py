"""The whole service over HTTP: Chalice's local gateway, moto's server, both stand-ins.

One stack per test package (it takes a second to start); every test starts from
seeded stand-ins, an empty table and an empty queue.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest

from sandbox.stack import LocalStack, StackConfig

WEBHOOK_TOKEN = "integration-webhook-token"


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    config = StackConfig(
        app_port=0,
        xero_port=0,
        zoho_port=0,
        moto_port=0,
        start_worker=False,  # tests drive the worker explicitly, so they are deterministic
        env={
            "WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "TABLE_NAME": "itest-sync",
            "SYNC_QUEUE_NAME": "itest-sync.fifo",
            # Short coalescing window: tests fire their saves back to back anyway.
            "COALESCE_SECONDS": "0.2",
        },
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture
def live(stack: LocalStack) -> Iterator[LocalStack]:
    """A clean slate for each test."""
    clean_slate(stack)
    yield stack


def clean_slate(stack: LocalStack) -> None:
    """Seeded stand-ins, an empty table and an empty queue (also for a test that starts over)."""
    from chalicelib import wiring
    from chalicelib.settings import get_settings
    from chalicelib.store.schema import create_table

    settings = get_settings()
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_table(TableName=settings.TABLE_NAME)
    create_table(dynamodb, settings.TABLE_NAME)
    _empty_queue(settings.SYNC_QUEUE_URL)
    stack.xero.reset()
    stack.zoho.reset()
    wiring._container.cache_clear()


@pytest.fixture
def client(live: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.app_url, timeout=60) as http:
        yield http


@pytest.fixture
def click(client: httpx.Client) -> Callable[..., httpx.Response]:
    """Press 'Sync to Xero' on an Account (what the Deluge button sends)."""

    def press(account_id: str, **extra: Any) -> httpx.Response:
        return client.post(
            "/webhooks/zoho",
            json={"account_id": account_id, "source": "button", **extra},
            headers={"X-Webhook-Token": WEBHOOK_TOKEN},
        )

    return press


@pytest.fixture
def drain(live: LocalStack) -> Callable[..., int]:
    """Run the queue worker until the queue is empty (or `rounds` polls found nothing)."""
    from chalicelib.settings import get_settings
    from sandbox.stack import QueueWorker

    worker = QueueWorker(get_settings().SYNC_QUEUE_URL, poll_seconds=0)

    def run(max_seconds: float = 20.0, quiet_polls: int = 3) -> int:
        handled, quiet, ends = 0, 0, time.monotonic() + max_seconds
        while time.monotonic() < ends and quiet < quiet_polls:
            count = worker.poll_once()
            handled += count
            quiet = 0 if count else quiet + 1
            if not count:
                time.sleep(0.2)
        return handled

    return run


def _empty_queue(queue_url: str) -> None:
    # PurgeQueue may only run once a minute; receive-and-delete has no such limit.
    sqs = boto3.client("sqs")
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})
    try:
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            for message in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    finally:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "2"})


@pytest.fixture
def service_logs() -> Iterator[io.StringIO]:
    """Everything our loggers write, through the same JSON formatter as in Lambda."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    targets = [logging.getLogger("zoho-xero-sync"), logging.getLogger("chalicelib")]
    for target in targets:
        target.addHandler(handler)
    yield stream
    for target in targets:
        target.removeHandler(handler)
