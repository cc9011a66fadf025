"""The parsed field map: which Zoho fields feed which Xero Contact fields.

A `FieldMap` is built by `chalicelib.mapping.parser.parse_field_map` (from a dict) or
`chalicelib.mapping.loader.load_field_map` (from the YAML file); see the loader's
docstring for the attributes callers use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.mapping.xero_fields import Kind, XeroField

Scope = Literal["account", "primary", "contact"]
Direction = Literal["to_xero", "to_zoho", "both"]
DIRECTIONS: tuple[Direction, ...] = ("to_xero", "to_zoho", "both")
SCOPES: tuple[Scope, ...] = ("account", "primary", "contact")


@dataclass(frozen=True)
class Source:
    """A Zoho field: `account.X` (the Account), `primary.X` (its primary contact)
    or `contact.X` (each other contact, inside a `for_each` list only)."""

    scope: Scope
    field: str

    def __str__(self) -> str:
        return f"{self.scope}.{self.field}"


@dataclass(frozen=True)
class ValueSpec:
    """One Xero value: from a Zoho field (`source`) or fixed (`constant`)."""

    target: XeroField
    kind: Kind
    label: str  # the Zoho field label used in messages
    source: Source | None = None
    constant: Any = None
    # lookup_key(Zoho value) -> Xero value; `lookup_labels` keeps the Zoho values as
    # written in the map so a message can list them.
    lookup: Mapping[str, Any] | None = None
    lookup_labels: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    direction: Direction = "to_xero"

    @property
    def to_xero(self) -> bool:
        return self.direction != "to_zoho"

    @property
    def to_zoho(self) -> bool:
        return self.direction != "to_xero"


@dataclass(frozen=True)
class ObjectSpec:
    """A Xero object (the Contact, an Address, PaymentTerms …): Xero field -> node."""

    fields: Mapping[str, Node]


@dataclass(frozen=True)
class ListSpec:
    """A Xero array with a fixed set of items (Phones, Addresses)."""

    items: tuple[ObjectSpec, ...]


@dataclass(frozen=True)
class RepeatSpec:
    """A Xero array with one item per other Zoho contact (ContactPersons)."""

    item: ObjectSpec
    max_items: int


Node = ValueSpec | ObjectSpec | ListSpec | RepeatSpec


@dataclass(frozen=True)
class WriteBackFields:
    """The write-back field names on Accounts, grouped (`FieldMap.writeback`)."""

    xero_id: str
    contact_url: str
    status: str
    last_synced: str
    error: str
    error_max_length: int

    def names(self) -> list[str]:
        """The five field names, in the order the Zoho kit lists them."""
        return [self.xero_id, self.contact_url, self.status, self.last_synced, self.error]


@dataclass(frozen=True)
class FieldMap:
    version: int
    origin: str  # where the map came from, for messages and logs
    # Accounts: control fields
    account_name_field: str
    add_to_xero_field: str
    # Contacts: control fields
    contact_account_field: str
    primary_contact_field: str
    include_in_emails_field: str
    first_name_field: str
    last_name_field: str
    # Accounts: fields the service writes back after each attempt
    writeback: WriteBackFields
    # The Xero Contact, field by field
    xero_contact: ObjectSpec
    # Labels of the control fields for messages, keyed by the YAML key
    # ("add_to_xero", "primary_contact", …).
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, key: str) -> str:
        return self.labels[key]

    def sources(self) -> list[Source]:
        """Every Zoho field the Xero Contact is built from, in map order."""
        return list(_walk_sources(self.xero_contact))

    def account_fields(self) -> list[str]:
        """API names to request for an Account (Zoho `fields=`, COQL select)."""
        mapped = [s.field for s in self.sources() if s.scope == "account"]
        control = [self.account_name_field, self.add_to_xero_field]
        return _unique(["id", *control, *self.writeback.names(), *mapped])

    def contact_fields(self) -> list[str]:
        """API names to request for an Account's Contacts."""
        mapped = [s.field for s in self.sources() if s.scope != "account"]
        control = [
            self.first_name_field,
            self.last_name_field,
            self.contact_account_field,
            self.primary_contact_field,
            self.include_in_emails_field,
        ]
        return _unique(["id", *control, *mapped])


def _walk_sources(node: Node) -> Iterator[Source]:
    if isinstance(node, ValueSpec):
        if node.source is not None:
            yield node.source
    elif isinstance(node, ObjectSpec):
        for child in node.fields.values():
            yield from _walk_sources(child)
    elif isinstance(node, ListSpec):
        for item in node.items:
            yield from _walk_sources(item)
    else:
        yield from _walk_sources(node.item)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def derive_label(api_name: str) -> str:
    """Zoho's default label for an API name: "Billing_City" -> "Billing City"."""
    return api_name.replace("_", " ").strip()
