"""Contract checks against Xero's published OpenAPI specs (vendored in `sandbox/specs/xero/`).

Stable API for contract tests (used by the Xero stand-in and by other test suites):

- `contact_request_errors(body)` -> list of human-readable violations of a Contacts
  PUT/POST body (`{"Contacts": [...]}`) against `components.schemas.Contacts`. An empty list
  means the body conforms. OpenAPI `readOnly` fields (Website, UpdatedDateUTC, Discount) are
  violations in a request, and so - stricter than the spec, to catch typos that Xero would
  silently drop - are properties the schema does not define (`allow_unknown=True` turns that off).
- `contact_request_violations(body)` -> the same as `Violation` objects (path, keyword, message).
- `history_request_errors(body)` / `history_request_violations(body)` -> the same for a History &
  Notes PUT body (`{"HistoryRecords": [{"Details": ...}]}`, schema `HistoryRecords`; unknown
  properties and the read-only `DateUTC` are violations).
- `response_errors(body, schema="Contacts", spec="accounting")` -> violations of a response
  body against a named schema; `"Connection[]"` with `spec="identity"` checks GET /connections.
- `max_lengths(schema)` -> `{property: maxLength}` of a schema (e.g. "Contact", "Address").
- `load_spec(spec)` -> the parsed spec (cached; parsing the 926 KB YAML takes ~0.3 s once).

Format checking is limited to `uuid`: Xero's own identity timestamps (`2019-12-07T18:46:19.5165400`)
are not RFC 3339 date-times, so checking `date-time` would reject genuine Xero responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

SPEC_DIR = Path(__file__).resolve().parent / "xero"
SPEC_FILES = {"accounting": "xero_accounting.yaml", "identity": "xero-identity.yaml"}

__all__ = [
    "Violation",
    "contact_request_errors",
    "contact_request_violations",
    "history_request_errors",
    "history_request_violations",
    "load_spec",
    "max_lengths",
    "response_errors",
]


@dataclass(frozen=True)
class Violation:
    path: str  # e.g. "Contacts[0].Phones[1].PhoneType"
    keyword: str  # JSON-Schema keyword that failed: maxLength, enum, type, readOnly, unknown, ...
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<body>'}: {self.message}"


@cache
def load_spec(spec: str = "accounting") -> dict[str, Any]:
    """The parsed OpenAPI document ("accounting" or "identity"); parsed once per process."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(SPEC_DIR / SPEC_FILES[spec], encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def max_lengths(schema: str, spec: str = "accounting") -> dict[str, int]:
    properties = load_spec(spec)["components"]["schemas"][schema].get("properties", {})
    return {name: prop["maxLength"] for name, prop in properties.items() if "maxLength" in prop}


def contact_request_violations(body: Any, *, allow_unknown: bool = False) -> list[Violation]:
    """Violations of a Contacts request body; see the module docstring."""
    validator = _validator("Contacts", "accounting", request=True, strict=not allow_unknown)
    return _collect(validator.iter_errors(body))


def history_request_violations(body: Any) -> list[Violation]:
    """Violations of a History & Notes PUT body (`{"HistoryRecords": [{"Details": ...}]}`)."""
    return _collect(_validator("HistoryRecords", "accounting", request=True, strict=True).iter_errors(body))


def history_request_errors(body: Any) -> list[str]:
    """Human-readable violations of a History & Notes PUT body; `[]` when it conforms."""
    return [str(v) for v in history_request_violations(body)]


def contact_request_errors(body: Any, *, allow_unknown: bool = False) -> list[str]:
    """Human-readable violations of a Contacts request body; `[]` when it conforms."""
    return [str(v) for v in contact_request_violations(body, allow_unknown=allow_unknown)]


def response_errors(body: Any, schema: str = "Contacts", *, spec: str = "accounting") -> list[str]:
    """Violations of a response body against `components.schemas.<schema>` (`Name[]` = array of)."""
    validator = _validator(schema, spec, request=False, strict=False)
    return [str(v) for v in _collect(validator.iter_errors(body))]


# --- machinery ------------------------------------------------------------------------------

_BASE_PROPERTIES = Draft4Validator.VALIDATORS["properties"]


def _read_only_in_request(validator: Any, read_only: Any, instance: Any, schema: dict) -> Iterator:
    if read_only is True:
        yield ValidationError("read-only property must not be sent in a request", validator="readOnly")


def _write_only_in_response(validator: Any, write_only: Any, instance: Any, schema: dict) -> Iterator:
    if write_only is True:
        yield ValidationError("write-only property must not appear in a response", validator="writeOnly")


def _properties_no_unknown(validator: Any, properties: dict, instance: Any, schema: dict) -> Iterator:
    yield from _BASE_PROPERTIES(validator, properties, instance, schema)
    if isinstance(instance, dict) and "additionalProperties" not in schema:
        for name in sorted(set(instance) - set(properties)):
            error = ValidationError(f"'{name}' is not a property defined by the spec", validator="unknown")
            error.path.append(name)  # point at the offending key, not its parent
            yield error


@cache
def _validator(schema: str, spec: str, *, request: bool, strict: bool) -> Any:
    extra: dict[str, Any] = (
        {"readOnly": _read_only_in_request} if request else {"writeOnly": _write_only_in_response}
    )
    if strict:
        extra["properties"] = _properties_no_unknown
    cls = validators.extend(Draft4Validator, extra)
    many = schema.endswith("[]")
    ref = {"$ref": f"#/components/schemas/{schema.removesuffix('[]')}"}
    root: dict[str, Any] = {"type": "array", "items": ref} if many else dict(ref)
    # OpenAPI is not a JSON-Schema document; graft its components into the root so local $refs resolve.
    root["components"] = load_spec(spec)["components"]
    return cls(root, format_checker=FormatChecker(formats=("uuid",)))


def _collect(errors: Iterator[ValidationError]) -> list[Violation]:
    found = {Violation(_path(e.absolute_path), str(e.validator), _message(e)) for e in errors}
    return sorted(found, key=lambda v: (v.path, v.keyword, v.message))


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: ValidationError) -> str:
    if error.validator == "maxLength":
        return f"longer than {error.validator_value} characters ({len(error.instance)})"
    return error.message
