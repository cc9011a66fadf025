"""Signed button webhooks are fresh or refused; token-only workflow webhooks keep working."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from chalice.test import Client

from chalicelib.webhook_auth import sign
from tests.security.conftest import WEBHOOK_TOKEN, Aws, RecordingSyncer

ACCOUNT = "5725767000000400001"
BODY = json.dumps({"account_id": ACCOUNT, "source": "button"}, separators=(",", ":")).encode()


def post(client: Client, headers: dict[str, str], body: bytes = BODY) -> tuple[int, dict]:
    response = client.http.post(
        "/webhooks/zoho", headers={"content-type": "application/json", **headers}, body=body
    )
    return response.status_code, json.loads(response.body or b"{}")


def signed(timestamp: str, token: str = WEBHOOK_TOKEN, body: bytes = BODY) -> dict[str, str]:
    return {
        "x-webhook-token": token,
        "x-webhook-timestamp": timestamp,
        "x-webhook-signature": sign(body, token, timestamp),
    }


@pytest.mark.parametrize(
    ("label", "timestamp"),
    [
        ("now, in seconds", lambda: str(int(time.time()))),
        ("now, in milliseconds (Deluge's unixEpoch)", lambda: str(int(time.time() * 1000))),
        ("four minutes ago", lambda: str(int(time.time()) - 240)),
    ],
)
def test_a_fresh_signed_click_is_synced(
    app_client: Client, syncer: RecordingSyncer, label: str, timestamp: Callable[[], str]
) -> None:
    status, body = post(app_client, signed(timestamp()))
    assert status == 200, body
    assert syncer.synced == [ACCOUNT]


@pytest.mark.parametrize(
    ("label", "offset"),
    [
        ("six minutes old", -360),
        ("a day old", -86400),
        ("two minutes in the future", 120),
        ("a year ahead", 31536000),
    ],
)
def test_a_stale_or_future_signed_click_is_refused_with_401(
    app_client: Client, syncer: RecordingSyncer, aws: Aws, label: str, offset: int
) -> None:
    before = aws.snapshot()
    status, body = post(app_client, signed(str(int(time.time()) + offset)))
    assert status == 401, label
    assert "Click Sync to Xero again" in body["message"]
    assert syncer.synced == []
    assert aws.snapshot() == before


def test_a_captured_click_replayed_with_a_new_timestamp_fails_its_signature(
    app_client: Client, syncer: RecordingSyncer
) -> None:
    old = signed(str(int(time.time()) - 3600))
    replay = {**old, "x-webhook-timestamp": str(int(time.time()))}
    status, _ = post(app_client, replay)
    assert status == 401
    assert syncer.synced == []


def test_a_signature_without_its_timestamp_is_refused_and_says_to_update_the_script(
    app_client: Client, syncer: RecordingSyncer
) -> None:
    headers = signed(str(int(time.time())))
    del headers["x-webhook-timestamp"]
    status, body = post(app_client, headers)
    assert status == 401
    assert "zoho-crm-button/sync_to_xero.deluge" in body["message"]
    assert syncer.synced == []


def test_token_only_workflow_webhooks_still_work(app_client: Client, aws: Aws) -> None:
    body = json.dumps({"account_id": ACCOUNT, "source": "workflow"}).encode()
    status, answer = post(app_client, {"x-webhook-token": WEBHOOK_TOKEN}, body)
    assert status == 202, answer
    assert aws.queued() == 1
