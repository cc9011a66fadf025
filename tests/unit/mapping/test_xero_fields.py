"""Our table of Xero's Contact rules agrees with Xero's official OpenAPI spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from chalicelib.mapping.xero_fields import (
    ADDRESS_FIELDS,
    BILL_FIELDS,
    CONTACT_FIELDS,
    CONTACT_PERSON_FIELDS,
    PHONE_FIELDS,
    XeroField,
)
from tests.unit.mapping.helpers import xero_contact_errors, xero_spec

TABLES: dict[str, Mapping[str, XeroField]] = {
    "Contact": CONTACT_FIELDS,
    "Address": ADDRESS_FIELDS,
    "Phone": PHONE_FIELDS,
    "ContactPerson": CONTACT_PERSON_FIELDS,
    "Bill": BILL_FIELDS,
    "PaymentTerm": CONTACT_FIELDS["PaymentTerms"].fields,
}


def schemas() -> dict[str, Any]:
    return xero_spec()["components"]["schemas"]


def resolve(prop: dict[str, Any]) -> dict[str, Any]:
    """A property with its `$ref` followed (type, enum) and its own keys kept (readOnly)."""
    ref = prop.get("$ref")
    if not ref:
        return prop
    target = schemas()[ref.rsplit("/", 1)[-1]]
    return {"type": target.get("type", "object"), **target, **{k: v for k, v in prop.items() if k != "$ref"}}


CASES = [(schema, name) for schema, table in TABLES.items() for name in table]


@pytest.mark.parametrize(("schema", "name"), CASES, ids=[f"{s}.{n}" for s, n in CASES])
def test_field_matches_spec(schema: str, name: str) -> None:
    ours = TABLES[schema][name]
    theirs = resolve(schemas()[schema]["properties"][name])
    assert ours.kind == theirs.get("type", "object")
    assert ours.max_length == theirs.get("maxLength")
    # IsCustomer/IsSupplier lack `readOnly` in the spec, but their descriptions say they
    # "Cannot be set via PUT or POST"; the table follows the description.
    documented = "Cannot be set via PUT or POST" in theirs.get("description", "")
    assert ours.read_only == (bool(theirs.get("readOnly")) or documented)
    if ours.enum or name != "DefaultCurrency":  # our table leaves the currency list to Xero
        assert list(ours.enum) == list(theirs.get("enum", []))


@pytest.mark.parametrize("schema", sorted(TABLES))
def test_no_length_limit_is_missed(schema: str) -> None:
    limited = {name for name, prop in schemas()[schema]["properties"].items() if "maxLength" in prop}
    assert limited <= set(TABLES[schema])


def test_website_and_discount_are_read_only_in_the_spec() -> None:
    props = schemas()["Contact"]["properties"]
    assert props["Website"]["readOnly"] is True
    assert props["Discount"]["readOnly"] is True


# The schema check used throughout these tests must be able to fail.
@pytest.mark.parametrize(
    "body",
    [
        {"Name": "x" * 256},
        {"Name": "A", "Website": "https://a.example"},
        {"Name": "A", "Discount": 5.0},
        {"Name": "A", "Phones": [{"PhoneType": "PAGER", "PhoneNumber": "1"}]},
        {"Name": "A", "PaymentTerms": {"Sales": {"Day": "14", "Type": "OFFOLLOWINGMONTH"}}},
        {"Name": "A", "EmailAdress": "a@b.example"},
        {"Name": "A", "ContactPersons": [{"FirstName": "B", "IncludeInEmails": "yes"}]},
    ],
)
def test_schema_check_catches_bad_bodies(body: dict[str, Any]) -> None:
    assert xero_contact_errors(body) != []
