"""Checking a field map (as loaded from YAML) and turning it into a `FieldMap`.

Every problem is reported as `FieldMapError` with the path of the bad key, e.g.
`xero_contact.Phones[1].PhoneType: 'DEFALT' is not one of Xero's values …`, so whoever
edited the file can find the line. Xero's own rules (field names, kinds, enums,
read-only fields) come from `xero_fields`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from chalicelib.errors import FatalError, validation_problems
from chalicelib.mapping.fieldmap import (
    FieldMap,
    ListSpec,
    Node,
    ObjectSpec,
    RepeatSpec,
    Source,
    ValueSpec,
    WriteBackFields,
    derive_label,
)
from chalicelib.mapping.map_file import MapFile, RepeatModel, ValueModel
from chalicelib.mapping.values import ValueProblem, convert, lookup_key
from chalicelib.mapping.xero_fields import CONTACT_FIELDS, XeroField

SUPPORTED_VERSIONS = (1,)
# Zoho allows at most 50 columns in a COQL select and in a `fields=` list.
MAX_ZOHO_FIELDS = 50

_SOURCE = re.compile(r"^(account|primary|contact)\.([A-Za-z][A-Za-z0-9_]*)$")


class FieldMapError(FatalError):
    """The field map file is malformed; nothing can sync until it is corrected."""


# --- Entry point --------------------------------------------------------------------


def parse_field_map(data: Any, *, origin: str = "the field map") -> FieldMap:
    """Validate a loaded YAML document and build the FieldMap; raises FieldMapError."""
    try:
        doc = MapFile.model_validate(data)
    except ValidationError as exc:
        raise FieldMapError(_bad(origin, validation_problems(exc, top_level="(top level)"))) from None
    if doc.version not in SUPPORTED_VERSIONS:
        raise FieldMapError(_bad(origin, [f"version: {doc.version} is not supported; use 1"]))
    try:
        contact = _parse_contact(doc.xero_contact)
        field_map = _build(doc, contact, origin)
        _check_field_counts(field_map)
    except _Bad as exc:
        raise FieldMapError(_bad(origin, [str(exc)])) from None
    return field_map


class _Bad(Exception):
    """One problem, with the path of the bad key at the front."""


def _bad(origin: str, problems: list[str]) -> str:
    return f"{origin} is not a valid field map: " + "; ".join(problems)


def _build(doc: MapFile, contact: ObjectSpec, origin: str) -> FieldMap:
    z = doc.zoho
    controls = {
        "account_name": z.accounts.name,
        "add_to_xero": z.accounts.add_to_xero,
        "account_lookup": z.contacts.account_lookup,
        "primary_contact": z.contacts.primary_contact,
        "include_in_emails": z.contacts.include_in_emails,
        "first_name": z.contacts.first_name,
        "last_name": z.contacts.last_name,
        "sync_error": z.write_back.sync_error,
    }
    return FieldMap(
        version=doc.version,
        origin=origin,
        account_name_field=z.accounts.name.field,
        add_to_xero_field=z.accounts.add_to_xero.field,
        contact_account_field=z.contacts.account_lookup.field,
        primary_contact_field=z.contacts.primary_contact.field,
        include_in_emails_field=z.contacts.include_in_emails.field,
        first_name_field=z.contacts.first_name.field,
        last_name_field=z.contacts.last_name.field,
        writeback=WriteBackFields(
            xero_id=z.write_back.xero_id.field,
            contact_url=z.write_back.xero_contact_url.field,
            status=z.write_back.sync_status.field,
            last_synced=z.write_back.last_synced.field,
            error=z.write_back.sync_error.field,
            error_max_length=z.write_back.sync_error_max_length,
        ),
        xero_contact=contact,
        labels={key: ref.display() for key, ref in controls.items()},
    )


def _check_field_counts(field_map: FieldMap) -> None:
    for module, names in (("Accounts", field_map.account_fields()), ("Contacts", field_map.contact_fields())):
        if len(names) > MAX_ZOHO_FIELDS:
            raise _Bad(
                f"xero_contact: the map reads {len(names)} {module} fields; Zoho returns at most "
                f"{MAX_ZOHO_FIELDS} per request"
            )


# --- The Xero Contact tree -----------------------------------------------------------


def _parse_contact(raw: dict[str, Any]) -> ObjectSpec:
    contact = _parse_object(raw, CONTACT_FIELDS, "xero_contact", in_repeat=False)
    if "Name" not in contact.fields:
        raise _Bad("xero_contact.Name: missing; Xero needs a Name for every contact")
    return contact


def _parse_object(raw: Any, fields: Mapping[str, XeroField], path: str, *, in_repeat: bool) -> ObjectSpec:
    if not isinstance(raw, dict) or not raw:
        raise _Bad(f"{path}: expected Xero field names with their sources, e.g. {next(iter(fields))}: …")
    if "from" in raw or "value" in raw:
        raise _Bad(f"{path}: is a group of Xero fields ({', '.join(fields)}); map its fields one by one")
    nodes: dict[str, Node] = {}
    for name, value in raw.items():
        target = _target(fields, str(name), path)
        nodes[name] = _parse_node(value, target, f"{path}.{name}", in_repeat=in_repeat)
    return ObjectSpec(fields=nodes)


def _target(fields: Mapping[str, XeroField], name: str, path: str) -> XeroField:
    target = fields.get(name)
    if target is None:
        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f"; did you mean {close[0]}?" if close else " (Xero field names are case-sensitive)"
        raise _Bad(f"{path}.{name}: Xero has no such field that can be mapped{hint}")
    if target.read_only:
        raise _Bad(f"{path}.{name}: Xero's API treats this field as read-only, so it cannot be mapped")
    return target


def _parse_node(raw: Any, target: XeroField, path: str, *, in_repeat: bool) -> Node:
    if target.kind == "object":
        return _parse_object(raw, target.fields, path, in_repeat=in_repeat)
    if target.kind == "array":
        return _parse_array(raw, target, path, in_repeat=in_repeat)
    return _parse_value(raw, target, path, in_repeat=in_repeat)


def _parse_array(raw: Any, target: XeroField, path: str, *, in_repeat: bool) -> ListSpec | RepeatSpec:
    if isinstance(raw, dict) and "for_each" in raw:
        return _parse_repeat(raw, target, path, in_repeat=in_repeat)
    if not isinstance(raw, list) or not raw:
        raise _Bad(f"{path}: expected a list of items (- {next(iter(target.fields))}: …) or a for_each block")
    if target.max_items is not None and len(raw) > target.max_items:
        raise _Bad(f"{path}: Xero takes at most {target.max_items} items")
    items = tuple(
        _parse_object(item, target.fields, f"{path}[{i}]", in_repeat=in_repeat) for i, item in enumerate(raw)
    )
    return ListSpec(items=items)


def _parse_repeat(raw: dict[str, Any], target: XeroField, path: str, *, in_repeat: bool) -> RepeatSpec:
    if in_repeat:
        raise _Bad(f"{path}: for_each cannot be nested")
    try:
        model = RepeatModel.model_validate(raw)
    except ValidationError as exc:
        raise _Bad(
            "; ".join(f"{path}.{p}" for p in validation_problems(exc, top_level="(top level)"))
        ) from None
    limit = target.max_items
    if limit is not None and model.max is not None and model.max > limit:
        raise _Bad(f"{path}.max: Xero takes at most {limit} items")
    max_items = model.max or limit
    if max_items is None:
        raise _Bad(f"{path}.max: required; how many contacts at most?")
    item = _parse_object(model.item, target.fields, f"{path}.item", in_repeat=True)
    return RepeatSpec(item=item, max_items=max_items)


def _parse_value(raw: Any, target: XeroField, path: str, *, in_repeat: bool) -> ValueSpec:
    model = _value_model(raw, path)
    source = _parse_source(model.from_, path, in_repeat=in_repeat) if model.from_ is not None else None
    if model.type is not None and model.type != target.kind:
        raise _Bad(f"{path}.type: Xero expects {_a(target.kind)} here, not {_a(model.type)}")
    spec = ValueSpec(
        target=target,
        kind=target.kind,
        label=model.label or (derive_label(source.field) if source else path.rsplit(".", 1)[-1]),
        source=source,
        constant=model.value,
        lookup=_parse_lookup(model.lookup, target, path),
        lookup_labels=tuple(model.lookup or ()),
        default=model.default,
        required=model.required,
        direction=model.direction,
    )
    _check_direction(spec, path)
    if source is None:
        _check_fits(model.value, target, f"{path}.value")
    elif model.default is not None:
        _check_default(spec, path)
    return spec


def _check_direction(spec: ValueSpec, path: str) -> None:
    """A value that flows into Zoho must come from one Zoho field that can take it back."""
    if spec.direction == "to_xero":
        return
    where = f"{path}.direction: {spec.direction}"
    if spec.source is None:
        raise _Bad(f"{where} needs a Zoho field ('from'); a fixed value cannot flow back into Zoho")
    if spec.source.scope == "contact" or spec.source.field == "id":
        raise _Bad(
            f"{where} is only possible for an Account field or the primary contact's field "
            f"({spec.source} cannot be written back); use direction: to_xero"
        )
    if spec.lookup is not None or spec.default is not None or spec.kind != "string":
        raise _Bad(
            f"{where} is only possible for plain text fields (no lookup, default or {spec.kind} "
            "conversion); use direction: to_xero"
        )


def _value_model(raw: Any, path: str) -> ValueModel:
    if isinstance(raw, str):
        raw = {"from": raw}
    if not isinstance(raw, dict):
        raise _Bad(f"{path}: expected 'account.Field', 'primary.Field', 'contact.Field' or {{from: …}}")
    try:
        model = ValueModel.model_validate(raw)
    except ValidationError as exc:
        raise _Bad(
            "; ".join(f"{path}.{p}" for p in validation_problems(exc, top_level="(top level)"))
        ) from None
    has_value = "value" in model.model_fields_set
    if (model.from_ is None) == (not has_value):
        raise _Bad(
            f"{path}: give either 'from' (a Zoho field) or 'value' (a fixed value), not both or neither"
        )
    if has_value and (model.lookup is not None or model.default is not None or model.required):
        raise _Bad(f"{path}: a fixed 'value' takes no lookup, default or required")
    return model


def _parse_source(text: str, path: str, *, in_repeat: bool) -> Source:
    match = _SOURCE.match(text.strip())
    if not match:
        raise _Bad(
            f"{path}: {text!r} is not a Zoho source; write account.Field, primary.Field or contact.Field "
            "(or {value: …} for a fixed value)"
        )
    scope, name = match.groups()
    if scope == "contact" and not in_repeat:
        raise _Bad(f"{path}: contact.{name} is only available inside a for_each block (ContactPersons)")
    return Source(scope=scope, field=name)  # type: ignore[arg-type]  # the regex allows only the scopes


def _parse_lookup(table: dict[str, Any] | None, target: XeroField, path: str) -> dict[str, Any] | None:
    if table is None:
        return None
    if not table:
        raise _Bad(f"{path}.lookup: is empty")
    result: dict[str, Any] = {}
    for zoho_value, xero_value in table.items():
        key = lookup_key(zoho_value)
        if key is None or key in result:
            raise _Bad(f"{path}.lookup: {zoho_value!r} is blank or listed twice")
        _check_fits(xero_value, target, f"{path}.lookup.{zoho_value}")
        result[key] = xero_value
    return result


def _check_default(spec: ValueSpec, path: str) -> None:
    if spec.lookup is not None:
        if lookup_key(spec.default) not in spec.lookup:
            raise _Bad(f"{path}.default: {spec.default!r} is not one of the lookup's Zoho values")
        return
    try:
        value = convert(spec.default, spec.kind)
    except ValueProblem as exc:
        raise _Bad(f"{path}.default: must be {exc.expected}") from None
    _check_fits(value, spec.target, f"{path}.default")


def _check_fits(value: Any, target: XeroField, path: str) -> None:
    """A value written in the map (fixed value, lookup result) must be what Xero takes."""
    kinds = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}
    # bool is an int in Python, but `true` is not a number to Xero.
    wrong_kind = not isinstance(value, kinds[target.kind]) or (
        isinstance(value, bool) and target.kind != "boolean"
    )
    if wrong_kind:
        raise _Bad(f"{path}: {value!r} is not {_a(target.kind)}")
    if target.enum and value not in target.enum:
        raise _Bad(f"{path}: {value!r} is not one of Xero's values ({', '.join(target.enum)})")


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
