"""Cleared values in a Xero body (mapping/clearing.py): an emptied Zoho field is sent as Xero
clears it, and the body still fits the spec."""

from __future__ import annotations

from chalicelib.mapping import FieldMap
from chalicelib.mapping.clearing import cleared_since, with_values, xero_update
from chalicelib.mapping.directions import mapped_fields, xero_side
from sandbox.specs.xero_spec import contact_request_errors

PHONE = "Phones[PhoneType=DEFAULT].PhoneNumber"
CITY = "Addresses[AddressType=POBOX].City"
STREET = "Addresses[AddressType=POBOX].AddressLine1"


def test_a_phone_zoho_emptied_is_sent_as_an_empty_default_phone(field_map: FieldMap) -> None:
    fields = mapped_fields(field_map)
    body = {"Name": "Acme", "Phones": [{"PhoneType": "FAX", "PhoneNumber": "02 1111"}]}
    last = {"Name": "Acme", PHONE: "02 9999 0000", "EmailAddress": "a@acme.example"}
    clears = cleared_since(body, last, fields)
    assert clears == {PHONE: "", "EmailAddress": ""}
    sent = with_values(body, clears, fields)
    assert sent["EmailAddress"] == ""
    assert {"PhoneType": "DEFAULT", "PhoneNumber": ""} in sent["Phones"]
    assert {"PhoneType": "FAX", "PhoneNumber": "02 1111"} in sent["Phones"]  # other types untouched
    assert body == {"Name": "Acme", "Phones": [{"PhoneType": "FAX", "PhoneNumber": "02 1111"}]}
    assert contact_request_errors({"Contacts": [sent]}) == []


def test_an_address_line_is_cleared_inside_the_address_sent(field_map: FieldMap) -> None:
    fields = mapped_fields(field_map)
    body = {"Name": "Acme", "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Main St"}]}
    clears = cleared_since(body, {STREET: "1 Main St", CITY: "Sydney"}, fields)
    assert clears == {CITY: ""}
    sent = with_values(body, clears, fields)
    assert sent["Addresses"] == [{"AddressType": "POBOX", "AddressLine1": "1 Main St", "City": ""}]
    assert xero_side(sent, fields)[CITY] == ""


def test_nothing_is_cleared_that_was_empty_before_or_still_has_a_value(field_map: FieldMap) -> None:
    fields = mapped_fields(field_map)
    body = {"Name": "Acme", "EmailAddress": "new@acme.example"}
    assert cleared_since(body, {"EmailAddress": "old@acme.example", PHONE: ""}, fields) == {}


def test_the_smallest_update_sends_a_touched_phone_whole_as_xero_has_it(field_map: FieldMap) -> None:
    fields = mapped_fields(field_map)
    contact = {
        "ContactID": "c-1",
        "Name": "Acme",
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "555", "PhoneAreaCode": "02"},
            {"PhoneType": "FAX", "PhoneNumber": "777"},
        ],
    }
    body = xero_update(contact, {PHONE: "", "AccountNumber": "A-9"}, fields)
    assert body == {
        "ContactID": "c-1",
        "AccountNumber": "A-9",
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "", "PhoneAreaCode": "02"}],
    }
    assert xero_update(contact, {CITY: "Hobart"}, fields)["Addresses"] == [
        {"AddressType": "POBOX", "City": "Hobart"}
    ]
