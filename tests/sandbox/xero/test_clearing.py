"""Clearing a value in the Xero stand-in, as Xero does: an empty string clears a text element,
leaving it out keeps it (the spec allows no null), and a phone or address sent replaces the one of its type whole.
Each request is checked against the official spec, each answer too."""

from __future__ import annotations

from sandbox.seed_data import XERO_CONTACTS
from sandbox.specs.xero_spec import contact_request_errors, response_errors
from tests.sandbox.xero.conftest import XeroApi

FJORD = XERO_CONTACTS[0]["ContactID"]
FILLED = {
    "ContactID": FJORD,
    "AccountNumber": "FF-1",
    "Phones": [
        {"PhoneType": "DEFAULT", "PhoneNumber": "02 9999 0000"},
        {"PhoneType": "FAX", "PhoneNumber": "02 1111"},
    ],
    "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Fell Rd", "City": "Hobart"}],
}


def save(xero: XeroApi, element: dict) -> dict:
    assert contact_request_errors({"Contacts": [element]}) == []
    response = xero.save(element)
    assert response.status_code == 200, response.text
    assert response_errors(response.json()) == []
    (saved,) = response.json()["Contacts"]
    return saved


def phone(contact: dict, kind: str) -> str:
    return next((p.get("PhoneNumber", "") for p in contact["Phones"] if p["PhoneType"] == kind), "")


def test_an_empty_string_clears_and_an_omitted_element_is_kept(xero_sandbox, xero: XeroApi) -> None:
    save(xero, FILLED)
    assert contact_request_errors({"Contacts": [{"ContactID": FJORD, "AccountNumber": None}]})  # no null
    saved = save(xero, {"ContactID": FJORD, "EmailAddress": ""})
    assert "EmailAddress" not in saved  # Xero leaves empty elements out of its JSON
    assert saved["AccountNumber"] == "FF-1"  # not sent: kept
    assert phone(saved, "DEFAULT") == "02 9999 0000"  # not sent: kept


def test_a_phone_sent_empty_clears_only_that_phone(xero_sandbox, xero: XeroApi) -> None:
    save(xero, FILLED)
    saved = save(xero, {"ContactID": FJORD, "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": ""}]})
    assert phone(saved, "DEFAULT") == ""
    assert phone(saved, "FAX") == "02 1111"
    assert {p["PhoneType"] for p in saved["Phones"]} >= {"DEFAULT", "FAX"}  # every slot still listed


def test_an_address_sent_replaces_the_address_of_its_type_whole(xero_sandbox, xero: XeroApi) -> None:
    save(xero, FILLED)
    saved = save(
        xero,
        {
            "ContactID": FJORD,
            "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Fell Rd", "City": ""}],
        },
    )
    [pobox] = [a for a in saved["Addresses"] if a["AddressType"] == "POBOX"]
    assert pobox.get("AddressLine1") == "1 Fell Rd" and not pobox.get("City")


def test_the_sales_account_and_a_street_address_clear_as_any_text_element_and_address(
    xero_sandbox, xero: XeroApi
) -> None:
    street = {"AddressType": "STREET", "AddressLine1": "2 Dock Rd", "City": "Hobart", "Region": "TAS"}
    save(xero, {**FILLED, "SalesDefaultAccountCode": "200", "Addresses": [*FILLED["Addresses"], street]})
    saved = save(
        xero,
        {
            "ContactID": FJORD,
            "SalesDefaultAccountCode": "",
            "Addresses": [{"AddressType": "STREET", "AddressLine1": "", "City": "", "Region": "TAS"}],
        },
    )
    assert not saved.get("SalesDefaultAccountCode")
    [kept] = [a for a in saved["Addresses"] if a["AddressType"] == "STREET"]
    assert not kept.get("AddressLine1") and not kept.get("City") and kept["Region"] == "TAS"
    [pobox] = [a for a in saved["Addresses"] if a["AddressType"] == "POBOX"]
    assert pobox["City"] == "Hobart"  # another type: kept
