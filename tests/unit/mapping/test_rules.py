"""The validation and mapping rules of prepare_contact, one by one, on seed records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.errors import RejectedError
from chalicelib.mapping import FieldMap, load_field_map, prepare_contact, xero_contact_persons
from tests.unit.mapping.helpers import make_contact, xero_contact_errors, zoho_account, zoho_contacts


def rejection(account: dict[str, Any], contacts: list[dict[str, Any]], field_map: FieldMap) -> str:
    with pytest.raises(RejectedError) as caught:
        prepare_contact(account, contacts, field_map)
    return caught.value.message


def walk(value: Any) -> list[Any]:
    """Every value anywhere in a JSON tree."""
    if isinstance(value, dict):
        return [value, *(v for child in value.values() for v in walk(child))]
    if isinstance(value, list):
        return [value, *(v for child in value for v in walk(child))]
    return [value]


# --- The gate ------------------------------------------------------------------------------


@pytest.mark.parametrize("ticked", [False, None, "false", ""])
def test_add_to_xero_must_be_ticked(ticked: Any, field_map: FieldMap) -> None:
    account = zoho_account(1) | {"Add_to_Xero": ticked}
    assert rejection(account, [], field_map) == (
        "Add to Xero is not ticked on this Account. To send it to Xero, tick Add to Xero on the Account "
        "in Zoho CRM, then click Sync to Xero again."
    )


def test_add_to_xero_as_text_true_is_ticked(field_map: FieldMap) -> None:
    # Workflow webhooks send merge fields as text.
    assert prepare_contact(zoho_account(1) | {"Add_to_Xero": "true"}, [], field_map)


@pytest.mark.parametrize("name", [None, "", "   "])
def test_account_name_is_required(name: Any, field_map: FieldMap) -> None:
    assert rejection(zoho_account(1) | {"Account_Name": name}, [], field_map) == (
        "Account Name is empty. Fill it in on the Account in Zoho CRM, then click Sync to Xero again."
    )


def test_values_are_stripped(field_map: FieldMap) -> None:
    account = zoho_account(12) | {"Account_Name": "  Island Coffee  ", "Billing_City": " Cairns\t"}
    body = prepare_contact(account, [], field_map).xero_contact
    assert body["Name"] == "Island Coffee"
    assert body["Addresses"] == [{"AddressType": "POBOX", "City": "Cairns"}]


# --- The primary contact ------------------------------------------------------------------


def test_single_contact_is_primary_whatever_its_flag(field_map: FieldMap) -> None:
    account = zoho_account(7)
    contacts = zoho_contacts(7)
    assert len(contacts) == 1 and contacts[0]["Primary_Contact"] is False
    prepared = prepare_contact(account, contacts, field_map)
    assert prepared.primary_contact_id == contacts[0]["id"]
    assert prepared.xero_contact["FirstName"] == "Jonas"
    assert "ContactPersons" not in prepared.xero_contact


def test_contacts_of_other_accounts_and_duplicates_are_ignored(field_map: FieldMap) -> None:
    account = zoho_account(2)
    stranger = zoho_contacts(5)[0]  # Erin Walsh belongs to Delta Logistics
    contacts = zoho_contacts(2)
    prepared = prepare_contact(account, [*contacts, stranger, contacts[1]], field_map)
    names = [p["FirstName"] for p in prepared.xero_contact["ContactPersons"]]
    assert names == ["Chloe", "Dev"]


def test_primary_flag_decides_among_several(field_map: FieldMap) -> None:
    contacts = zoho_contacts(5)
    contacts[1]["Primary_Contact"] = True  # Farid Haddad
    prepared = prepare_contact(zoho_account(5), contacts, field_map)
    assert prepared.xero_contact["FirstName"] == "Farid"
    assert [p["FirstName"] for p in prepared.xero_contact["ContactPersons"]] == ["Erin", "Grace"]


def test_primary_contact_without_names_is_named_by_id(field_map: FieldMap) -> None:
    account = zoho_account(5)
    contacts = zoho_contacts(5)
    contacts[0].update(First_Name=None, Last_Name=None)
    message = rejection(account, contacts, field_map)
    assert f"the contact with id {contacts[0]['id']}" in message


# --- E-mail addresses -----------------------------------------------------------------------


@pytest.mark.parametrize("email", ["jürgen@example.de", "a b@example.com", "a@@example.com", "a@example"])
def test_primary_email_must_be_valid_for_xero(email: str, field_map: FieldMap) -> None:
    contacts = zoho_contacts(2)
    contacts[0]["Email"] = email
    assert rejection(zoho_account(2), contacts, field_map) == (
        f"The primary contact Bruno Rossi has an e-mail address Xero will not accept ({email}). "
        "Correct it in Zoho."
    )


def test_invalid_email_of_another_person_rejects_naming_them(field_map: FieldMap) -> None:
    # Xero would refuse the whole contact, so the person is named rather than dropped.
    contacts = zoho_contacts(2)
    contacts[1]["Email"] = "accounts@bluemountain"
    assert rejection(zoho_account(2), contacts, field_map) == (
        "The contact Chloe Smith has an e-mail address Xero will not accept (accounts@bluemountain). "
        "Correct it in Zoho."
    )


def test_email_of_a_person_left_out_by_the_cap_is_not_checked(field_map: FieldMap) -> None:
    contacts = zoho_contacts(14)
    uma = next(c for c in contacts if c["First_Name"] == "Uma")
    uma["Email"] = "not an address"
    prepared = prepare_contact(zoho_account(14), contacts, field_map)
    assert "Uma Kestrel" in prepared.warnings[0]


# --- Xero's length limits ---------------------------------------------------------------------


def test_all_too_long_fields_are_listed_in_one_message(field_map: FieldMap) -> None:
    account = zoho_account(1) | {"Billing_City": "S" * 256, "Billing_Code": "2" * 51}
    contacts = zoho_contacts(1)
    contacts[0]["First_Name"] = "A" * 300
    assert rejection(account, contacts, field_map) == (
        "Some fields are too long for Xero: "
        f"First Name of the primary contact {'A' * 300} Nguyen is 300 characters long (at most 255); "
        "Billing City is 256 characters long (at most 255); "
        "Billing Code is 51 characters long (at most 50). Shorten them in Zoho."
    )


@pytest.mark.parametrize(
    ("field", "limit", "label"),
    [
        ("Account_Number", 50, "Account Number"),
        ("Phone", 50, "Phone"),
        ("Billing_Street", 500, "Billing Street"),
        ("Shipping_State", 255, "Shipping State"),
        ("Shipping_Country", 50, "Shipping Country"),
    ],
)
def test_length_limit_is_exact(field: str, limit: int, label: str, field_map: FieldMap) -> None:
    at_limit = prepare_contact(zoho_account(1) | {field: "x" * limit}, [], field_map)
    assert xero_contact_errors(at_limit.xero_contact) == []
    message = rejection(zoho_account(1) | {field: "x" * (limit + 1)}, [], field_map)
    assert message == (
        f"{label} is {limit + 1} characters long; Xero allows at most {limit}. Shorten it in Zoho."
    )


def test_emoji_count_as_xero_counts_them(field_map: FieldMap) -> None:
    # 254 letters + one emoji: 255 code points, but 256 UTF-16 units as .NET counts them.
    name = "a" * 254 + "\N{GRINNING FACE}"
    assert "256 characters long" in rejection(zoho_account(12) | {"Account_Name": name}, [], field_map)


# --- Types and the payment-terms lookup -------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "xero_type"),
    [
        ("day(s) after invoice date", "DAYSAFTERBILLDATE"),
        ("day(s) after the end of the invoice month", "DAYSAFTERBILLMONTH"),
        ("of the current month", "OFCURRENTMONTH"),
        ("of the following month", "OFFOLLOWINGMONTH"),
        ("  Of the FOLLOWING   month ", "OFFOLLOWINGMONTH"),
    ],
)
def test_payment_terms_lookup(label: str, xero_type: str, field_map: FieldMap) -> None:
    account = zoho_account(12) | {"Invoices_Due_Date_Day": 7, "Invoices_Due_Date_Frequency": label}
    body = prepare_contact(account, [], field_map).xero_contact
    assert body["PaymentTerms"] == {"Sales": {"Day": 7, "Type": xero_type}}
    assert xero_contact_errors(body) == []


@pytest.mark.parametrize(("day", "expected"), [(14, 14), (14.0, 14), ("14", 14), (" 30 ", 30), (0, 0)])
def test_day_is_a_whole_number(day: Any, expected: int, field_map: FieldMap) -> None:
    account = zoho_account(2) | {"Invoices_Due_Date_Day": day}
    sales = prepare_contact(account, zoho_contacts(2), field_map).xero_contact["PaymentTerms"]["Sales"]
    assert sales["Day"] == expected
    assert type(sales["Day"]) is int


@pytest.mark.parametrize("day", ["fourteen", 14.5, "1e3", True])
def test_day_not_a_whole_number_is_rejected(day: Any, field_map: FieldMap) -> None:
    account = zoho_account(2) | {"Invoices_Due_Date_Day": day}
    message = rejection(account, zoho_contacts(2), field_map)
    assert message.startswith("Invoices Due Date Day must be a whole number, like 14 (it is ")
    assert message.endswith("). Correct it in Zoho.")


def test_unknown_frequency_names_the_allowed_values(field_map: FieldMap) -> None:
    account = zoho_account(2) | {"Invoices_Due_Date_Frequency": "weekly"}
    assert rejection(account, zoho_contacts(2), field_map) == (
        "Invoices Due Date Frequency 'weekly' has no match in Xero. Choose one of: "
        "day(s) after invoice date; day(s) after the end of the invoice month; "
        "of the current month; of the following month."
    )


def test_day_without_frequency_asks_for_both(field_map: FieldMap) -> None:
    account = zoho_account(2) | {"Invoices_Due_Date_Frequency": None}
    assert rejection(account, zoho_contacts(2), field_map) == (
        "Invoices Due Date Frequency must be filled in because Invoices Due Date Day is. "
        "Fill it in in Zoho, or clear Invoices Due Date Day."
    )


def test_several_value_problems_come_in_one_message(field_map: FieldMap) -> None:
    account = zoho_account(1) | {
        "Invoices_Due_Date_Day": "soon",
        "Invoices_Due_Date_Frequency": "weekly",
        "Account_Number": "N" * 60,
    }
    message = rejection(account, zoho_contacts(1), field_map)
    assert message.startswith("Account Number is 60 characters long; Xero allows at most 50.")
    assert "Invoices Due Date Day must be a whole number" in message
    assert "Invoices Due Date Frequency 'weekly' has no match in Xero" in message


# --- Empty values --------------------------------------------------------------------------


def test_empty_values_are_left_out_never_null(field_map: FieldMap) -> None:
    account = zoho_account(1) | {
        "Account_Number": "",
        "Fax": "   ",
        "Billing_City": None,
        "Default_Sales_Account": "",
    }
    body = prepare_contact(account, zoho_contacts(1), field_map).xero_contact
    assert "AccountNumber" not in body and "SalesDefaultAccountCode" not in body
    assert [p["PhoneType"] for p in body["Phones"]] == ["DEFAULT", "MOBILE"]
    assert "City" not in body["Addresses"][0]
    assert not [v for v in walk(body) if v is None or v == "" or v == [] or v == {}]


def test_phones_addresses_and_terms_are_dropped_when_all_empty(field_map: FieldMap) -> None:
    body = prepare_contact(zoho_account(7), [], field_map).xero_contact
    assert set(body) == {"Name", "ContactNumber", "AccountNumber"}


def test_an_address_with_one_field_filled_is_sent(field_map: FieldMap) -> None:
    body = prepare_contact(zoho_account(7) | {"Shipping_Code": "0800"}, [], field_map).xero_contact
    assert body["Addresses"] == [{"AddressType": "STREET", "PostalCode": "0800"}]


def test_numbers_from_zoho_become_text_for_text_fields(field_map: FieldMap) -> None:
    account = zoho_account(7) | {"Account_Number": 1200.0, "Default_Sales_Account": 200}
    body = prepare_contact(account, [], field_map).xero_contact
    assert (body["AccountNumber"], body["SalesDefaultAccountCode"]) == ("1200", "200")


# --- Contact persons: cap and order ------------------------------------------------------------


def test_contact_person_order_does_not_depend_on_zoho_order(field_map: FieldMap) -> None:
    contacts = zoho_contacts(14)
    forward = prepare_contact(zoho_account(14), contacts, field_map)
    backward = prepare_contact(zoho_account(14), list(reversed(contacts)), field_map)
    assert forward.xero_contact == backward.xero_contact
    assert forward.warnings == backward.warnings


def test_include_in_emails_first_then_by_full_name(field_map: FieldMap) -> None:
    account = zoho_account(14)
    others = [
        make_contact(90, account, "Zed", "Adams", Include_in_Emails=True),
        make_contact(91, account, "Amy", "Young"),
        make_contact(92, account, "Amy", "Baker"),
        make_contact(93, account, "Bob", "Zhu", Include_in_Emails=True),
        make_contact(94, account, "amy", "Able"),
        make_contact(95, account, "Cat", "Cole"),
        make_contact(96, account, "Dan", "Dale"),
    ]
    copied, left_out = xero_contact_persons(others, field_map, 5)
    assert [(c["First_Name"], c["Last_Name"]) for c in copied] == [
        ("Bob", "Zhu"),
        ("Zed", "Adams"),
        ("amy", "Able"),
        ("Amy", "Baker"),
        ("Amy", "Young"),
    ]
    assert [c["First_Name"] for c in left_out] == ["Cat", "Dan"]


def test_cap_warning_counts_everyone(field_map: FieldMap) -> None:
    account = zoho_account(14)
    extra = [make_contact(90 + i, account, first, "Young") for i, first in enumerate(["Zoe", "Zara"])]
    prepared = prepare_contact(account, [*zoho_contacts(14), *extra], field_map)
    assert len(prepared.xero_contact["ContactPersons"]) == 5
    assert prepared.warnings[0].startswith("3 of 9 contacts were not copied to Xero")
    assert "Not copied: Uma Kestrel, Zara Young, Zoe Young." in prepared.warnings[0]


def test_no_warning_at_five_others(field_map: FieldMap) -> None:
    contacts = [c for c in zoho_contacts(14) if c["First_Name"] != "Uma"]
    prepared = prepare_contact(zoho_account(14), contacts, field_map)
    assert len(prepared.xero_contact["ContactPersons"]) == 5
    assert prepared.warnings == []


# --- Rules that only show with other maps ---------------------------------------------------


def extended_map(tmp_path: Path, map_text: str, extra: str) -> FieldMap:
    """The shipped map with more Xero fields appended to `xero_contact`."""
    path = tmp_path / "extended.yaml"
    path.write_text(map_text + extra, encoding="utf-8")
    return load_field_map(str(path))


def test_value_outside_a_xero_enum_is_rejected(tmp_path: Path, map_text: str) -> None:
    fm = extended_map(tmp_path, map_text, "  SalesDefaultLineAmountType: account.Tax_Mode\n")
    ok = prepare_contact(zoho_account(12) | {"Tax_Mode": "INCLUSIVE"}, [], fm)
    assert ok.xero_contact["SalesDefaultLineAmountType"] == "INCLUSIVE"
    message = rejection(zoho_account(12) | {"Tax_Mode": "GROSS"}, [], fm)
    assert (
        message
        == "Tax Mode must be one of INCLUSIVE, EXCLUSIVE, NONE (it is 'GROSS'). Correct it in Zoho CRM."
    )


def test_account_level_email_names_the_field(tmp_path: Path, map_text: str) -> None:
    text = map_text.replace(
        "  EmailAddress: {from: primary.Email, direction: both}\n", "  EmailAddress: account.Accounts_Email\n"
    )
    fm = extended_map(tmp_path, text, "")
    message = rejection(zoho_account(12) | {"Accounts_Email": "billing@"}, [], fm)
    assert message == (
        "Accounts Email on this Account is an e-mail address Xero will not accept (billing@). "
        "Correct it in Zoho."
    )


def test_required_top_level_field(tmp_path: Path, map_text: str) -> None:
    text = map_text.replace(
        "  AccountNumber: {from: account.Account_Number, direction: both}\n",
        "  AccountNumber: {from: account.Account_Number, required: true}\n",
    )
    fm = extended_map(tmp_path, text, "")
    assert prepare_contact(zoho_account(12), [], fm).xero_contact["AccountNumber"] == "ACC-0012"
    assert rejection(zoho_account(12) | {"Account_Number": None}, [], fm) == (
        "Account Number is empty. Fill it in on the Account in Zoho CRM."
    )
