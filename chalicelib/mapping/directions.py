"""Which mapped fields flow which way, and the values each side holds for them. Pure.

Every value of the field map declares `direction: to_xero | to_zoho | both`. The fields that
flow into Zoho (to_zoho, both) are listed here as `FlowField`s, each with a stable `key` such
as `Phones[PhoneType=DEFAULT].PhoneNumber`: the path to the value in a Xero contact, with a
list item picked by its fixed values. The same keys name the values on both sides, so the
stored "last synced values" of a linked pair (store/snapshots.py) compare field by field with
either side: `xero_side(contact)` reads a Xero contact, `zoho_side(account, primary)` reads the
Zoho records the same map feeds from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.mapping.fieldmap import (
    Direction,
    FieldMap,
    ListSpec,
    ObjectSpec,
    RepeatSpec,
    Source,
    ValueSpec,
)

# One step of a path: a field name, or a list item picked by its fixed values.
Step = str | tuple[str, tuple[tuple[str, Any], ...]]
Values = dict[str, str]


@dataclass(frozen=True)
class FlowField:
    key: str  # the Xero path, e.g. "Name" or "Addresses[AddressType=POBOX].City"
    path: tuple[Step, ...]
    source: Source  # the Zoho field: account.X or primary.X
    label: str
    direction: Direction


def mapped_fields(field_map: FieldMap) -> list[FlowField]:
    """Every Zoho-sourced value of the map with its direction, in map order (the Settings page)."""
    return list(_walk(field_map.xero_contact, ()))


def fields_to_zoho(field_map: FieldMap) -> list[FlowField]:
    """The values a Xero change brings into Zoho (direction to_zoho or both)."""
    return [f for f in mapped_fields(field_map) if f.direction != "to_xero"]


def xero_side(contact: Mapping[str, Any], fields: list[FlowField]) -> Values:
    """What a Xero contact (as Xero sends it, or as we send it) holds for each field."""
    return {f.key: _text(_read(contact, f.path)) for f in fields}


def zoho_side(
    account: Mapping[str, Any], primary: Mapping[str, Any] | None, fields: list[FlowField]
) -> Values:
    """What the Zoho Account and its primary contact hold for each field."""
    records = {"account": account, "primary": primary or {}}
    return {f.key: _text(records[f.source.scope].get(f.source.field)) for f in fields}


def changed(new: Values, old: Mapping[str, str]) -> Values:
    """The fields whose value differs from `old` (a field `old` never had counts as empty)."""
    return {key: value for key, value in new.items() if old.get(key, "") != value}


def zoho_writes(values: Values, fields: list[FlowField]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Account fields, primary contact fields) to write for these values; empty becomes null."""
    by_key = {f.key: f for f in fields}
    account: dict[str, Any] = {}
    primary: dict[str, Any] = {}
    for key, value in values.items():
        field = by_key.get(key)
        if field is None:
            continue
        target = account if field.source.scope == "account" else primary
        target[field.source.field] = value or None
    return account, primary


def _walk(node: Any, path: tuple[Step, ...]) -> Iterator[FlowField]:
    if isinstance(node, ValueSpec):
        if node.source is not None:
            yield FlowField(_key(path), path, node.source, node.label, node.direction)
    elif isinstance(node, ObjectSpec):
        for name, child in node.fields.items():
            if isinstance(child, ListSpec):
                for item in child.items:
                    yield from _walk(item, (*path, (name, _selector(item))))
            elif isinstance(child, RepeatSpec):
                continue  # other contacts (ContactPersons) only ever flow to Xero
            else:
                yield from _walk(child, (*path, name))


def _selector(item: ObjectSpec) -> tuple[tuple[str, Any], ...]:
    """The fixed values that pick a list item out, e.g. (("PhoneType", "DEFAULT"),)."""
    return tuple(
        (name, spec.constant)
        for name, spec in item.fields.items()
        if isinstance(spec, ValueSpec) and spec.source is None
    )


def _key(path: tuple[Step, ...]) -> str:
    parts = []
    for step in path:
        if isinstance(step, str):
            parts.append(step)
        else:
            name, selector = step
            parts.append(name + "[" + ",".join(f"{k}={v}" for k, v in selector) + "]")
    return ".".join(parts)


def _read(node: Any, path: tuple[Step, ...]) -> Any:
    for step in path:
        if isinstance(step, str):
            node = node.get(step) if isinstance(node, Mapping) else None
        else:
            name, selector = step
            items = node.get(name) if isinstance(node, Mapping) else None
            node = next(
                (
                    item
                    for item in items or []
                    if isinstance(item, Mapping) and all(item.get(k) == v for k, v in selector)
                ),
                None,
            )
        if node is None:
            return None
    return node


def _text(value: Any) -> str:
    """Both sides compared as trimmed text; absent and empty are the same."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()
