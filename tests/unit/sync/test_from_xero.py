"""Xero → Zoho CRM decisions (services/sync/from_xero.py) and the field directions they read
(mapping/directions.py), on their own: no Zoho, no Xero, no table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.mapping import load_field_map
from chalicelib.mapping.directions import fields_to_zoho, mapped_fields, xero_side, zoho_side
from chalicelib.services.sync.from_xero import (
    InboundVerdict,
    account_key,
    decide_linked,
    decide_unlinked,
    is_known_version,
    namesake_to_adopt,
    next_snapshot,
    updated_at,
)
from chalicelib.store.snapshots import LinkSnapshot

FIELD_MAP = load_field_map()
FIELDS = fields_to_zoho(FIELD_MAP)
CONTACT_ID = "8b3c1f0e-1d2a-4c5b-9a7e-0f1e2d3c4b5a"
ACCOUNT_ID = "5725767000000400001"
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def xero_contact(updated_ms: int = 1_772_000_000_000, **changes: Any) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "ContactID": CONTACT_ID,
        "ContactNumber": ACCOUNT_ID,
        "Name": "Acme Widgets Pty Ltd",
        "AccountNumber": "ACC-0001",
        "FirstName": "Jane",
        "LastName": "Citizen",
        "EmailAddress": "jane@acme.example",
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "02 9000 0001"},
            {"PhoneType": "MOBILE", "PhoneNumber": "0400 000 001"},
        ],
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Harbour St", "City": "Sydney"}],
        "UpdatedDateUTC": f"/Date({updated_ms}+0000)/",
    }
    contact.update(changes)
    return contact


def zoho_records(contact: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Account and primary Contact showing exactly what the Xero contact holds."""
    account, primary = {"id": ACCOUNT_ID}, {"id": "5725767000000500001"}
    for field in FIELDS:
        target = account if field.source.scope == "account" else primary
        target[field.source.field] = xero_side(contact, [field])[field.key] or None
    return account, primary


def synced(contact: dict[str, Any]) -> LinkSnapshot:
    account, primary = zoho_records(contact)
    return next_snapshot(
        None,
        ACCOUNT_ID,
        "tenant",
        contact,
        FIELDS,
        zoho_values=zoho_side(account, primary, FIELDS),
        primary_contact_id=str(primary["id"]),
        at=AT,
    )


def test_the_default_map_flows_the_issues_fields_both_ways_and_the_rest_to_xero() -> None:
    directions = {f.key: f.direction for f in mapped_fields(FIELD_MAP)}
    both = {k for k, d in directions.items() if d == "both"}
    assert both == {
        "Name",
        "AccountNumber",
        "FirstName",
        "LastName",
        "EmailAddress",
        "Phones[PhoneType=DEFAULT].PhoneNumber",
        *(
            f"Addresses[AddressType=POBOX].{part}"
            for part in ("AddressLine1", "City", "Region", "PostalCode", "Country")
        ),
    }
    assert directions["ContactNumber"] == "to_xero"
    assert directions["Phones[PhoneType=MOBILE].PhoneNumber"] == "to_xero"
    assert {f.source.field for f in FIELDS if f.key.startswith("Addresses")} == {
        "Billing_Street",
        "Billing_City",
        "Billing_State",
        "Billing_Code",
        "Billing_Country",
    }


def test_a_changed_phone_is_the_only_write() -> None:
    before = xero_contact()
    account, primary = zoho_records(before)
    after = xero_contact(
        updated_ms=1_772_000_001_000, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "02 9000 0002"}]
    )
    decision = decide_linked(after, account, primary, synced(before), FIELDS)
    assert decision.verdict is InboundVerdict.UPDATE
    assert (decision.account_fields, decision.contact_fields) == ({"Phone": "02 9000 0002"}, {})


def test_a_new_email_goes_to_the_primary_contact() -> None:
    before = xero_contact()
    account, primary = zoho_records(before)
    after = xero_contact(updated_ms=1_772_000_001_000, EmailAddress="jane@new.example")
    decision = decide_linked(after, account, primary, synced(before), FIELDS)
    assert (decision.account_fields, decision.contact_fields) == ({}, {"Email": "jane@new.example"})


def test_our_own_write_coming_back_writes_nothing() -> None:
    contact = xero_contact()
    account, primary = zoho_records(contact)
    echo = xero_contact(updated_ms=1_772_000_005_000, ContactNumber=ACCOUNT_ID)  # same values, later
    assert decide_linked(echo, account, primary, synced(contact), FIELDS).verdict is InboundVerdict.ECHO


def test_an_older_read_never_overwrites_a_newer_sync() -> None:
    newer = xero_contact(updated_ms=1_772_000_009_000, Name="Acme Widgets (NZ) Ltd")
    account, primary = zoho_records(newer)
    older = xero_contact(updated_ms=1_772_000_001_000)
    assert decide_linked(older, account, primary, synced(newer), FIELDS).verdict is InboundVerdict.STALE


def test_a_change_made_in_zoho_since_is_not_overwritten_by_an_unchanged_xero_value() -> None:
    contact = xero_contact()
    account, primary = zoho_records(contact)
    account["Account_Number"] = "ACC-9999"  # edited in Zoho, not yet synced to Xero
    later = xero_contact(updated_ms=1_772_000_002_000, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "1"}])
    decision = decide_linked(later, account, primary, synced(contact), FIELDS)
    assert decision.account_fields == {"Phone": "1"}


def test_without_a_snapshot_zoho_is_brought_to_xeros_values() -> None:
    contact = xero_contact()
    account, primary = zoho_records(contact)
    account["Phone"] = "old"
    decision = decide_linked(contact, account, primary, None, FIELDS)
    assert decision.account_fields == {"Phone": "02 9000 0001"}


def test_an_unlinked_contact_becomes_an_account_ticked_for_xero_with_its_person() -> None:
    contact = xero_contact(ContactNumber=None)
    decision = decide_unlinked(contact, FIELD_MAP, FIELDS, creates_accounts=True)
    assert decision.verdict is InboundVerdict.CREATE
    assert decision.account_fields["Account_Name"] == "Acme Widgets Pty Ltd"
    assert decision.account_fields["Add_to_Xero"] is True
    assert decision.account_fields["Xero_ID"] == CONTACT_ID
    assert decision.account_fields["Billing_City"] == "Sydney"
    assert "Billing_State" not in decision.account_fields  # empty values are left out of a create
    assert decision.contact_fields == {
        "First_Name": "Jane",
        "Last_Name": "Citizen",
        "Email": "jane@acme.example",
        "Primary_Contact": True,
    }


def test_a_contact_without_a_person_makes_no_primary_contact() -> None:
    contact = xero_contact(ContactNumber=None, FirstName=None, LastName="", EmailAddress=None)
    assert decide_unlinked(contact, FIELD_MAP, FIELDS, creates_accounts=True).contact_fields == {}


@pytest.mark.parametrize(
    ("changes", "creates", "reason"),
    [
        ({}, False, "XERO_CREATES_ACCOUNTS is false"),
        ({"ContactStatus": "ARCHIVED"}, True, "the contact is archived"),
    ],
)
def test_no_account_for_archived_contacts_or_when_creation_is_off(
    changes: dict[str, Any], creates: bool, reason: str
) -> None:
    decision = decide_unlinked(
        xero_contact(ContactNumber=None, **changes), FIELD_MAP, FIELDS, creates_accounts=creates
    )
    assert (decision.verdict, decision.reason) == (InboundVerdict.SKIP, reason)


@pytest.mark.parametrize(
    ("number", "key"), [(ACCOUNT_ID, ACCOUNT_ID), ("CUST-0042", None), (None, None), (" ", None)]
)
def test_only_a_zoho_record_id_in_the_contact_code_names_an_account(number: Any, key: str | None) -> None:
    assert account_key({"ContactNumber": number}) == key


def test_xeros_dates_compare_in_time_order() -> None:
    assert updated_at({"UpdatedDateUTC": "/Date(1573755038314+0000)/"}) == "2019-11-14T18:10:38.314+00:00"
    assert updated_at({"UpdatedDateUTC": "2019-11-14T18:10:38.314"}) == "2019-11-14T18:10:38.314+00:00"
    assert updated_at({}) is None


@given(
    st.dictionaries(st.sampled_from([f.key for f in FIELDS]), st.text(alphabet="ab ", max_size=3), max_size=6)
)
def test_after_applying_a_decision_zoho_shows_xeros_values(edits: dict[str, str]) -> None:
    """Whatever Xero changed, applying the writes leaves Zoho equal to Xero on every field
    flowing into Zoho, and deciding again writes nothing (no ping-pong)."""
    before = xero_contact()
    account, primary = zoho_records(before)
    after = xero_contact(updated_ms=1_772_000_001_000)
    after = _apply_edits(after, edits)
    decision = decide_linked(after, account, primary, synced(before), FIELDS)
    account.update(decision.account_fields)
    primary.update(decision.contact_fields)
    assert zoho_side(account, primary, FIELDS) == xero_side(after, FIELDS)
    again = decide_linked(after, account, primary, synced(after), FIELDS)
    assert again.verdict is InboundVerdict.ECHO


def _apply_edits(contact: dict[str, Any], edits: dict[str, str]) -> dict[str, Any]:
    """Set values by their keys (Name, Phones[PhoneType=DEFAULT].PhoneNumber, …)."""
    import copy

    result = copy.deepcopy(contact)
    for key, value in edits.items():
        if "[" not in key:
            result[key] = value
            continue
        head, rest = key.split("[", 1)
        selector, field = rest.split("].", 1)
        name, wanted = selector.split("=")
        items = result.setdefault(head, [])
        item = next((i for i in items if i.get(name) == wanted), None)
        if item is None:
            item = {name: wanted}
            items.append(item)
        item[field] = value
    return result


def test_a_first_link_never_clears_what_zoho_has_for_a_value_xero_lacks() -> None:
    """Without a snapshot an empty Xero value is no evidence that anyone cleared it."""
    contact = xero_contact(LastName=None, AccountNumber="NEW-1")
    account, primary = zoho_records(xero_contact())
    decision = decide_linked(contact, account, primary, None, FIELDS)
    assert (decision.account_fields, decision.contact_fields) == ({"Account_Number": "NEW-1"}, {})


def test_a_cleared_value_after_a_sync_does_flow() -> None:
    before = xero_contact()
    account, primary = zoho_records(before)
    after = xero_contact(updated_ms=1_772_000_001_000, AccountNumber="")
    decision = decide_linked(after, account, primary, synced(before), FIELDS)
    assert decision.account_fields == {"Account_Number": None}


@pytest.mark.parametrize(
    ("namesakes", "adopted", "creates"),
    [
        ([], None, True),
        ([{"id": "1", "Xero_ID": None}], "1", False),
        ([{"id": "1", "Xero_ID": "another-contact"}], None, False),
        ([{"id": "1", "Xero_ID": None}, {"id": "2", "Xero_ID": None}], None, False),
    ],
)
def test_an_unlinked_contact_links_its_one_unlinked_namesake_and_never_makes_a_duplicate(
    namesakes: list[dict[str, Any]], adopted: str | None, creates: bool
) -> None:
    account_id, reason = namesake_to_adopt(xero_contact(ContactNumber=None), namesakes, "Xero_ID")
    assert account_id == adopted
    assert (account_id is None and not reason) is creates
    if reason:  # says what to fix, for the case at hand
        assert "'Acme Widgets Pty Ltd'" in reason
        assert ("Merge or rename those Accounts" in reason) is (len(namesakes) > 1)
        assert ("merge the two contacts in Xero" in reason) is (len(namesakes) == 1)


def test_a_version_we_already_synced_is_known_without_reading_zoho() -> None:
    contact = xero_contact()
    snapshot = synced(contact)
    assert is_known_version(contact, snapshot, FIELDS)
    assert not is_known_version(
        xero_contact(updated_ms=1_772_000_001_000, AccountNumber="X"), snapshot, FIELDS
    )
    assert not is_known_version(xero_contact(ContactID="another"), snapshot, FIELDS)
    assert not is_known_version(contact, None, FIELDS)
