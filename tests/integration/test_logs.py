"""Logs are structured JSON and never carry a secret."""

from __future__ import annotations

import io
import json

import boto3
import pytest

from sandbox.stack import LOCAL_SECRETS
from tests.integration.conftest import WEBHOOK_TOKEN
from tests.integration.sandbox_api import acct


def stored_tokens() -> list[str]:
    from chalicelib.settings import get_settings

    values = []
    for provider in ("xero", "zoho"):
        item = boto3.client("dynamodb").get_item(
            TableName=get_settings().TABLE_NAME, Key={"pk": {"S": f"TOKEN#{provider}"}, "sk": {"S": "TOKEN"}}
        )["Item"]
        for name in ("access_token", "refresh_token", "previous_refresh_token"):
            if name in item:
                values.append(item[name]["S"])
    return values


def test_no_secret_reaches_the_logs(
    client, click, service_logs: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    click(acct(1))
    click(acct(3))
    client.post("/webhooks/zoho", json={"account_id": acct(1)}, headers={"X-Webhook-Token": "guess"})

    out, err = capfd.readouterr()
    ours = service_logs.getvalue()
    secrets = [WEBHOOK_TOKEN, *LOCAL_SECRETS.values(), *stored_tokens()]
    secrets = [s for s in secrets if s and s not in ("sandbox-zoho-client-id", "sandbox-xero-client-id")]
    assert len(secrets) > 5
    for secret in secrets:
        assert secret not in ours + out + err
    json_lines = [json.loads(line) for line in ours.splitlines()]
    messages = [line.get("message") for line in json_lines]
    assert "webhook refused" in messages  # the reason (wrong token, signature, stale) is a field
    assert "account not synced" in messages
    assert all(line.get("service") == "zoho-xero-sync" for line in json_lines)


def test_queued_work_is_logged_with_the_message_id(client, drain, service_logs: io.StringIO) -> None:
    client.post("/webhooks/zoho", json={"account_id": acct(1)}, headers={"X-Webhook-Token": WEBHOOK_TOKEN})
    drain()

    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    finished = [line for line in lines if line.get("message") == "queued sync finished"]
    assert len(finished) == 1
    assert finished[0]["account_id"] == acct(1)
    assert finished[0].get("correlation_id")
