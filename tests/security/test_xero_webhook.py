"""POST /webhooks/xero: only a body signed with XERO_WEBHOOK_KEY gets in, and Xero's rules hold.

Xero's "intent to receive" check (before it enables a webhook) sends correctly and wrongly
signed deliveries and expects exactly 200 / 401, each with an empty body. Anything refused
changes nothing: no item in the table, no message on a queue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from chalice.test import Client

from tests.security.conftest import Aws

KEY = "security-suite-xero-webhook-key"
TENANT = "a3a4dbaf-2d9b-4c4e-9e6b-7a1bd0a1c001"
CONTACT = "8b3c1f0e-1d2a-4c5b-9a7e-0f1e2d3c4b5a"


def signature(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def delivery(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"events": list(events), "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "ABCDEF"}
    ).encode()


def contact_event(contact_id: str = CONTACT, tenant_id: str = TENANT, **extra: str) -> dict[str, Any]:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{contact_id}",
        "resourceId": contact_id,
        "eventDateUtc": "2026-03-01T10:00:00.000",
        "eventType": "UPDATE",
        "eventCategory": "CONTACT",
        "tenantId": tenant_id,
        "tenantType": "ORGANISATION",
        **extra,
    }


@pytest.fixture
def xero_client(app_client: Client, monkeypatch: pytest.MonkeyPatch) -> Client:
    from chalicelib import wiring

    monkeypatch.setenv("XERO_WEBHOOK_KEY", KEY)
    monkeypatch.setenv("XERO_TENANT_ID", TENANT)
    wiring._container.cache_clear()
    return app_client


def post(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    return client.http.post(
        "/webhooks/xero", headers={"content-type": "application/json", **headers}, body=body
    )


INTENT = delivery()  # "intent to receive": no events


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-xero-signature": ""},
        {"x-xero-signature": "not base64 at all"},
        {"x-xero-signature": signature(INTENT, "another key")},
        {"x-xero-signature": signature(INTENT + b" ")},  # the signature of a different body
    ],
    ids=["missing", "empty", "garbage", "other key", "other body"],
)
def test_a_delivery_without_the_right_signature_gets_401_with_an_empty_body(
    xero_client: Client, aws: Aws, headers: dict[str, str]
) -> None:
    before = aws.snapshot()
    response = post(xero_client, delivery(contact_event()), headers)
    assert response.status_code == 401
    assert response.body == b""
    assert aws.snapshot() == before


def test_intent_to_receive_is_answered_exactly_as_xero_expects(xero_client: Client, aws: Aws) -> None:
    good = post(xero_client, INTENT, {"x-xero-signature": signature(INTENT)})
    bad = post(xero_client, INTENT, {"x-xero-signature": signature(INTENT, "wrong")})
    assert (good.status_code, good.body) == (200, b"")
    assert (bad.status_code, bad.body) == (401, b"")
    assert aws.queued() == 0


def test_a_signed_contact_event_is_queued_not_processed(xero_client: Client, aws: Aws) -> None:
    body = delivery(contact_event())
    response = post(xero_client, body, {"x-xero-signature": signature(body)})
    assert (response.status_code, response.body) == (200, b"")
    assert aws.queued() == 1


def test_other_categories_and_organisations_are_acknowledged_and_ignored(
    xero_client: Client, aws: Aws
) -> None:
    body = delivery(
        contact_event(eventCategory="INVOICE"),
        contact_event(tenant_id="0f0f0f0f-0000-4000-8000-000000000000"),
        contact_event(contact_id="not-a-guid"),
    )
    response = post(xero_client, body, {"x-xero-signature": signature(body)})
    assert (response.status_code, response.body) == (200, b"")
    assert aws.queued() == 0


def test_without_a_key_configured_nothing_gets_in(app_client: Client, aws: Aws) -> None:
    response = post(app_client, INTENT, {"x-xero-signature": signature(INTENT, "")})
    assert (response.status_code, response.body) == (401, b"")


def test_a_body_over_the_limit_is_refused_before_its_signature_is_computed(
    xero_client: Client, aws: Aws
) -> None:
    body = b'{"events": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = post(xero_client, body, {"x-xero-signature": signature(body)})
    assert response.status_code == 413
    assert aws.queued() == 0


def test_a_signed_body_nested_too_deep_is_a_400_not_a_crash(xero_client: Client, aws: Aws) -> None:
    body = b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = post(xero_client, body, {"x-xero-signature": signature(body)})
    assert response.status_code == 400
    assert aws.queued() == 0


def test_the_same_delivery_twice_is_queued_once(xero_client: Client, aws: Aws) -> None:
    body = delivery(contact_event(), contact_event())
    for _ in range(2):
        assert post(xero_client, body, {"x-xero-signature": signature(body)}).status_code == 200
    assert aws.queued() == 1
