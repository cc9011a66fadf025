"""Every seed Account through prepare_contact: what the mapping layer must do with it.

Accounts 8 (name taken in Xero) and 13 (archived in Xero) are only rejected by the
Xero side, so the mapping layer accepts them.
"""

from __future__ import annotations

import pytest

from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, prepare_contact
from sandbox import seed_data
from tests.unit.mapping.helpers import xero_contact_errors, zoho_account, zoho_contacts

ACCEPTED = [1, 2, 7, 8, 9, 12, 13, 14]

REJECTED = {
    3: "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again.",
    4: (
        "Add to Xero is not ticked on this Account. To send it to Xero, tick Add to Xero on the Account "
        "in Zoho CRM, then click Sync to Xero again."
    ),
    5: (
        "This Account has 3 contacts but none is marked Primary Contact. "
        "Tick Primary Contact on one of: Erin Walsh, Farid Haddad, Grace Lee."
    ),
    6: (
        "This Account has 2 contacts marked Primary Contact (Hana Kobayashi, Ivan Petrov). "
        "Untick Primary Contact on all but one of them in Zoho CRM."
    ),
    10: "Account Name is 264 characters long; Xero allows at most 255. Shorten it in Zoho.",
    11: (
        "The primary contact Mia Jensen has an e-mail address Xero will not accept "
        "(reception@harbour). Correct it in Zoho."
    ),
}


def test_every_seed_account_is_covered() -> None:
    numbers = {int(a["id"][-2:]) for a in seed_data.ZOHO_ACCOUNTS}
    assert numbers == set(ACCEPTED) | set(REJECTED)


@pytest.mark.parametrize(("n", "message"), sorted(REJECTED.items()))
def test_rejected_seed_accounts(n: int, message: str, field_map: FieldMap) -> None:
    with pytest.raises(RejectedError) as caught:
        prepare_contact(zoho_account(n), zoho_contacts(n), field_map)
    assert caught.value.message == message


@pytest.mark.parametrize("n", ACCEPTED)
def test_accepted_seed_accounts_fit_xero_contact_schema(n: int, field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(n), zoho_contacts(n), field_map)
    assert prepared.xero_contact["Name"] == zoho_account(n)["Account_Name"]
    assert prepared.xero_contact["ContactNumber"] == seed_data.account_id(n)
    assert "ContactID" not in prepared.xero_contact
    assert xero_contact_errors(prepared.xero_contact) == []


def test_full_account_maps_every_field(field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(1), zoho_contacts(1), field_map)
    assert prepared.xero_contact == {
        "Name": "Acme Widgets Pty Ltd",
        "ContactNumber": "5725767000000400001",
        "AccountNumber": "ACC-0001",
        "FirstName": "Alice",
        "LastName": "Nguyen",
        "EmailAddress": "alice@acme.example",
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "+61 2 9000 1000"},
            {"PhoneType": "FAX", "PhoneNumber": "+61 2 9000 1001"},
            {"PhoneType": "MOBILE", "PhoneNumber": "+61 400 000 001"},
        ],
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": "PO Box 123",
                "City": "Sydney",
                "Region": "NSW",
                "PostalCode": "2000",
                "Country": "Australia",
            },
            {
                "AddressType": "STREET",
                "AddressLine1": "12 Harbour St",
                "City": "Sydney",
                "Region": "NSW",
                "PostalCode": "2000",
                "Country": "Australia",
            },
        ],
        "SalesDefaultAccountCode": "200",
        "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
    }
    # Alice is the only contact, so she is the primary although her box is unticked.
    assert zoho_contacts(1)[0]["Primary_Contact"] is False
    assert prepared.primary_contact_id == seed_data.contact_id(1)
    assert prepared.warnings == []


def test_website_and_discount_are_not_sent(field_map: FieldMap) -> None:
    account = zoho_account(1)
    assert account["Website"] and account["Sales_Discount"]
    body = prepare_contact(account, zoho_contacts(1), field_map).xero_contact
    assert "Website" not in body
    assert "Discount" not in body


def test_primary_and_contact_persons(field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(2), zoho_contacts(2), field_map)
    body = prepared.xero_contact
    assert (body["FirstName"], body["LastName"], body["EmailAddress"]) == (
        "Bruno",
        "Rossi",
        "bruno@bluemountain.example",
    )
    assert prepared.primary_contact_id == seed_data.contact_id(2)
    # Dev Patel has no e-mail: the key is left out, never sent as null.
    assert body["ContactPersons"] == [
        {
            "FirstName": "Chloe",
            "LastName": "Smith",
            "EmailAddress": "accounts@bluemountain.example",
            "IncludeInEmails": True,
        },
        {"FirstName": "Dev", "LastName": "Patel", "IncludeInEmails": False},
    ]
    # No fax on the Account: that phone is dropped; the primary's mobile is kept.
    assert body["Phones"] == [
        {"PhoneType": "DEFAULT", "PhoneNumber": "+61 2 4782 0000"},
        {"PhoneType": "MOBILE", "PhoneNumber": "+61 400 000 002"},
    ]
    assert body["PaymentTerms"] == {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}}
    # No shipping address: only the postal one goes.
    assert [a["AddressType"] for a in body["Addresses"]] == ["POBOX"]


def test_non_ascii_names_are_kept(field_map: FieldMap) -> None:
    body = prepare_contact(zoho_account(9), zoho_contacts(9), field_map).xero_contact
    assert body["Name"] == "Café Zürich Ñandú Ltd"
    assert (body["FirstName"], body["LastName"]) == ("Léa", "Müller")
    assert body["Addresses"] == [{"AddressType": "POBOX", "City": "Zürich", "Country": "Switzerland"}]


def test_account_without_contacts_has_no_person_fields(field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(12), [], field_map)
    assert prepared.xero_contact == {
        "Name": "Island Coffee Roasters",
        "ContactNumber": "5725767000000400012",
        "AccountNumber": "ACC-0012",
    }
    assert prepared.primary_contact_id is None


def test_more_than_five_other_contacts_are_capped_with_a_warning(field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(14), zoho_contacts(14), field_map)
    persons = prepared.xero_contact["ContactPersons"]
    assert [p["FirstName"] for p in persons] == ["Paul", "Quinn", "Ruby", "Sam", "Tara"]
    assert prepared.xero_contact["FirstName"] == "Olivia"
    assert prepared.warnings == [
        "1 of 7 contacts was not copied to Xero: Xero keeps at most 5 additional people besides the "
        "primary contact. Not copied: Uma Kestrel. Copied: Paul Kestrel, Quinn Kestrel, Ruby Kestrel, "
        "Sam Kestrel, Tara Kestrel. People with Include in Emails ticked are copied first."
    ]
