"""Cleared values in a Xero contact body: how an emptied Zoho field reaches Xero. Pure.

The field map leaves empty values out of what it sends (Xero never gets a null), and Xero keeps
what a request leaves out: a phone cleared in Zoho would stay in Xero for ever. Xero's rules,
which the stand-in follows (tests/sandbox/xero/test_clearing.py checks them against the spec):

- a text element is cleared by sending it as an empty string (`"EmailAddress": ""`); leaving it
  out keeps the stored value (and the spec's strings allow no null);
- a phone or an address is one item of its type: the item sent replaces the stored one of that
  `PhoneType` / `AddressType` whole, so `{"PhoneType": "DEFAULT", "PhoneNumber": ""}` clears the
  number and an address sent without a line clears that line. Items of other types are kept.

`cleared_since` finds the fields emptied in Zoho since the last sync (their last synced value
was not empty); `with_values` writes values (empty ones too) into a body at each field's path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from chalicelib.mapping.directions import FlowField, Step, xero_side


def cleared_since(
    body: Mapping[str, Any], last_synced: Mapping[str, str], fields: list[FlowField]
) -> dict[str, str]:
    """The fields empty in `body` that held a value after the last sync: {key: ""}."""
    now = xero_side(body, fields)
    return {key: "" for key, value in now.items() if not value and (last_synced.get(key) or "").strip()}


def with_values(
    body: Mapping[str, Any], values: Mapping[str, str], fields: list[FlowField]
) -> dict[str, Any]:
    """A copy of `body` with each value written at its field's path ("" clears it in Xero)."""
    by_key = {f.key: f for f in fields}
    result: dict[str, Any] = copy.deepcopy(dict(body))
    for key, value in values.items():
        field = by_key.get(key)
        if field is not None:
            _put(result, field.path, value)
    return result


def _put(node: dict[str, Any], path: tuple[Step, ...], value: str) -> None:
    *parents, last = path
    for step in parents:
        node = _child(node, step)
    if isinstance(last, str):
        node[last] = value
    else:  # a path never ends on a list item (it ends on the item's field)
        raise ValueError(f"a field path ends on a list item: {last!r}")


def _child(node: dict[str, Any], step: Step) -> dict[str, Any]:
    if isinstance(step, str):
        child = node.get(step)
        if not isinstance(child, dict):
            child = node[step] = {}
        return child
    name, selector = step
    items = node.get(name)
    if not isinstance(items, list):
        items = node[name] = []
    for item in items:
        if isinstance(item, dict) and all(item.get(k) == v for k, v in selector):
            return item
    item = dict(selector)  # a phone or address Zoho left out: sent with its type, to clear it
    items.append(item)
    return item


def xero_update(
    contact: Mapping[str, Any], values: Mapping[str, str], fields: list[FlowField]
) -> dict[str, Any]:
    """The smallest update of a Xero contact setting these values: each text element alone, and
    each phone or address touched sent whole (as Xero has it now, with the values set), since an
    item sent replaces the stored one of its type."""
    by_key = {f.key: f for f in fields}
    body: dict[str, Any] = {"ContactID": contact.get("ContactID")}
    for key in values:
        field = by_key.get(key)
        if field is None:
            continue
        first = field.path[0]
        if isinstance(first, tuple) and not any(_picks(item, first) for item in body.get(first[0], [])):
            current = next((i for i in contact.get(first[0]) or [] if _picks(i, first)), dict(first[1]))
            body.setdefault(first[0], []).append(copy.deepcopy(dict(current)))
    return with_values(body, values, fields)


def _picks(item: Any, step: tuple[str, tuple[tuple[str, Any], ...]]) -> bool:
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in step[1])
