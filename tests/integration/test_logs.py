"""Logs are structured JSON and never carry a secret."""

from __future__ import annotations

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


def test_no_secret_reaches_the_logs(client, click, capfd: pytest.CaptureFixture[str]) -> None:
    click(acct(1))
    click(acct(3))
    client.post("/webhooks/zoho", json={"account_id": acct(1)}, headers={"X-Webhook-Token": "guess"})

    out, err = capfd.readouterr()
    logs = out + err
    secrets = [WEBHOOK_TOKEN, *LOCAL_SECRETS.values(), *stored_tokens()]
    secrets = [s for s in secrets if s and s not in ("sandbox-zoho-client-id", "sandbox-xero-client-id")]
    assert secrets
    for secret in secrets:
        assert secret not in logs
    json_lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(
        line.get("message") == "webhook refused: missing or wrong token/signature" for line in json_lines
    )
    assert all(line.get("service") == "zoho-xero-sync" for line in json_lines)
