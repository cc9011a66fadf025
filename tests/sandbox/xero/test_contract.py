"""The spec helpers other suites rely on: contact_request_errors and response_errors."""

from __future__ import annotations

from sandbox.specs.xero_spec import (
    contact_request_errors,
    contact_request_violations,
    max_lengths,
    response_errors,
)

VALID = {
    "Contacts": [
        {
            "Name": "Acme Widgets Pty Ltd",
            "ContactNumber": "5725767000000400001",
            "EmailAddress": "alice@acme.example",
            "FirstName": "Alice",
            "LastName": "Nguyen",
            "Addresses": [
                {
                    "AddressType": "POBOX",
                    "AddressLine1": "PO Box 123",
                    "City": "Sydney",
                    "Country": "Australia",
                }
            ],
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "9000 1000", "PhoneAreaCode": "02"}],
            "ContactPersons": [
                {"FirstName": "Bruno", "EmailAddress": "b@x.example", "IncludeInEmails": True}
            ],
            "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
            "Discount": None,
        }
    ]
}


def test_a_valid_body_has_no_errors():
    body = {"Contacts": [{k: v for k, v in VALID["Contacts"][0].items() if k != "Discount"}]}
    assert contact_request_errors(body) == []
    assert contact_request_errors({"Contacts": [{"ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01"}]}) == []


def test_read_only_fields_are_violations_in_requests():
    errors = contact_request_errors(VALID)
    assert errors == [
        "Contacts[0].Discount: read-only property must not be sent in a request",
        "Contacts[0].Discount: None is not of type 'number'",
    ]
    assert contact_request_errors({"Contacts": [{"Name": "x", "UpdatedDateUTC": "/Date(0)/"}]}) == [
        "Contacts[0].UpdatedDateUTC: read-only property must not be sent in a request"
    ]


def test_unknown_properties_unless_allowed():
    body = {"Contacts": [{"Name": "x", "Phones": [{"PhoneType": "MOBILE", "Number": "1"}]}]}
    assert contact_request_errors(body) == [
        "Contacts[0].Phones[0].Number: 'Number' is not a property defined by the spec"
    ]
    assert contact_request_errors(body, allow_unknown=True) == []


def test_types_enums_formats_and_lengths():
    body = {
        "Contacts": [
            {"ContactID": "nope", "Name": "N" * 256, "ContactStatus": "DELETED", "Addresses": {"City": "x"},
             "ContactPersons": [{"IncludeInEmails": "yes"}]}
        ]
    }  # fmt: skip
    violations = {(v.path, v.keyword) for v in contact_request_violations(body)}
    assert violations == {
        ("Contacts[0].ContactID", "format"),
        ("Contacts[0].Name", "maxLength"),
        ("Contacts[0].ContactStatus", "enum"),
        ("Contacts[0].Addresses", "type"),
        ("Contacts[0].ContactPersons[0].IncludeInEmails", "type"),
    }


def test_response_errors():
    assert (
        response_errors(
            {"Contacts": [{"ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01", "IsSupplier": False}]}
        )
        == []
    )
    assert response_errors({"Contacts": [{"IsSupplier": "no"}]}) == [
        "Contacts[0].IsSupplier: 'no' is not of type 'boolean'"
    ]
    assert response_errors({"ErrorNumber": "10"}, "Error") == ["ErrorNumber: '10' is not of type 'integer'"]
    # Read-only fields are fine in responses.
    assert response_errors({"Contacts": [{"Website": "https://x.example"}]}) == []
    connection = {"id": "7cb59f93-2964-421d-bb5e-a0f7a4572a44", "tenantId": "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
                  "tenantType": "ORGANISATION", "createdDateUtc": "2019-12-07T18:46:19.5165400"}  # fmt: skip
    assert response_errors([connection], "Connection[]", spec="identity") == []
    assert response_errors([{"tenantId": "x"}], "Connection[]", spec="identity") == [
        "[0].tenantId: 'x' is not a 'uuid'"
    ]


def test_max_lengths_come_from_the_spec():
    assert max_lengths("Contact")["Name"] == 255 and max_lengths("Contact")["ContactNumber"] == 50
    assert max_lengths("Address")["AddressLine1"] == 500 and max_lengths("Phone")["PhoneAreaCode"] == 10
