"""What the webhook accepts, and how it tells a caller what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.errors import InvalidRequestError
from chalicelib.services.webhook_parsing import parse_webhook
from chalicelib.webhook_auth import refusal, sign

SECRET = "s3cret-token"


def authentic(*args: Any, **kwargs: Any) -> bool:
    return refusal(*args, **kwargs) is None


def test_json_body_with_defaults() -> None:
    parsed = parse_webhook(b'{"account_id": "5725767000000400001"}', "application/json")
    assert parsed.account_id == "5725767000000400001"
    assert parsed.source == "workflow"
    assert parsed.contact_id is None


def test_form_body_as_zoho_sends_it() -> None:
    parsed = parse_webhook(
        b"account_id=5725767000000400001&source=button", "application/x-www-form-urlencoded"
    )
    assert (parsed.account_id, parsed.source) == ("5725767000000400001", "button")


def test_numeric_ids_are_accepted_as_strings() -> None:
    parsed = parse_webhook(b'{"account_id": 5725767000000400001}', "application/json; charset=utf-8")
    assert parsed.account_id == "5725767000000400001"


def test_contact_rule_needs_no_account_id() -> None:
    parsed = parse_webhook(b'{"contact_id": "5725767000000500001"}', "application/json")
    assert parsed.contact_id == "5725767000000500001"
    assert parsed.account_id is None


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b"{}", "application/json", "account_id is required"),
        (b'{"account_id": "  "}', "application/json", "account_id is required"),
        (b'{"account_id": "abc; drop"}', "application/json", "account_id: must be a Zoho record id"),
        (
            b'{"account_id": "1", "source": "cron"}',
            "application/json",
            "source: Input should be 'button' or 'workflow'",
        ),
        (b"source=button", "application/x-www-form-urlencoded", "account_id is required"),
        (b"\xff\xfe", "application/json", "not valid UTF-8"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(body: bytes, content_type: str, expected: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_webhook(body, content_type)
    assert expected in raised.value.message


def test_token_must_match() -> None:
    body = b'{"account_id": "1"}'
    assert authentic(body, {"X-Webhook-Token": SECRET}, SECRET)
    assert authentic(body, {"x-webhook-token": SECRET}, SECRET)
    assert not authentic(body, {"X-Webhook-Token": SECRET + "x"}, SECRET)
    assert not authentic(body, {}, SECRET)


def test_unset_secret_never_accepts_anything() -> None:
    assert not authentic(b"{}", {"X-Webhook-Token": ""}, "")


def test_signature_when_present_must_match_the_exact_body_and_timestamp() -> None:
    body = b'{"account_id": "1", "source": "button"}'
    now = 1_800_000_000
    good = sign(body, SECRET, now)
    headers = {"X-Webhook-Token": SECRET, "X-Webhook-Timestamp": str(now), "X-Webhook-Signature": good}
    assert authentic(body, headers, SECRET, now=now)
    assert authentic(body, {**headers, "X-Webhook-Signature": good.upper()}, SECRET, now=now)
    assert not authentic(body + b" ", headers, SECRET, now=now)
    assert not authentic(body, {**headers, "X-Webhook-Signature": sign(body, "other", now)}, SECRET, now=now)
    # The timestamp is signed too: moving it breaks the signature.
    assert not authentic(body, {**headers, "X-Webhook-Timestamp": str(now + 1)}, SECRET, now=now)
