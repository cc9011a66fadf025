"""The checks that decide whether an Account may go to Xero, and who its people are.

Every problem becomes a `RejectedError` whose message tells a finance user, in plain
words, what to change in Zoho. Problems with individual values are collected in
`Problems` so one message can list them all: fixing one field only to be told about the
next is the experience we avoid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import RejectedError
from chalicelib.mapping.fieldmap import FieldMap
from chalicelib.mapping.values import show, to_text
from chalicelib.mapping.xero_fields import XeroField, is_valid_email, xero_length

Record = Mapping[str, Any]


# --- The Account itself ----------------------------------------------------------------


def check_account(account: Record, field_map: FieldMap) -> None:
    """The gate: Add to Xero ticked and a name present."""
    # "Add to Xero" first: an unticked Account is not meant for Xero, whatever else is missing.
    if not is_ticked(account.get(field_map.add_to_xero_field)):
        label = field_map.label("add_to_xero")
        raise RejectedError(
            f"{label} is not ticked on this Account. To send it to Xero, tick {label} on the Account "
            "in Zoho CRM, then click Sync to Xero again."
        )
    if to_text(account.get(field_map.account_name_field)) is None:
        raise RejectedError(
            f"{field_map.label('account_name')} is empty. Fill it in on the Account in Zoho CRM, "
            "then click Sync to Xero again."
        )


def is_ticked(value: Any) -> bool:
    """A Zoho checkbox is `true`/`false`; text "true" is accepted as well (workflow payloads)."""
    return value is True or (isinstance(value, str) and value.strip().casefold() == "true")


# --- Its contacts ----------------------------------------------------------------------


def own_contacts(account: Record, contacts: Sequence[Record], field_map: FieldMap) -> list[Record]:
    """The contacts that belong to this Account, each once.

    A contact whose Account lookup names another Account is left out: it was fetched
    by mistake (e.g. a COQL page for several Accounts) and must not be copied here.
    """
    account_id = str(account.get("id") or "")
    seen: set[str] = set()
    result: list[Record] = []
    for contact in contacts:
        linked = _lookup_id(contact.get(field_map.contact_account_field))
        key = str(contact.get("id") or id(contact))
        if (linked is not None and linked != account_id) or key in seen:
            continue
        seen.add(key)
        result.append(contact)
    return result


def _lookup_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value not in (None, "") else None


def person_name(contact: Record, field_map: FieldMap) -> str:
    """How a contact is named in messages: "Erin Walsh", else its record id."""
    parts = [to_text(contact.get(f)) for f in (field_map.first_name_field, field_map.last_name_field)]
    name = " ".join(p for p in parts if p)
    return name or f"the contact with id {contact.get('id')}"


def _sort_key(contact: Record, field_map: FieldMap) -> tuple[str, str]:
    return (person_name(contact, field_map).casefold(), str(contact.get("id") or ""))


def choose_primary(contacts: Sequence[Record], field_map: FieldMap) -> tuple[Record | None, list[Record]]:
    """(primary, the others). One contact is the primary whatever its flag; several need
    exactly one ticked, because guessing would put the wrong person on invoices."""
    if len(contacts) <= 1:
        return (contacts[0] if contacts else None), []
    flag = field_map.primary_contact_field
    marked = [c for c in contacts if is_ticked(c.get(flag))]
    if len(marked) == 1:
        primary = marked[0]
        return primary, [c for c in contacts if c is not primary]
    label = field_map.label("primary_contact")
    if not marked:
        names = _names(contacts, field_map)
        raise RejectedError(
            f"This Account has {len(contacts)} contacts but none is marked {label}. "
            f"Tick {label} on one of: {names}."
        )
    raise RejectedError(
        f"This Account has {len(marked)} contacts marked {label} ({_names(marked, field_map)}). "
        f"Untick {label} on all but one of them in Zoho CRM."
    )


def _names(contacts: Sequence[Record], field_map: FieldMap) -> str:
    ordered = sorted(contacts, key=lambda c: _sort_key(c, field_map))
    return ", ".join(person_name(c, field_map) for c in ordered)


def xero_contact_persons(
    others: Sequence[Record], field_map: FieldMap, max_items: int
) -> tuple[list[Record], list[Record]]:
    """(copied, left out) among the non-primary contacts, in the order Xero gets them.

    People with Include in Emails ticked come first (they receive the invoices), then
    by full name; the record id breaks ties. The order is applied even under the limit
    so the same people always produce the same Xero contact (and the same hash),
    whatever order Zoho returned them in.
    """
    flag = field_map.include_in_emails_field
    ordered = sorted(others, key=lambda c: (not is_ticked(c.get(flag)), *_sort_key(c, field_map)))
    return ordered[:max_items], ordered[max_items:]


def persons_left_out_warning(
    copied: Sequence[Record], left_out: Sequence[Record], total: int, field_map: FieldMap
) -> str:
    count = len(left_out)
    verb = "was" if count == 1 else "were"
    names = ", ".join(person_name(c, field_map) for c in left_out)
    kept = ", ".join(person_name(c, field_map) for c in copied)
    return (
        f"{count} of {total} contacts {verb} not copied to Xero: Xero keeps at most {len(copied)} "
        f"additional people besides the primary contact. Not copied: {names}. "
        f"Copied: {kept}. People with {field_map.label('include_in_emails')} ticked are copied first."
    )


# --- Values against Xero's limits ---------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Whose value a message is about: a field of the Account, of the primary contact or
    of another contact."""

    label: str
    person: str | None = None
    primary: bool = False

    def __str__(self) -> str:
        if self.person is None:
            return self.label
        role = "the primary contact" if self.primary else "the contact"
        return f"{self.label} of {role} {self.person}"


@dataclass
class Problems:
    """Everything wrong with the values, gathered into one message."""

    too_long: list[tuple[str, int, int]] = field(default_factory=list)  # subject, length, limit
    other: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message not in self.other:
            self.other.append(message)

    def check(self, value: Any, target: XeroField, subject: Subject) -> None:
        """Xero's limits for one mapped value."""
        if not isinstance(value, str):
            return
        length = xero_length(value)
        if target.max_length is not None and length > target.max_length:
            entry = (str(subject), length, target.max_length)
            if entry not in self.too_long:
                self.too_long.append(entry)
        if target.email and not is_valid_email(value):
            self.add(_email_message(value, subject))
        if target.enum and value not in target.enum:
            self.add(
                f"{subject} must be one of {', '.join(target.enum)} (it is {show(value)!r}). "
                "Correct it in Zoho CRM."
            )

    def raise_if_any(self) -> None:
        parts = ([self._length_message()] if self.too_long else []) + self.other
        if parts:
            raise RejectedError(" ".join(parts))

    def _length_message(self) -> str:
        if len(self.too_long) == 1:
            subject, length, limit = self.too_long[0]
            return f"{subject} is {length} characters long; Xero allows at most {limit}. Shorten it in Zoho."
        listed = "; ".join(
            f"{subject} is {length} characters long (at most {limit})"
            for subject, length, limit in self.too_long
        )
        return f"Some fields are too long for Xero: {listed}. Shorten them in Zoho."


def _email_message(value: str, subject: Subject) -> str:
    fix = f"Xero will not accept ({show(value)}). Correct it in Zoho."
    if subject.person is None:
        return f"{subject.label} on this Account is an e-mail address {fix}"
    role = "The primary contact" if subject.primary else "The contact"
    return f"{role} {subject.person} has an e-mail address {fix}"
