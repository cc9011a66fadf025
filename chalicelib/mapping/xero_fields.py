"""What Xero accepts in a Contact: field names, kinds, length limits, enums, read-only fields.

These are Xero's rules, not the user's, so they live in code and the YAML map can only
choose where each value comes from. The table is copied from
`components.schemas.Contact/Address/Phone/ContactPerson/PaymentTerm/Bill` in Xero's
OpenAPI spec (XeroAPI/Xero-OpenAPI 16.1.0); `tests/unit/mapping/test_xero_fields.py`
compares it with the spec, so a spec update that changes a limit fails the tests.

Only fields a mapping may sensibly set are listed. `ContactID` is missing on purpose:
the caller adds it. Read-only fields are listed so the loader can explain why they
cannot be mapped instead of calling them unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["string", "number", "integer", "boolean", "object", "array"]
SCALAR_KINDS: tuple[Kind, ...] = ("string", "number", "integer", "boolean")

# Xero's Contacts page: "a maximum of 5 contact persons" besides the primary person.
MAX_CONTACT_PERSONS = 5


@dataclass(frozen=True)
class XeroField:
    kind: Kind
    max_length: int | None = None
    enum: tuple[str, ...] = ()
    read_only: bool = False
    # Xero rejects the whole contact when an e-mail address is malformed.
    email: bool = False
    # Members of an object, or of each item of an array.
    fields: Mapping[str, XeroField] = field(default_factory=dict)
    max_items: int | None = None


def _text(max_length: int | None = None, *, email: bool = False) -> XeroField:
    return XeroField("string", max_length=max_length, email=email)


def _choice(*values: str) -> XeroField:
    return XeroField("string", enum=values)


ADDRESS_FIELDS: Mapping[str, XeroField] = {
    "AddressType": _choice("POBOX", "STREET"),
    "AddressLine1": _text(500),
    "AddressLine2": _text(500),
    "AddressLine3": _text(500),
    "AddressLine4": _text(500),
    "City": _text(255),
    "Region": _text(255),
    "PostalCode": _text(50),
    "Country": _text(50),
    "AttentionTo": _text(255),
}

PHONE_FIELDS: Mapping[str, XeroField] = {
    "PhoneType": _choice("DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE"),
    "PhoneNumber": _text(50),
    "PhoneAreaCode": _text(10),
    "PhoneCountryCode": _text(20),
}

# The spec gives contact persons no length limits.
CONTACT_PERSON_FIELDS: Mapping[str, XeroField] = {
    "FirstName": _text(),
    "LastName": _text(),
    "EmailAddress": _text(email=True),
    "IncludeInEmails": XeroField("boolean"),
}

PAYMENT_TERM_TYPES = ("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH")

BILL_FIELDS: Mapping[str, XeroField] = {
    "Day": XeroField("integer"),
    "Type": _choice(*PAYMENT_TERM_TYPES),
}

CONTACT_FIELDS: Mapping[str, XeroField] = {
    "ContactNumber": _text(50),
    "AccountNumber": _text(50),
    "ContactStatus": _choice("ACTIVE", "ARCHIVED", "GDPRREQUEST"),
    "Name": _text(255),
    "FirstName": _text(255),
    "LastName": _text(255),
    "CompanyNumber": _text(50),
    "EmailAddress": _text(255, email=True),
    "ContactPersons": XeroField("array", fields=CONTACT_PERSON_FIELDS, max_items=MAX_CONTACT_PERSONS),
    "BankAccountDetails": _text(),
    "TaxNumber": _text(50),
    "TaxNumberType": _choice("SSN", "EIN", "ITIN", "ATIN"),
    "AccountsReceivableTaxType": _text(),
    "AccountsPayableTaxType": _text(),
    "Addresses": XeroField("array", fields=ADDRESS_FIELDS),
    "Phones": XeroField("array", fields=PHONE_FIELDS),
    "SalesDefaultLineAmountType": _choice("INCLUSIVE", "EXCLUSIVE", "NONE"),
    "PurchasesDefaultLineAmountType": _choice("INCLUSIVE", "EXCLUSIVE", "NONE"),
    # An ISO 4217 code; the spec's 168-value enum is left to Xero, which also
    # requires the currency to be enabled in the organisation.
    "DefaultCurrency": _text(),
    "SalesDefaultAccountCode": _text(),
    "PurchasesDefaultAccountCode": _text(),
    "PaymentTerms": XeroField(
        "object",
        fields={
            "Bills": XeroField("object", fields=BILL_FIELDS),
            "Sales": XeroField("object", fields=BILL_FIELDS),
        },
    ),
    # Read-only in Xero's API: sending them does nothing (or, for Website, can make
    # every later update fail), so the loader refuses to map them.
    "Website": XeroField("string", read_only=True),
    "Discount": XeroField("number", read_only=True),
    "IsSupplier": XeroField("boolean", read_only=True),
    "IsCustomer": XeroField("boolean", read_only=True),
}

# Addresses Xero takes: ASCII only ("umlauts not supported"), one @, a dotted domain.
# Deliberately stricter than RFC 5322: anything Xero might refuse is caught here,
# where the message can say which Zoho record to fix.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
_TLD = re.compile(r"^[A-Za-z]{2,}$")


def is_valid_email(address: str) -> bool:
    """True when Xero can be expected to accept `address` as an e-mail address."""
    if not address.isascii() or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    labels = domain.split(".")
    return (
        0 < len(local) <= 64
        and bool(_LOCAL.match(local))
        and len(labels) >= 2
        and all(len(label) <= 63 and _LABEL.match(label) for label in labels)
        and bool(_TLD.match(labels[-1]))
    )


def xero_length(text: str) -> int:
    """Length as Xero counts it.

    Xero runs on .NET, whose strings count UTF-16 code units: an emoji counts as 2.
    Measuring the same way guarantees that what passes here also passes there.
    """
    return len(text.encode("utf-16-le")) // 2
