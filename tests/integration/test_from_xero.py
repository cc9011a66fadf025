"""Xero → Zoho CRM over the whole local stack: a signed webhook, the queue, both stand-ins.

Xero's deliveries are signed and POSTed here as Xero would (the stand-in's own delivery comes
with its webhook support); contacts are edited "as a Xero user" through the stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox.stack import LocalStack

KEY = "integration-xero-webhook-key"
ACME = "5725767000000400001"


@pytest.fixture
def xero_key(monkeypatch: pytest.MonkeyPatch, live: LocalStack) -> Iterator[None]:
    from chalicelib import wiring

    monkeypatch.setenv("XERO_WEBHOOK_KEY", KEY)
    wiring._container.cache_clear()
    yield
    wiring._container.cache_clear()


@pytest.fixture
def deliver(client: httpx.Client, live: LocalStack, xero_key: None) -> Callable[..., httpx.Response]:
    """POST a signed delivery of UPDATE/CREATE events for these contacts, as Xero does."""

    def send(*contact_ids: str, event_type: str = "UPDATE") -> httpx.Response:
        events = [
            {
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{cid}",
                "resourceId": cid,
                "eventDateUtc": "2026-03-01T10:00:00.000",
                "eventType": event_type,
                "eventCategory": "CONTACT",
                "tenantId": live.xero.tenant_id,
                "tenantType": "ORGANISATION",
            }
            for cid in contact_ids
        ]
        body = json.dumps({"events": events, "firstEventSequence": 1, "lastEventSequence": 1}).encode()
        signature = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
        response = client.post(
            "/webhooks/xero",
            content=body,
            headers={"x-xero-signature": signature, "Content-Type": "application/json"},
        )
        assert (response.status_code, response.content) == (200, b"")
        return response

    return send


def zoho_writes(live: LocalStack) -> list[dict[str, Any]]:
    return [
        c
        for c in live.zoho.calls()
        if c.get("method") in ("PUT", "POST") and "/coql" not in c.get("path", "")
    ]


def edit_in_xero(live: LocalStack, contact_id: str, **changes: Any) -> dict[str, Any]:
    """A person saves the contact in Xero: a second later, with these changes."""
    live.xero.clock.advance(1)
    contact = {k: v for k, v in (live.xero.contact(contact_id) or {}).items() if k != "UpdatedDateUTC"}
    return live.xero.put_contact({**contact, **changes})


def test_a_phone_changed_in_xero_reaches_the_account_and_its_echo_writes_nothing(
    live: LocalStack, click: Callable[..., httpx.Response], deliver: Callable[..., httpx.Response], drain: Any
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    live.zoho.clear_calls()

    deliver(contact_id)  # Xero's event for our own write
    drain()
    assert zoho_writes(live) == []
    assert [c for c in live.zoho.calls() if c["path"].startswith("/crm/")] == []  # not even a read

    edit_in_xero(live, contact_id, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0101"}])
    deliver(contact_id)
    drain()
    account = live.zoho.get("Accounts", ACME)
    assert account["Phone"] == "+64 9 555 0101"
    assert account["Xero_Sync_Status"] == "Synced"
    assert account["Xero_Last_Synced"]
    [write] = zoho_writes(live)
    assert write["request_body"]["trigger"] == []

    deliver(contact_id)  # redelivered later: nothing new
    drain()
    assert len(zoho_writes(live)) == 1


def test_a_contact_created_in_xero_becomes_exactly_one_account(
    live: LocalStack, deliver: Callable[..., httpx.Response], drain: Any
) -> None:
    contact = live.xero.put_contact(
        {
            "Name": "Tui Plumbing Ltd",
            "FirstName": "Hemi",
            "LastName": "Ngata",
            "EmailAddress": "hemi@tui.example",
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "09 555 0199"}],
        }
    )
    contact_id = contact["ContactID"]
    deliver(contact_id, event_type="CREATE")
    deliver(contact_id, event_type="CREATE")
    deliver(contact_id)  # the UPDATE Xero sends for the Contact Code we set
    drain()

    accounts = [a for a in live.zoho.records("Accounts") if a["Xero_ID"] == contact_id]
    assert len(accounts) == 1
    account = accounts[0]
    assert (account["Account_Name"], account["Add_to_Xero"], account["Phone"]) == (
        "Tui Plumbing Ltd",
        True,
        "09 555 0199",
    )
    people = [
        c for c in live.zoho.records("Contacts") if (c["Account_Name"] or {}).get("id") == account["id"]
    ]
    assert [(p["First_Name"], p["Last_Name"], p["Email"], p["Primary_Contact"]) for p in people] == [
        ("Hemi", "Ngata", "hemi@tui.example", True)
    ]
    assert live.xero.contact(contact_id)["ContactNumber"] == account["id"]


def test_creation_can_be_turned_off(
    live: LocalStack, deliver: Callable[..., httpx.Response], drain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XERO_CREATES_ACCOUNTS", "false")
    contact = live.xero.put_contact({"Name": "Not For The CRM Ltd"})
    deliver(contact["ContactID"], event_type="CREATE")
    drain()
    assert not [a for a in live.zoho.records("Accounts") if a["Account_Name"] == "Not For The CRM Ltd"]


def test_a_refusal_by_zoho_is_shown_on_the_account_in_plain_words(
    live: LocalStack, deliver: Callable[..., httpx.Response], drain: Any
) -> None:
    contact = live.xero.put_contact(
        {"Name": "Kea Joinery", "FirstName": "Aroha", "EmailAddress": "a@kea.example"}
    )
    deliver(contact["ContactID"], event_type="CREATE")
    drain()
    [account] = [a for a in live.zoho.records("Accounts") if a["Account_Name"] == "Kea Joinery"]
    assert account["Xero_Sync_Status"] == "Rejected"
    assert "Last Name" in account["Xero_Sync_Error"]
    assert "Fill it in on the contact in Xero" in account["Xero_Sync_Error"]


def test_a_rate_limited_read_is_a_plain_line_and_keeps_the_event(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],
    drain: Any,
    service_logs: io.StringIO,
) -> None:
    """Xero's 429 (or our budget) on the read is expected, not a fault: one info line, no
    traceback, and the event stays queued for later, so the user's edit is not lost."""
    import boto3

    from chalicelib.settings import get_settings

    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0102"}])
    live.xero.add_fault(
        status=429, retry_after=60, count=1, method="GET", path_prefix="/api.xro/2.0/Contacts"
    )
    deliver(contact_id)
    drain(max_seconds=3)

    logged = service_logs.getvalue()
    lines = [json.loads(text) for text in logged.splitlines() if text.startswith("{")]
    about_the_read = [line for line in lines if "xero contacts" in line["message"]]
    assert [(line["level"], line["message"]) for line in about_the_read] == [
        ("INFO", "reading changed xero contacts waits for the rate limit")
    ]
    assert "exception" not in about_the_read[0]
    assert "Traceback" not in logged
    assert live.zoho.get("Accounts", ACME)["Phone"] != "+64 9 555 0102"  # not yet ...
    queued = boto3.client("sqs").get_queue_attributes(
        QueueUrl=get_settings().SYNC_QUEUE_URL, AttributeNames=["All"]
    )["Attributes"]
    in_queue = int(queued["ApproximateNumberOfMessages"]) + int(
        queued["ApproximateNumberOfMessagesNotVisible"]
    )
    assert in_queue == 1  # ... but still queued: it is read once the limit has passed


def test_a_rate_limited_read_waits_out_retry_after_on_the_queue(
    live: LocalStack, click: Callable[..., httpx.Response], deliver: Callable[..., httpx.Response], drain: Any
) -> None:
    """A bulk run's echoes that meet the rate limit come back when the limit says (Retry-After),
    not at every 2 s visibility timeout: a receive each time spent the queue's receive count
    (then the dead-letter queue) and kept the local stack busy until the limit passed."""
    import time

    retry_after = 8  # seconds: longer than the queue's 2 s visibility timeout, twice over
    contact_id = click(ACME).json()["xero_contact_id"]
    edit_in_xero(live, contact_id, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0103"}])
    live.xero.add_fault(
        status=429, retry_after=retry_after, count=1, method="GET", path_prefix="/api.xro/2.0/Contacts"
    )
    deliver(contact_id)
    limited_at = time.monotonic()

    assert drain(max_seconds=5, quiet_polls=40) == 1  # received once, then held back
    assert live.zoho.get("Accounts", ACME)["Phone"] != "+64 9 555 0103"

    while time.monotonic() - limited_at < retry_after + 20:
        drain(max_seconds=1, quiet_polls=5)
        if live.zoho.get("Accounts", ACME)["Phone"] == "+64 9 555 0103":
            break
    assert live.zoho.get("Accounts", ACME)["Phone"] == "+64 9 555 0103"  # the edit arrives, once due
    assert time.monotonic() - limited_at >= retry_after
