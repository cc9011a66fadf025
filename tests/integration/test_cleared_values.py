"""Cleared values flow: a field emptied in Zoho CRM is emptied in Xero on the next sync (the
map leaves empty values out, so before this a cleared phone stayed in Xero for ever), and one
emptied in Xero is emptied on the Account (Zoho clears a field given null)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.seed_data import contact_id as contact_id_of
from sandbox.stack import LocalStack
from tests.integration.test_from_xero import ACME, deliver, edit_in_xero, xero_key  # noqa: F401


def phone(contact: dict[str, Any], kind: str = "DEFAULT") -> str:
    return next((p.get("PhoneNumber", "") for p in contact.get("Phones", []) if p["PhoneType"] == kind), "")


def test_a_phone_and_an_address_line_cleared_in_zoho_are_cleared_in_xero(
    live: LocalStack, click: Callable[..., httpx.Response]
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    before = live.xero.contact(contact_id) or {}
    assert phone(before) and phone(before, "FAX")
    live.zoho.edit("Accounts", ACME, {"Phone": None, "Billing_City": None}, automation=False)

    assert click(ACME).json()["status"] == "synced"
    after = live.xero.contact(contact_id) or {}
    assert phone(after) == ""
    assert phone(after, "FAX") == phone(before, "FAX")  # the fax was not touched
    [pobox] = [a for a in after["Addresses"] if a["AddressType"] == "POBOX"]
    assert not pobox.get("City") and pobox.get("AddressLine1")


def test_an_email_cleared_in_xero_is_cleared_on_the_primary_contact(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    assert (live.xero.contact(contact_id) or {}).get("EmailAddress")
    assert live.zoho.get("Contacts", contact_id_of(1)).get("Email")
    edit_in_xero(live, contact_id, EmailAddress="")
    deliver(contact_id)
    drain()
    assert not live.zoho.get("Contacts", contact_id_of(1)).get("Email")  # Acme's primary contact


def test_fields_that_only_go_to_xero_cleared_in_zoho_are_cleared_in_xero(
    live: LocalStack, click: Callable[..., httpx.Response]
) -> None:
    # Fax, the shipping address and the sales account never come back from Xero, so the last
    # synced values used to leave them out and a cleared one stayed in Xero.
    contact_id = click(ACME).json()["xero_contact_id"]
    before = live.xero.contact(contact_id) or {}
    assert phone(before, "FAX") and before.get("SalesDefaultAccountCode") == "200"
    cleared = {"Fax": None, "Shipping_Street": None, "Shipping_City": None, "Default_Sales_Account": None}
    live.zoho.edit("Accounts", ACME, cleared, automation=False)

    assert click(ACME).json()["status"] == "synced"
    after = live.xero.contact(contact_id) or {}
    assert phone(after, "FAX") == ""
    assert phone(after) == phone(before)  # the main phone was not touched
    [street] = [a for a in after["Addresses"] if a["AddressType"] == "STREET"]
    assert not street.get("AddressLine1") and not street.get("City")
    assert street.get("Region") == "NSW" and street.get("PostalCode") == "2000"  # still in Zoho: kept
    assert not after.get("SalesDefaultAccountCode")
    assert click(ACME).json()["action"] == "unchanged"  # and the next click has nothing to clear
