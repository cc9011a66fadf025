"""Xero → Zoho CRM end to end as `make run` wires it: the Xero stand-in's own subscription
(intent to receive passed at start), its signed and batched deliveries, our queue and worker.

test_from_xero.py signs deliveries by hand to pin each rule; here nothing is hand-made: a person
edits or creates a contact in Xero and the Zoho records change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.stack import LocalStack

ACME = "5725767000000400001"


def delivered(live: LocalStack, drain: Any) -> list[dict[str, Any]]:
    """Xero delivers what is pending now (not after its batch window); the worker takes it."""
    attempts = live.xero.deliver_webhooks()
    drain()
    return attempts


def test_the_stack_is_subscribed_to_xero_contact_events(live: LocalStack) -> None:
    assert live.xero.webhook_state()["status"] == "OK"
    assert live.xero_webhook_note == ""


def test_an_accountants_edit_in_xero_reaches_the_account_and_primary_contact(
    live: LocalStack, click: Callable[..., httpx.Response], drain: Any
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    delivered(live, drain)  # Xero's event for our own write: an echo
    live.zoho.clear_calls()

    live.xero.clock.advance(1)
    live.xero.user_edit_contact(contact_id, {"AccountNumber": "ACME-77", "EmailAddress": "ap@acme.example"})
    attempts = delivered(live, drain)

    assert [(a["status_code"], a["body_empty"]) for a in attempts] == [(200, True)]
    account = live.zoho.get("Accounts", ACME)
    assert (account["Account_Number"], account["Xero_Sync_Status"]) == ("ACME-77", "Synced")
    people = [c for c in live.zoho.records("Contacts") if (c.get("Account_Name") or {}).get("id") == ACME]
    assert "ap@acme.example" in [c["Email"] for c in people]  # the primary Contact's e-mail

    # Our Zoho writes fire no workflow rule, so nothing comes back the other way.
    writes = [c for c in live.zoho.calls() if c["method"] in ("PUT", "POST") and "/coql" not in c["path"]]
    assert writes and all(c["request_body"]["trigger"] == [] for c in writes)
    assert live.zoho.webhook_deliveries() == []


def test_a_contact_created_in_xero_delivered_twice_is_one_account(live: LocalStack, drain: Any) -> None:
    live.xero.config.webhook_duplicate_deliveries = True  # Xero may deliver an event more than once
    try:
        contact = live.xero.user_create_contact(
            {
                "Name": "Kowhai Bakery",
                "FirstName": "Aroha",
                "LastName": "Tane",
                "EmailAddress": "aroha@kowhai.example",
            }
        )
        delivered(live, drain)
        delivered(live, drain)  # and the UPDATE for the Contact Code we set
    finally:
        live.xero.config.webhook_duplicate_deliveries = False

    accounts = [a for a in live.zoho.records("Accounts") if a.get("Account_Name") == "Kowhai Bakery"]
    assert len(accounts) == 1
    assert accounts[0]["Xero_ID"] == contact["ContactID"]
    assert live.xero.contact(contact["ContactID"])["ContactNumber"] == accounts[0]["id"]


FJORD_ACCOUNT = "5725767000000400007"  # "Fjord & Fell Outfitters", never synced
FJORD_CONTACT = "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01"  # Xero's contact of that name, no Contact Code


def test_a_contact_named_as_an_unlinked_account_links_to_it_instead_of_a_second_account(
    live: LocalStack, drain: Any
) -> None:
    live.xero.user_edit_contact(FJORD_CONTACT, {"AccountNumber": "FF-1"})
    delivered(live, drain)
    delivered(live, drain)  # the UPDATE for the Contact Code we set: an echo

    namesakes = [a for a in live.zoho.records("Accounts") if a["Account_Name"] == "Fjord & Fell Outfitters"]
    assert [a["id"] for a in namesakes] == [FJORD_ACCOUNT]
    assert (namesakes[0]["Xero_ID"], namesakes[0]["Account_Number"]) == (FJORD_CONTACT, "FF-1")
    assert live.xero.contact(FJORD_CONTACT)["ContactNumber"] == FJORD_ACCOUNT


def test_a_contact_whose_name_two_accounts_share_creates_nothing(live: LocalStack, drain: Any) -> None:
    live.zoho.create("Accounts", {"Account_Name": "Fjord & Fell Outfitters"}, automation=False)
    live.xero.user_edit_contact(FJORD_CONTACT, {"AccountNumber": "FF-2"})
    delivered(live, drain)

    named = [a for a in live.zoho.records("Accounts") if a["Account_Name"] == "Fjord & Fell Outfitters"]
    assert len(named) == 2 and all(not a.get("Xero_ID") for a in named)
    assert not (live.xero.contact(FJORD_CONTACT) or {}).get("ContactNumber")
