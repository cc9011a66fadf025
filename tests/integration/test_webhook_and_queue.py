"""The webhook's front door (authenticity, size, shape) and workflow-rule events through the queue."""

from __future__ import annotations

import json
import time

import boto3
import httpx
import pytest

from chalicelib.webhook_auth import NO_TIMESTAMP, WRONG_SIGNATURE, WRONG_TOKEN, sign
from tests.integration.conftest import WEBHOOK_TOKEN
from tests.integration.sandbox_api import Xero, Zoho, acct


@pytest.fixture
def xero(live) -> Xero:
    return Xero(live.xero_url)


@pytest.fixture
def zoho(live) -> Zoho:
    return Zoho(live.zoho_url)


def queued_messages() -> int:
    from chalicelib.settings import get_settings

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=get_settings().SYNC_QUEUE_URL, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Webhook-Token": "wrong"},
        {"X-Webhook-Token": WEBHOOK_TOKEN, "X-Webhook-Signature": "00" * 32},
        {
            "X-Webhook-Token": WEBHOOK_TOKEN,
            "X-Webhook-Timestamp": str(int(time.time())),
            "X-Webhook-Signature": "00" * 32,
        },
    ],
)
def test_requests_not_from_zoho_are_refused_and_nothing_happens(
    client: httpx.Client, headers: dict[str, str], zoho: Zoho, xero: Xero
) -> None:
    zoho_calls_before = len(zoho.calls())

    response = client.post(
        "/webhooks/zoho", json={"account_id": acct(1), "source": "button"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json()["message"] in (WRONG_TOKEN, NO_TIMESTAMP, WRONG_SIGNATURE)
    assert len(zoho.calls()) == zoho_calls_before
    assert xero.calls() == []
    assert queued_messages() == 0


def test_a_correct_signature_is_accepted(client: httpx.Client) -> None:
    body = json.dumps({"account_id": acct(1), "source": "button"}).encode()
    response = client.post(
        "/webhooks/zoho",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Webhook-Token": WEBHOOK_TOKEN,
            "X-Webhook-Timestamp": str(int(time.time())),
            "X-Webhook-Signature": sign(body, WEBHOOK_TOKEN, int(time.time())),
        },
    )
    assert response.status_code == 200, response.text


def test_oversized_body_is_refused(client: httpx.Client) -> None:
    body = json.dumps({"account_id": acct(1), "padding": "x" * 70_000})
    response = client.post(
        "/webhooks/zoho",
        content=body,
        headers={"Content-Type": "application/json", "X-Webhook-Token": WEBHOOK_TOKEN},
    )
    assert response.status_code == 413
    assert queued_messages() == 0


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        ("{oops", "application/json", "not valid JSON"),
        ('{"source": "button"}', "application/json", "account_id is required"),
        ("account_id=12ab", "application/x-www-form-urlencoded", "must be a Zoho record id"),
    ],
)
def test_malformed_requests_get_400_with_a_reason(
    client: httpx.Client, content: str, content_type: str, expected: str
) -> None:
    response = client.post(
        "/webhooks/zoho",
        content=content,
        headers={"Content-Type": content_type, "X-Webhook-Token": WEBHOOK_TOKEN},
    )
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert queued_messages() == 0


def test_workflow_event_is_acknowledged_at_once_and_synced_by_the_queue(
    client: httpx.Client, drain, xero: Xero, zoho: Zoho
) -> None:
    response = client.post(
        "/webhooks/zoho",
        content=f"account_id={acct(2)}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Webhook-Token": WEBHOOK_TOKEN},
    )

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert xero.with_number(acct(2)) == []
    assert drain() >= 1  # Xero's event for our own write may come back on the queue as well
    assert len(xero.with_number(acct(2))) == 1
    assert zoho.account(acct(2))["Xero_Sync_Status"] == "Synced"


def test_contacts_rule_event_resyncs_its_account(client: httpx.Client, drain, xero: Xero) -> None:
    response = client.post(
        "/webhooks/zoho",
        json={"contact_id": "5725767000000500012"},
        headers={"X-Webhook-Token": WEBHOOK_TOKEN},
    )
    assert response.status_code == 202
    drain()
    assert len(xero.with_number(acct(9))) == 1


def test_editing_in_zoho_fires_the_rule_once_and_our_write_back_does_not_loop(
    live, drain, xero: Xero, zoho: Zoho
) -> None:
    zoho.edit("Accounts", acct(1), {"Phone": "+61 2 9000 5555"})
    deadline = time.monotonic() + 10
    while queued_messages() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)

    drain()

    assert len(xero.with_number(acct(1))) == 1
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Synced"
    # Xero announces our own write to its webhook, as it does every change: an echo.
    live.xero.deliver_webhooks()
    drain()
    time.sleep(0.5)  # would-be loop events need a moment to arrive
    assert len(zoho.webhooks()) == 1  # Zoho's rule fired once: our write-back used trigger []
    assert zoho.count("PUT", "/crm/v8/Accounts") == 1  # the write-back only; the echo wrote nothing
    assert xero.count("POST", "/api.xro/2.0/Contacts") == 1
    assert queued_messages() == 0


def test_a_sync_that_keeps_failing_ends_failed_and_visible(
    client: httpx.Client, drain, xero: Xero, zoho: Zoho
) -> None:
    xero.fault(status=503, count=1000, method="POST", path_prefix="/api.xro/2.0/Contacts")
    client.post("/webhooks/zoho", json={"account_id": acct(1)}, headers={"X-Webhook-Token": WEBHOOK_TOKEN})

    drain(max_seconds=60, quiet_polls=15)

    account = zoho.account(acct(1))
    assert account["Xero_Sync_Status"] == "Failed"
    assert "Xero is temporarily unavailable" in account["Xero_Sync_Error"]
    assert xero.with_number(acct(1)) == []
