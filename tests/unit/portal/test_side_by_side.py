"""The Account page's side-by-side view: per mapped field, Zoho, Xero, the last synced values
and what the next sync writes each way, decided by the same merge as Both Way (no copy)."""

from __future__ import annotations

from typing import Any

from chalicelib.mapping import load_field_map
from chalicelib.services.side_by_side import FieldRow, side_by_side
from chalicelib.services.sync.merge import Base

ACCOUNT = {
    "id": "1",
    "Account_Name": "Acme",
    "Account_Number": "ZOHO-1",
    "Phone": "02 9000 1000",
    "Fax": "02 9000 1001",
    "Billing_City": "Hobart",
    "Modified_Time": "2026-03-01T10:00:05+00:00",
}
PRIMARY = {"id": "9", "First_Name": "Ann", "Last_Name": "Lee", "Email": "ann@acme.example"}
CONTACT = {
    "ContactID": "c1",
    "Name": "Acme",
    "AccountNumber": "XERO-1",
    "FirstName": "Ann",
    "LastName": "Lee",
    "EmailAddress": "ap@acme.example",
    "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "02 9000 1000"}],
    "Addresses": [{"AddressType": "POBOX", "City": "Sydney"}],
    "UpdatedDateUTC": "2026-03-01T10:00:09",
}
BASE = {
    "Name": "Acme",
    "AccountNumber": "OLD-1",
    "FirstName": "Ann",
    "LastName": "Lee",
    "EmailAddress": "ann@acme.example",
    "Phones[PhoneType=DEFAULT].PhoneNumber": "02 9000 1000",
    "Addresses[AddressType=POBOX].City": "Hobart",
}


def rows(policy: str, base: dict[str, str] | None = BASE) -> dict[str, FieldRow]:
    view = side_by_side(load_field_map(None), ACCOUNT, PRIMARY, CONTACT, Base(base or {}, base or {}), policy)
    return {r.label: r for r in view.rows}


def label(fragment: str, found: dict[str, Any]) -> str:
    [name] = [n for n in found if fragment.lower() in n.lower()]
    return name


def test_each_side_its_base_and_what_flows_where() -> None:
    found = rows("hold")
    email = found[label("email", found)]
    assert (email.zoho, email.xero, email.base) == ("ann@acme.example", "ap@acme.example", "ann@acme.example")
    assert (email.to_zoho, email.to_xero) == ("ap@acme.example", None)  # changed in Xero only
    city = found[label("billing city", found)] if any("billing" in n.lower() for n in found) else None
    assert city is not None and (city.to_xero, city.to_zoho) == (None, "Sydney")
    fax = found[label("fax", found)]
    assert (fax.direction, fax.to_xero, fax.to_zoho, fax.base) == (
        "Zoho CRM → Xero",
        "02 9000 1001",
        None,
        None,
    )


def test_a_field_changed_on_both_sides_says_how_the_policy_settles_it() -> None:
    number = label("account number", rows("hold"))
    held = rows("hold")[number]
    assert (held.to_xero, held.to_zoho, held.conflict) == (
        None,
        None,
        "changed in both: held for a person to choose",
    )
    assert rows("zoho_wins")[number].to_xero == "ZOHO-1"
    assert rows("xero_wins")[number].to_zoho == "XERO-1"
    assert rows("newest_wins")[number].to_zoho == "XERO-1"  # Xero's contact changed last


def test_a_settled_pair_writes_nothing_and_a_cleared_field_shows_as_cleared() -> None:
    settled = {**ACCOUNT, "Account_Number": "XERO-1", "Billing_City": "Sydney", "Fax": None}
    contact = {**CONTACT, "EmailAddress": "ann@acme.example"}
    base = {**BASE, "AccountNumber": "XERO-1", "Addresses[AddressType=POBOX].City": "Sydney"}
    view = side_by_side(load_field_map(None), settled, PRIMARY, contact, Base(base, base), "hold")
    assert view.writes == 0 and view.has_base
    contact_with_fax = {**contact, "Phones": [*contact["Phones"], {"PhoneType": "FAX", "PhoneNumber": "1"}]}
    view = side_by_side(load_field_map(None), settled, PRIMARY, contact_with_fax, Base(base, base), "hold")
    [fax] = [r for r in view.rows if r.to_xero is not None]
    assert fax.to_xero == "" and view.writes == 1  # emptied in Zoho: the next sync clears it in Xero


def test_a_field_only_going_to_xero_is_compared_as_a_push_would_send_it() -> None:
    """Zoho's picklist "day(s) after invoice date" is Xero's DAYSAFTERBILLDATE: the same value,
    so the page promises no write (the Next sync preview says the same)."""
    from chalicelib.mapping import prepare_contact

    terms = {"Invoices_Due_Date_Day": 14, "Invoices_Due_Date_Frequency": "day(s) after invoice date"}
    account = {**ACCOUNT, **terms, "Add_to_Xero": True}
    contact = {**CONTACT, "PaymentTerms": {"Sales": {"Day": 14, "Type": "DAYSAFTERBILLDATE"}}}
    field_map = load_field_map(None)
    pushed = prepare_contact(account, [{**PRIMARY, "Account_Name": {"id": "1"}}], field_map).xero_contact
    view = side_by_side(field_map, account, PRIMARY, contact, Base(BASE, BASE), "hold", pushed)
    found = {r.label: r for r in view.rows}
    frequency = found[label("frequency", found)]
    assert (frequency.zoho, frequency.xero) == ("day(s) after invoice date", "DAYSAFTERBILLDATE")
    assert frequency.to_xero is None
    unmapped = side_by_side(field_map, account, PRIMARY, contact, Base(BASE, BASE), "hold")
    assert {r.label: r for r in unmapped.rows}[frequency.label].to_xero == "day(s) after invoice date"
