"""The security suite: the real Chalice app in process, DynamoDB and SQS in moto, the Zoho/Xero
accounts stand-ins where a flow reaches them.

The one fake is the Account syncer (it would call Zoho and Xero): a recording stand-in with
its interface, so a test can say "nothing was synced" after a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.models.sync import SyncAction, SyncOutcome, SyncStatus
from chalicelib.portal.security import hash_password
from chalicelib.store.schema import create_table
from tests.portal_browser import PASSWORD, Browser, app_with, signed_in_browser

TABLE = "security-test"
ADMIN_TOKEN = "security-suite-admin-token"
WEBHOOK_TOKEN = "security-suite-webhook-token"


@dataclass
class RecordingSyncer:
    """AccountSyncer's interface; records every Account it was asked to sync."""

    synced: list[str] = field(default_factory=list)

    def sync(self, request: Any) -> SyncOutcome:
        self.synced.append(request.account_id)
        return SyncOutcome(
            request.account_id, SyncStatus.SYNCED, SyncAction.UPDATED, "Synced to Xero (updated)."
        )

    def account_for_contact(self, contact_id: str, deadline: Any) -> str:
        self.synced.append(f"contact:{contact_id}")
        return "5725767000000400001"


@dataclass
class Aws:
    dynamodb: Any
    sqs: Any
    queue_urls: list[str]

    def items(self) -> list[dict[str, Any]]:
        """Every item in the table except the sign-in counters (a wrong password is meant to count)."""
        items: list[dict[str, Any]] = []
        args: dict[str, Any] = {"TableName": TABLE}
        while True:
            page = self.dynamodb.scan(**args)
            items += [i for i in page["Items"] if not i["pk"]["S"].startswith("SIGNIN#")]
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def queued(self) -> int:
        total = 0
        for url in self.queue_urls:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
            )["Attributes"]
            total += int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesDelayed"]
            )
        return total

    def snapshot(self) -> tuple[Any, int]:
        return self.items(), self.queued()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MAPPING_FILE", "SECRETS_ID", "PORTAL_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb, TABLE, poll_seconds=0.01)
        sqs = boto3.client("sqs", region_name="us-east-1")
        sync_url = sqs.create_queue(
            QueueName="sec-sync.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        runs_url = sqs.create_queue(QueueName="sec-runs")["QueueUrl"]
        monkeypatch.setenv("TABLE_NAME", TABLE)
        monkeypatch.setenv("SYNC_QUEUE_URL", sync_url)
        monkeypatch.setenv("RUNS_QUEUE_URL", runs_url)
        yield Aws(dynamodb, sqs, [sync_url, runs_url])


@pytest.fixture
def syncer() -> RecordingSyncer:
    return RecordingSyncer()


@pytest.fixture
def app_client(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, syncer: RecordingSyncer, xero_sandbox: Any
) -> Iterator[Client]:
    monkeypatch.setenv("ADMIN_PASSWORD_HASH", hash_password(PASSWORD, n=2**10))
    monkeypatch.setenv("SESSION_SECRET", "security-suite-session-secret")
    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    monkeypatch.setenv("XERO_CLIENT_ID", "sandbox-xero-client-id")
    monkeypatch.setenv("XERO_CLIENT_SECRET", "sandbox-xero-client-secret")
    monkeypatch.setenv("XERO_IDENTITY_URL", xero_sandbox.url)
    monkeypatch.setenv("XERO_LOGIN_URL", xero_sandbox.url)
    monkeypatch.setenv("XERO_API_URL", xero_sandbox.url)
    monkeypatch.setenv("ZOHO_CLIENT_ID", "sandbox-zoho-client-id")
    monkeypatch.setenv("ZOHO_CLIENT_SECRET", "sandbox-zoho-client-secret")
    monkeypatch.setenv("COALESCE_SECONDS", "0")
    with app_with(build_first=("runs",), syncer=syncer) as client:  # bulk runs keep the real syncer
        yield client


@pytest.fixture
def browser(app_client: Client) -> Browser:
    return Browser(app_client)


@pytest.fixture
def signed_in(app_client: Client) -> Browser:
    return signed_in_browser(app_client)
