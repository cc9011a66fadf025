"""The preview: what the next sync would change in Xero, field by field, with nothing written.

Real field map and mapping rules; Zoho, Xero and the state table are in-memory fakes
that answer like the clients do.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.deadline import Deadline
from chalicelib.mapping import FieldMap, load_field_map, prepare_contact
from chalicelib.mapping.loader import REPO_MAP
from chalicelib.models.sync import AccountState, SyncStatus
from chalicelib.services.preview import PreviewOutcome, PreviewService, flatten
from tests.fakes import FakeXeroContacts as FakeXero
from tests.unit.mapping.helpers import zoho_account, zoho_contacts

TENANT = "tenant-1"
ACME = zoho_account(1)["id"]


class FakeZoho:
    def __init__(self, *numbers: int) -> None:
        self.accounts = {zoho_account(n)["id"]: zoho_account(n) for n in numbers}
        self.contacts = {zoho_account(n)["id"]: zoho_contacts(n) for n in numbers}

    def get_record(self, module: str, record_id: str, fields: list[str], deadline: Deadline) -> dict | None:
        return copy.deepcopy(self.accounts.get(record_id))

    def get_related_contacts(self, account_id: str, fields: list[str], deadline: Deadline) -> list[dict]:
        return copy.deepcopy(self.contacts.get(account_id, []))


class FakeStates:
    def __init__(self, *states: AccountState) -> None:
        self.states = {s.account_id: s for s in states}

    def get(self, account_id: str) -> AccountState | None:
        return self.states.get(account_id)

    def find_account_by_xero_contact(self, tenant_id: str, contact_id: str) -> str | None:
        return next((s.account_id for s in self.states.values() if s.xero_contact_id == contact_id), None)


@pytest.fixture
def field_map() -> FieldMap:
    return load_field_map(str(REPO_MAP))


def xero_copy_of(field_map: FieldMap, n: int, **changes: Any) -> dict[str, Any]:
    """The Xero contact as a previous sync left it (in Xero's answer shape: every phone type listed)."""
    body = copy.deepcopy(prepare_contact(zoho_account(n), zoho_contacts(n), field_map).xero_contact)
    body.update({"ContactID": f"c0ffee00-0000-4000-8000-00000000000{n}", "ContactStatus": "ACTIVE"})
    phones = {p["PhoneType"]: p for p in body.get("Phones", [])}
    body["Phones"] = [
        phones.get(t, {"PhoneType": t, "PhoneNumber": ""}) for t in ("DDI", "DEFAULT", "FAX", "MOBILE")
    ]
    body.update(changes)
    return body


def service(field_map: FieldMap, zoho: FakeZoho, xero: FakeXero, states: FakeStates) -> PreviewService:
    return PreviewService(zoho, xero, states, lambda: field_map)


def preview_unchanged_since_synced_to(field_map: FieldMap, contact: dict[str, Any]) -> Any:
    """The preview of Acme, unchanged in Zoho since it was synced to `contact` as it is now in Xero."""
    prepared = prepare_contact(zoho_account(1), zoho_contacts(1), field_map)
    state = AccountState(
        ACME,
        xero_contact_id=contact["ContactID"],
        tenant_id=TENANT,
        status=SyncStatus.SYNCED,
        content_hash=prepared.content_hash,
    )
    return service(field_map, FakeZoho(1), FakeXero(contact), FakeStates(state)).preview(ACME, Deadline(5))


def test_an_account_never_synced_would_create_a_contact_with_every_mapped_value(field_map: FieldMap) -> None:
    preview = service(field_map, FakeZoho(1), FakeXero(), FakeStates()).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.CREATE
    assert preview.account_name == "Acme Widgets Pty Ltd"
    rows = {c.field: (c.old, c.new) for c in preview.changes}
    assert rows["Name"] == (None, "Acme Widgets Pty Ltd")
    assert rows["ContactNumber"] == (None, ACME)
    assert rows["Phones (MOBILE) › PhoneNumber"] == (None, "+61 400 000 001")
    assert rows["PaymentTerms › Sales › Type"] == (None, "OFFOLLOWINGMONTH")


def test_a_changed_phone_and_city_show_old_and_new_and_nothing_else_changes(field_map: FieldMap) -> None:
    linked = xero_copy_of(field_map, 1)
    zoho = FakeZoho(1)
    zoho.accounts[ACME].update({"Phone": "+61 2 9000 9999", "Billing_City": "Parramatta"})
    state = AccountState(
        ACME, xero_contact_id=linked["ContactID"], tenant_id=TENANT, status=SyncStatus.SYNCED
    )
    preview = service(field_map, zoho, FakeXero(linked), FakeStates(state)).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.UPDATE
    assert [(c.field, c.old, c.new) for c in preview.changes] == [
        ("Phones (DEFAULT) › PhoneNumber", "+61 2 9000 1000", "+61 2 9000 9999"),
        ("Addresses (POBOX) › City", "Sydney", "Parramatta"),
    ]
    assert preview.message == "The next sync would change 2 fields in Xero."
    assert "Name" in [c.field for c in preview.same]


def test_unchanged_zoho_data_means_no_xero_call_even_when_xero_was_edited(field_map: FieldMap) -> None:
    edited_in_xero = xero_copy_of(field_map, 1, EmailAddress="someone.else@acme.example")
    preview = preview_unchanged_since_synced_to(field_map, edited_in_xero)
    assert preview.outcome is PreviewOutcome.UNCHANGED
    assert preview.skipped_by_hash
    assert "would not call Xero" in preview.message
    assert [(c.field, c.old, c.new) for c in preview.changes] == [
        ("EmailAddress", "someone.else@acme.example", "alice@acme.example")
    ]


def test_a_contact_already_matching_changes_nothing(field_map: FieldMap) -> None:
    linked = xero_copy_of(field_map, 1)
    state = AccountState(
        ACME, xero_contact_id=linked["ContactID"], tenant_id=TENANT, status=SyncStatus.FAILED
    )
    preview = service(field_map, FakeZoho(1), FakeXero(linked), FakeStates(state)).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.UNCHANGED
    assert preview.changes == []
    assert "change nothing" in preview.message


def test_found_by_contact_code_when_we_hold_no_link(field_map: FieldMap) -> None:
    by_number = xero_copy_of(field_map, 1, AccountNumber="OLD-1")
    preview = service(field_map, FakeZoho(1), FakeXero(by_number), FakeStates()).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.UPDATE
    assert preview.xero_contact_id == by_number["ContactID"]
    assert [(c.field, c.old, c.new) for c in preview.changes] == [("AccountNumber", "OLD-1", "ACC-0001")]


def test_a_same_name_contact_without_a_code_would_be_adopted(field_map: FieldMap) -> None:
    same_name = xero_copy_of(field_map, 1, ContactNumber=None, Phones=[])
    preview = service(field_map, FakeZoho(1), FakeXero(same_name), FakeStates()).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.ADOPT
    assert "take it over" in preview.message
    assert ("ContactNumber", None, ACME) in [(c.field, c.old, c.new) for c in preview.changes]


def test_a_same_name_contact_owned_by_something_else_is_a_conflict(field_map: FieldMap) -> None:
    taken = xero_copy_of(field_map, 1, ContactNumber="SOMEONE-ELSE")
    preview = service(field_map, FakeZoho(1), FakeXero(taken), FakeStates()).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.REJECTED
    assert "SOMEONE-ELSE" in preview.message


def test_data_that_must_be_fixed_in_zoho_shows_the_rejection_message(field_map: FieldMap) -> None:
    unticked = zoho_account(4)["id"]
    preview = service(field_map, FakeZoho(4), FakeXero(), FakeStates()).preview(unticked, Deadline(5))
    assert preview.outcome is PreviewOutcome.REJECTED
    assert "Add to Xero" in preview.message
    assert preview.account_name == "Coastal Surf Supplies"


@pytest.mark.parametrize(
    ("status", "words"), [("ARCHIVED", "archived"), ("GDPRREQUEST", "data-erasure request")]
)
def test_an_archived_or_erased_xero_contact_stops_the_preview_as_it_stops_the_sync(
    field_map: FieldMap, status: str, words: str
) -> None:
    stopped = xero_copy_of(field_map, 1, ContactStatus=status)
    preview = service(field_map, FakeZoho(1), FakeXero(stopped), FakeStates()).preview(ACME, Deadline(5))
    assert preview.outcome is PreviewOutcome.REJECTED
    assert words in preview.message


def test_unchanged_in_zoho_previews_unchanged_even_if_archived_in_xero_since(field_map: FieldMap) -> None:
    # The sync does not call Xero for an unchanged Account, so it would not stop either.
    archived = xero_copy_of(field_map, 1, ContactStatus="ARCHIVED")
    preview = preview_unchanged_since_synced_to(field_map, archived)
    assert preview.outcome is PreviewOutcome.UNCHANGED
    assert preview.skipped_by_hash


def test_an_unknown_account_says_so(field_map: FieldMap) -> None:
    preview = service(field_map, FakeZoho(), FakeXero(), FakeStates()).preview("123", Deadline(5))
    assert preview.outcome is PreviewOutcome.REJECTED
    assert "not found" in preview.message


def test_people_beyond_the_new_list_are_shown_as_removed(field_map: FieldMap) -> None:
    bakery = zoho_account(2)["id"]  # two other contacts become two ContactPersons
    linked = xero_copy_of(field_map, 2)
    extra = [
        {"FirstName": "Old", "LastName": f"Person {n}", "EmailAddress": f"old{n}@x.example"} for n in range(2)
    ]
    linked["ContactPersons"] = [*linked["ContactPersons"], *extra]
    state = AccountState(
        bakery, xero_contact_id=linked["ContactID"], tenant_id=TENANT, status=SyncStatus.SYNCED
    )
    preview = service(field_map, FakeZoho(2), FakeXero(linked), FakeStates(state)).preview(
        bakery, Deadline(5)
    )
    assert [(c.field, c.old, c.new) for c in preview.changes] == [
        ("ContactPersons 3", "Old Person 0", None),
        ("ContactPersons 4", "Old Person 1", None),
    ]


def test_flatten_names_list_items_by_type_and_drops_empty_values() -> None:
    flat = flatten(
        {
            "Name": "A",
            "IsSupplier": False,
            "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "1"}, {"PhoneType": "FAX", "PhoneNumber": ""}],
            "ContactPersons": [{"FirstName": "B", "IncludeInEmails": True}],
            "PaymentTerms": {"Sales": {"Day": 20}},
        }
    )
    assert flat == {
        "Name": "A",
        "IsSupplier": "No",
        "Phones (MOBILE) › PhoneNumber": "1",
        "ContactPersons 1 › FirstName": "B",
        "ContactPersons 1 › IncludeInEmails": "Yes",
        "PaymentTerms › Sales › Day": "20",
    }
