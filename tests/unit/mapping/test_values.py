"""Single-value rules: emptiness, text, types, lookups, e-mail format."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.mapping.values import ValueProblem, convert, is_empty, lookup_key, to_text
from chalicelib.mapping.xero_fields import is_valid_email, xero_length


@pytest.mark.parametrize("value", [None, "", "  \t", [], {}])
def test_empty(value: Any) -> None:
    assert is_empty(value)
    assert to_text(value) is None


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "x"])
def test_not_empty(value: Any) -> None:
    assert not is_empty(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (" a ", "a"),
        (5, "5"),
        (5.0, "5"),
        (5.25, "5.25"),
        ({"name": " Jane Doe ", "id": "1"}, "Jane Doe"),
        (["Red", " ", "Blue"], "Red, Blue"),
        (True, "Yes"),
    ],
)
def test_to_text(value: Any, text: str) -> None:
    assert to_text(value) == text


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("5", "number", 5.0),
        (" 12.5 ", "number", 12.5),
        (7, "number", 7.0),
        ("-3", "integer", -3),
        (14.0, "integer", 14),
        (True, "boolean", True),
        ("false", "boolean", False),
        ("Yes", "boolean", True),
        (None, "integer", None),
        ("  ", "number", None),
        (12, "string", "12"),
    ],
)
def test_convert(value: Any, kind: Any, expected: Any) -> None:
    result = convert(value, kind)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("ten", "number", "a number, like 5 or 12.5"),
        (True, "number", "a number, like 5 or 12.5"),
        (float("nan"), "number", "a number, like 5 or 12.5"),
        ("5%", "number", "a number, like 5 or 12.5"),
        ("1.5", "integer", "a whole number, like 14"),
        ("maybe", "boolean", "ticked or unticked"),
    ],
)
def test_convert_refuses(value: Any, kind: Any, expected: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        convert(value, kind)
    assert caught.value.expected == expected


def test_lookup_key_ignores_case_and_spacing() -> None:
    assert lookup_key("  Of the  Following\tmonth ") == lookup_key("of the following month")
    assert lookup_key(None) is None


@pytest.mark.parametrize(
    "address",
    ["alice@acme.example", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x_y-z@a-b.io"],
)
def test_valid_emails(address: str) -> None:
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "reception@harbour",
        "jürgen@example.de",
        "lea@zürich.ch",
        "two@@example.com",
        "a@b@example.com",
        "no-at.example.com",
        "space in@example.com",
        ".lead@example.com",
        "trail.@example.com",
        "dou..ble@example.com",
        "a@-bad.example.com",
        "a@example.c",
        "a@example.123",
        "@example.com",
        "a@",
    ],
)
def test_invalid_emails(address: str) -> None:
    assert not is_valid_email(address)


def test_xero_length_counts_utf16_units() -> None:
    assert xero_length("Zürich") == 6
    assert xero_length("\N{GRINNING FACE}") == 2
