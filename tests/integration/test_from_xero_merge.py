"""A Xero contact merged into another, over the whole local stack: the Account is relinked to the
surviving contact by its ContactID (Xero keeps the merged contact archived with the Account's
Contact Code, which no other contact may take), says so, and syncs with the survivor from then on.
The merge is arranged as Xero leaves it: the loser archived, `MergedToContactID` set, its code kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.stack import LocalStack
from tests.integration.test_from_xero import ACME, deliver, xero_key  # noqa: F401  (fixtures)

SURVIVOR = "7d6c1f0e-5a4b-4c3d-8e2f-1a0b9c8d7e6f"
BLUE = "5725767000000400002"


def merge_in_xero(live: LocalStack, loser_id: str, name: str = "Acme Widgets Group") -> None:
    live.xero.clock.advance(1)
    live.xero.put_contact({"ContactID": SURVIVOR, "Name": name, "ContactStatus": "ACTIVE"})
    loser = {k: v for k, v in (live.xero.contact(loser_id) or {}).items() if k != "UpdatedDateUTC"}
    live.xero.put_contact({**loser, "ContactStatus": "ARCHIVED", "MergedToContactID": SURVIVOR})


def test_a_merged_contact_relinks_its_account_to_the_survivor_by_contact_id(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
) -> None:
    loser_id = click(ACME).json()["xero_contact_id"]
    merge_in_xero(live, loser_id)

    deliver(loser_id)
    drain()
    deliver(loser_id)  # delivered twice: relinked once
    drain()

    account = live.zoho.get("Accounts", ACME)
    assert (account["Xero_ID"], account["Xero_Sync_Status"]) == (SURVIVOR, "Synced")
    assert "merged into “Acme Widgets Group”" in account["Xero_Sync_Error"]
    assert "linked by its Xero ID" in account["Xero_Sync_Error"]
    assert live.xero.contact(loser_id)["ContactNumber"] == ACME  # Xero keeps it on the merged contact

    # From Zoho, a click now writes to the survivor, leaving the Contact Code where Xero keeps it.
    live.zoho.edit("Accounts", ACME, {"Phone": "+61 2 9000 3000"}, automation=False)
    answer = click(ACME).json()
    assert (answer["status"], answer["xero_contact_id"]) == ("synced", SURVIVOR), answer
    phones = {p["PhoneType"]: p.get("PhoneNumber") for p in live.xero.contact(SURVIVOR)["Phones"]}
    assert phones["DEFAULT"] == "+61 2 9000 3000"
    assert not live.xero.contact(SURVIVOR).get("ContactNumber")
    assert live.xero.contact(loser_id)["ContactStatus"] == "ARCHIVED"


def test_a_merge_into_another_accounts_contact_asks_a_person(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
) -> None:
    loser_id = click(ACME).json()["xero_contact_id"]
    survivor_id = click(BLUE).json()["xero_contact_id"]
    live.xero.clock.advance(1)
    loser = {k: v for k, v in (live.xero.contact(loser_id) or {}).items() if k != "UpdatedDateUTC"}
    live.xero.put_contact({**loser, "ContactStatus": "ARCHIVED", "MergedToContactID": survivor_id})

    deliver(loser_id)
    drain()

    account = live.zoho.get("Accounts", ACME)
    assert account["Xero_Sync_Status"] == "Rejected"
    assert BLUE in account["Xero_Sync_Error"] and "merge them in Zoho CRM" in account["Xero_Sync_Error"]
    assert live.zoho.get("Accounts", BLUE)["Xero_ID"] == survivor_id
