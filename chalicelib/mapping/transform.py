"""Zoho Account + Contacts -> one Xero Contact, and the Account fields written back.

Pure functions: no I/O, no clocks. `prepare_contact` either returns everything the
caller needs to write to Xero or raises `RejectedError` with a message saying what to
fix in Zoho; nothing partial is ever produced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.mapping.fieldmap import FieldMap, ListSpec, Node, ObjectSpec, RepeatSpec, Scope, ValueSpec
from chalicelib.mapping.validate import (
    Problems,
    Record,
    Subject,
    check_account,
    choose_primary,
    own_contacts,
    person_name,
    persons_left_out_warning,
    xero_contact_persons,
)
from chalicelib.mapping.values import ValueProblem, convert, is_empty, lookup_key, show
from chalicelib.models.sync import SyncStatus


@dataclass(frozen=True)
class PreparedContact:
    xero_contact: dict[str, Any]  # the Xero Contact JSON, without ContactID
    content_hash: str  # sha256 hex of its canonical JSON
    primary_contact_id: str | None
    warnings: list[str] = field(default_factory=list)  # plain-words notes that did not block the sync


def prepare_contact(account: Record, contacts: Sequence[Record], field_map: FieldMap) -> PreparedContact:
    """Check an Account and its Contacts and build the Xero Contact.

    Raises RejectedError when the data cannot go to Xero as it is.
    """
    check_account(account, field_map)
    mine = own_contacts(account, contacts, field_map)
    primary, others = choose_primary(mine, field_map)
    ctx = _Context(field_map=field_map, account=account, primary=primary, others=others, total=len(mine))
    body, _ = _build_object(field_map.xero_contact, ctx, always=True)
    ctx.problems.raise_if_any()
    return PreparedContact(
        xero_contact=body or {},
        content_hash=content_hash(body or {}),
        primary_contact_id=str(primary["id"]) if primary and primary.get("id") else None,
        warnings=list(ctx.warnings),
    )


def content_hash(xero_contact: Mapping[str, Any]) -> str:
    """sha256 of a canonical JSON: sorted keys, no spaces, UTF-8 as is.

    Key order never changes the hash; list order does (ContactPersons are put in a
    fixed order before this point, Phones and Addresses follow the map).
    """
    canonical = json.dumps(
        xero_contact, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def writeback_fields(
    field_map: FieldMap,
    *,
    status: str,
    xero_contact_id: str | None,
    xero_contact_url: str | None,
    synced_at: str | None,
    error: str | None,
) -> dict[str, Any]:
    """The Zoho Account update after an attempt, keyed by the map's field names.

    Link fields left as None are not written, so a rejected update of an Account that
    is already linked keeps its Xero ID and link. The error is always written: cleared
    (null) on success, otherwise cut to the field's size.
    """
    if status not in set(SyncStatus):
        raise ValueError(f"unknown sync status {status!r}; expected one of {[s.value for s in SyncStatus]}")
    names = field_map.writeback
    update: dict[str, Any] = {names.status: str(status)}
    optional = {
        names.xero_id: xero_contact_id,
        names.contact_url: xero_contact_url,
        names.last_synced: synced_at,
    }
    update.update({name: value for name, value in optional.items() if value})
    succeeded = status == SyncStatus.SYNCED
    update[names.error] = None if succeeded else _truncate(error, names.error_max_length)
    return update


def _truncate(text: str | None, limit: int) -> str | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Building ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    field_map: FieldMap
    account: Record
    primary: Record | None
    others: Sequence[Record]
    total: int  # contacts on the Account, primary included
    person: Record | None = None  # the contact a for_each item is built from
    # Shared by every copy of the context, so nested builds report into one place.
    problems: Problems = field(default_factory=Problems)
    warnings: list[str] = field(default_factory=list)

    def record(self, scope: Scope) -> Record | None:
        return {"account": self.account, "primary": self.primary, "contact": self.person}[scope]

    def subject(self, spec: ValueSpec) -> Subject:
        scope = spec.source.scope if spec.source else "account"
        person = self.record(scope) if scope != "account" else None
        if person is None:
            return Subject(spec.label)
        return Subject(spec.label, person=person_name(person, self.field_map), primary=scope == "primary")


# Each builder returns (value or None, filled): `filled` says whether any Zoho field
# behind the value had something in it. A phone or address with nothing filled is
# left out; one with something filled is sent and must meet its `required` rules.
_Built = tuple[Any, bool]


def _build(node: Node, ctx: _Context) -> _Built:
    if isinstance(node, ValueSpec):
        return _build_value(node, ctx)
    if isinstance(node, ObjectSpec):
        return _build_object(node, ctx)
    if isinstance(node, ListSpec):
        return _build_list(node, ctx)
    return _build_repeat(node, ctx)


def _build_value(spec: ValueSpec, ctx: _Context) -> _Built:
    if spec.source is None:
        return spec.constant, False  # a fixed value alone never makes an item worth sending
    if not spec.to_xero:
        return None, False  # direction: to_zoho — Xero's value flows into Zoho, never back
    record = ctx.record(spec.source.scope)
    raw = record.get(spec.source.field) if record is not None else None
    filled = not is_empty(raw)
    if not filled:
        if spec.default is None:
            return None, False
        raw = spec.default
    value = _convert(raw, spec, ctx)
    if value is not None:
        ctx.problems.check(value, spec.target, ctx.subject(spec))
    return value, filled


def _convert(raw: Any, spec: ValueSpec, ctx: _Context) -> Any:
    subject = ctx.subject(spec)
    if spec.lookup is not None:
        key = lookup_key(raw)
        if key is not None and key in spec.lookup:
            return spec.lookup[key]
        choices = "; ".join(spec.lookup_labels)
        ctx.problems.add(f"{subject} {show(raw)!r} has no match in Xero. Choose one of: {choices}.")
        return None
    try:
        return convert(raw, spec.kind)
    except ValueProblem as exc:
        ctx.problems.add(f"{subject} must be {exc.expected} (it is {show(raw)!r}). Correct it in Zoho.")
        return None


def _build_object(spec: ObjectSpec, ctx: _Context, *, always: bool = False) -> _Built:
    out: dict[str, Any] = {}
    filled_labels: list[str] = []
    missing: list[ValueSpec] = []
    any_filled = False
    for name, node in spec.fields.items():
        value, filled = _build(node, ctx)
        any_filled |= filled
        if isinstance(node, ValueSpec) and filled:
            filled_labels.append(str(ctx.subject(node)))
        if value is not None:
            out[name] = value
        elif isinstance(node, ValueSpec) and node.required and not filled:
            missing.append(node)
    if not (any_filled or always):
        return None, False
    for node in missing:
        ctx.problems.add(_missing_message(ctx.subject(node), filled_labels, always=always))
    return (out or None), any_filled


def _missing_message(subject: Subject, filled: list[str], *, always: bool) -> str:
    if always or not filled:
        record = "the Account" if subject.person is None else "that contact"
        return f"{subject} is empty. Fill it in on {record} in Zoho CRM."
    others = " and ".join(filled)
    verb = "is" if len(filled) == 1 else "are"
    return f"{subject} must be filled in because {others} {verb}. Fill it in in Zoho, or clear {others}."


def _build_list(spec: ListSpec, ctx: _Context) -> _Built:
    items: list[Any] = []
    any_filled = False
    for item_spec in spec.items:
        item, filled = _build_object(item_spec, ctx)
        if filled and item:
            items.append(item)
            any_filled = True
    return (items or None), any_filled


def _build_repeat(spec: RepeatSpec, ctx: _Context) -> _Built:
    copied, left_out = xero_contact_persons(ctx.others, ctx.field_map, spec.max_items)
    if left_out:
        ctx.warnings.append(persons_left_out_warning(copied, left_out, ctx.total, ctx.field_map))
    items: list[Any] = []
    for person in copied:
        item, filled = _build_object(spec.item, replace(ctx, person=person))
        if filled and item:
            items.append(item)
    return (items or None), bool(items)
