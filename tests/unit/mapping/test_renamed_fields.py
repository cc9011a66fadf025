"""A user renames Zoho fields and changes the mapping in YAML alone: no code changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, load_field_map, prepare_contact, writeback_fields
from tests.unit.mapping.helpers import xero_contact_errors

CUSTOM_MAP = """
version: 1
zoho:
  accounts:
    name: {field: Company, label: Company name}
    add_to_xero: {field: Send_To_Xero, label: Send to Xero}
  contacts:
    account_lookup: Company_Link
    primary_contact: {field: Main_Contact, label: Main contact}
    include_in_emails: Copy_Invoices
    first_name: Given_Name
    last_name: Family_Name
  write_back:
    xero_id: Xero_Contact_Id
    xero_contact_url: Xero_Link
    sync_status: Xero_Status
    last_synced: Xero_Synced_At
    sync_error: Xero_Problem
    sync_error_max_length: 100
xero_contact:
  Name: {from: account.Company, required: true, label: Company name}
  ContactNumber: account.id
  TaxNumber: account.ABN
  DefaultCurrency: account.Currency_Code
  FirstName: primary.Given_Name
  LastName: primary.Family_Name
  EmailAddress: primary.Work_Email
  ContactPersons:
    for_each: other_contacts
    max: 2
    item:
      FirstName: contact.Given_Name
      LastName: contact.Family_Name
      EmailAddress: {from: contact.Work_Email, label: Work e-mail}
      IncludeInEmails: contact.Copy_Invoices
  Phones:
    - PhoneType: {value: DDI}
      PhoneNumber: primary.Direct_Line
  PaymentTerms:
    Sales:
      Day: {from: account.Terms_Days, default: 30}
      Type: {from: account.Terms, lookup: {Net: DAYSAFTERBILLDATE, EOM: DAYSAFTERBILLMONTH}, default: Net}
"""

ACCOUNT_ID = "5725767000000900001"


def account(**fields: Any) -> dict[str, Any]:
    base = {
        "id": ACCOUNT_ID,
        "Company": "Wattle & Gum Co",
        "Send_To_Xero": True,
        "ABN": "51 824 753 556",
        "Currency_Code": "AUD",
        "Terms_Days": None,
        "Terms": None,
    }
    return base | fields


def person(n: int, given: str, family: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": f"57257670000009{n:05d}",
        "Given_Name": given,
        "Family_Name": family,
        "Work_Email": f"{given.lower()}@wattle.example",
        "Direct_Line": None,
        "Main_Contact": False,
        "Copy_Invoices": False,
        "Company_Link": {"name": "Wattle & Gum Co", "id": ACCOUNT_ID},
    }
    return base | fields


@pytest.fixture
def custom(tmp_path: Path) -> FieldMap:
    path = tmp_path / "custom.yaml"
    path.write_text(CUSTOM_MAP, encoding="utf-8")
    return load_field_map(str(path))


def test_fields_to_fetch_follow_the_new_names(custom: FieldMap) -> None:
    assert custom.account_fields() == [
        "id", "Company", "Send_To_Xero",
        "Xero_Contact_Id", "Xero_Link", "Xero_Status", "Xero_Synced_At", "Xero_Problem",
        "ABN", "Currency_Code", "Terms_Days", "Terms",
    ]  # fmt: skip
    assert custom.contact_fields() == [
        "id", "Given_Name", "Family_Name", "Company_Link", "Main_Contact", "Copy_Invoices",
        "Work_Email", "Direct_Line",
    ]  # fmt: skip


def test_renamed_records_map_to_xero(custom: FieldMap) -> None:
    contacts = [
        person(1, "Kim", "Lee", Main_Contact=True, Direct_Line="+61 3 9000 0000"),
        person(2, "Ana", "Silva", Copy_Invoices=True),
        person(3, "Ben", "Ng"),
        person(4, "Cy", "Ott"),
    ]
    prepared = prepare_contact(account(Terms_Days=7), contacts, custom)
    assert prepared.xero_contact == {
        "Name": "Wattle & Gum Co",
        "ContactNumber": ACCOUNT_ID,
        "TaxNumber": "51 824 753 556",
        "DefaultCurrency": "AUD",
        "FirstName": "Kim",
        "LastName": "Lee",
        "EmailAddress": "kim@wattle.example",
        "ContactPersons": [
            {
                "FirstName": "Ana",
                "LastName": "Silva",
                "EmailAddress": "ana@wattle.example",
                "IncludeInEmails": True,
            },
            {
                "FirstName": "Ben",
                "LastName": "Ng",
                "EmailAddress": "ben@wattle.example",
                "IncludeInEmails": False,
            },
        ],
        "Phones": [{"PhoneType": "DDI", "PhoneNumber": "+61 3 9000 0000"}],
        # Terms was empty: its default "Net" went through the lookup.
        "PaymentTerms": {"Sales": {"Day": 7, "Type": "DAYSAFTERBILLDATE"}},
    }
    assert xero_contact_errors(prepared.xero_contact) == []
    assert "at most 2 additional people" in prepared.warnings[0]
    assert "People with Copy Invoices ticked are copied first." in prepared.warnings[0]


def test_defaults_do_not_create_an_empty_group(custom: FieldMap) -> None:
    body = prepare_contact(account(), [], custom).xero_contact
    assert "PaymentTerms" not in body


@pytest.mark.parametrize(
    ("record", "contacts", "message"),
    [
        (
            account(Send_To_Xero=False),
            [],
            "Send to Xero is not ticked on this Account. To send it to Xero, tick Send to Xero on the "
            "Account in Zoho CRM, then click Sync to Xero again.",
        ),
        (
            account(Company=" "),
            [],
            "Company name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again.",
        ),
        (
            account(),
            [person(1, "Kim", "Lee"), person(2, "Ana", "Silva")],
            "This Account has 2 contacts but none is marked Main contact. "
            "Tick Main contact on one of: Ana Silva, Kim Lee.",
        ),
        (
            account(Company="W" * 256),
            [],
            "Company name is 256 characters long; Xero allows at most 255. Shorten it in Zoho.",
        ),
        (
            account(Terms="Monthly"),
            [],
            "Terms 'Monthly' has no match in Xero. Choose one of: Net; EOM.",
        ),
    ],
)
def test_messages_use_the_new_labels(
    record: dict[str, Any], contacts: list[dict[str, Any]], message: str, custom: FieldMap
) -> None:
    with pytest.raises(RejectedError) as caught:
        prepare_contact(record, contacts, custom)
    assert caught.value.message == message


def test_writeback_uses_the_new_names_and_size(custom: FieldMap) -> None:
    update = writeback_fields(
        custom, status="Failed", xero_contact_id="abc", xero_contact_url=None, synced_at=None, error="x" * 500
    )
    assert set(update) == {"Xero_Status", "Xero_Contact_Id", "Xero_Problem"}
    assert len(update["Xero_Problem"]) == 100
