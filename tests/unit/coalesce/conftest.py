"""Fixtures for coalescing: moto DynamoDB + SQS in-process, a hand-moved clock, a scripted syncer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.deadline import Deadline
from chalicelib.models.sync import SyncAction, SyncOutcome, SyncStatus
from chalicelib.queue import SyncQueue
from chalicelib.services.coalescing import Coalescing
from chalicelib.services.sync_account import SyncRequest
from chalicelib.services.worker import QueuedMessage
from chalicelib.store.pending import PendingRepository
from chalicelib.store.schema import create_table
from tests.fakes import FakeClock as Clock

TABLE = "coalesce-test"


class FakeSyncer:
    """Stands in for AccountSyncer: records each sync with the clock time it read Zoho at."""

    def __init__(self, clock: Clock, contacts: dict[str, str] | None = None) -> None:
        self.clock = clock
        self.contacts = contacts or {}
        self.syncs: list[tuple[str, float]] = []
        self.fail_next: list[Exception] = []
        self.during_sync: list[Any] = []  # callables run (once each) inside the next syncs

    def account_for_contact(self, contact_id: str, deadline: Deadline) -> str:
        return self.contacts[contact_id]

    def sync(self, request: SyncRequest) -> SyncOutcome:
        self.syncs.append((request.account_id, self.clock()))
        if self.during_sync:
            self.during_sync.pop(0)()
        if self.fail_next:
            raise self.fail_next.pop(0)
        return SyncOutcome(
            request.account_id, SyncStatus.SYNCED, SyncAction.UPDATED, "Synced to Xero (updated)."
        )


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch, atomic_moto: None) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def ddb() -> Any:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, TABLE, poll_seconds=0.01)
    return client


@pytest.fixture
def pending(ddb: Any) -> PendingRepository:
    return PendingRepository(ddb, TABLE)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coalescing(pending: PendingRepository, clock: Clock) -> Coalescing:
    return Coalescing(pending, quiet_seconds=3.0, clock=clock, sleep=clock.sleep)


class Queue(SyncQueue):
    """The real SyncQueue on a moto FIFO queue, plus what the Lambda event source does."""

    def receive(self) -> list[QueuedMessage]:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        for message in received:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [
            QueuedMessage(m["MessageId"], m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]))
            for m in received
        ]

    def waiting(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@pytest.fixture
def queue() -> Queue:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="coalesce-test.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    return Queue(sqs, url)


@pytest.fixture
def syncer(clock: Clock) -> FakeSyncer:
    return FakeSyncer(clock, contacts={"9001": "1", "9002": "1"})
