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
