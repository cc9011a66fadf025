"""Turning one Zoho value into the value Xero gets: emptiness, text, types and lookups.

Zoho CRM v8 returns `null` for empty fields, numbers for number/currency fields,
`true`/`false` for checkboxes, `{"name", "id"}` for lookups and lists for multi-select
picklists. Xero never gets a null: an empty value is simply left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from chalicelib.mapping.xero_fields import Kind


class ValueProblem(ValueError):
    """A Zoho value cannot become the kind of value Xero needs.

    `expected` completes the sentence "<field> must be …" for the user.
    """

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


_EXPECTED: Mapping[str, str] = {
    "string": "text",
    "number": "a number, like 5 or 12.5",
    "integer": "a whole number, like 14",
    "boolean": "ticked or unticked",
}


def is_empty(value: Any) -> bool:
    """Zoho's "nothing here": null, blank text, an empty list or lookup."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def to_text(value: Any) -> str | None:
    """The stripped text form of a Zoho value, or None when it is empty."""
    if is_empty(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a currency 1200.0 is written 1200, as Zoho shows it
    if isinstance(value, dict):
        return to_text(value.get("name"))  # a lookup reads as the name of the record
    if isinstance(value, list | tuple):
        texts = [t for t in (to_text(v) for v in value) if t]
        return ", ".join(texts) or None
    return str(value)


def convert(value: Any, kind: Kind) -> Any:
    """`value` as `kind`; raises ValueProblem when it does not fit. Empty stays None."""
    if is_empty(value):
        return None
    if kind == "string":
        return to_text(value)
    if kind == "boolean":
        return _to_bool(value)
    if kind == "integer":
        return _to_int(value)
    if kind == "number":
        return _to_number(value)
    raise ValueProblem(_EXPECTED.get(kind, kind))


def expected(kind: Kind) -> str:
    return _EXPECTED.get(kind, kind)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueProblem(_EXPECTED["boolean"])


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _to_number(value: Any) -> float:
    # bool is an int in Python; a checkbox is not a number.
    if isinstance(value, bool):
        raise ValueProblem(_EXPECTED["number"])
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueProblem(_EXPECTED["number"])
        return float(value)
    text = str(value).strip()
    if not _NUMBER.match(text):
        raise ValueProblem(_EXPECTED["number"])
    return float(text)


def _to_int(value: Any) -> int:
    try:
        number = _to_number(value)
    except ValueProblem:
        raise ValueProblem(_EXPECTED["integer"]) from None
    if not number.is_integer():
        raise ValueProblem(_EXPECTED["integer"])
    return int(number)


def lookup_key(value: Any) -> str | None:
    """How a picklist value is matched against a lookup table.

    Case and runs of spaces are ignored: a label retyped in Zoho's picklist editor
    ("Day(s) after  invoice date") should still match.
    """
    text = to_text(value)
    return " ".join(text.split()).casefold() if text is not None else None


def show(value: Any) -> str:
    """A value quoted for a message, cut short so one bad field cannot flood it."""
    text = value.strip() if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"
