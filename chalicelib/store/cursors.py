"""The page cursor every listing hands out: the last item's key, base64 of its JSON.

A cursor comes back from the outside world, so decoding checks it belongs to *this*
listing (exactly its key names, string values, the listing's own partition and prefixes):
a crafted cursor is a 400 and never reaches DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence

from chalicelib.store import _dynamo as d
from chalicelib.store.errors import InvalidCursorError

MAX_CURSOR_CHARS = 2048
MAX_VALUE_CHARS = 1024


def encode_cursor(item: d.Item, key_names: Sequence[str]) -> str:
    key = {name: item[name] for name in key_names if name in item}
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(
    cursor: str,
    key_names: Sequence[str],
    fixed: Mapping[str, str],
    prefixes: Mapping[str, str | tuple[str, ...]] | None = None,
) -> d.Item:
    """The start key the cursor carries, or InvalidCursorError."""
    invalid = InvalidCursorError("the page cursor is not valid; start again from the first page")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != set(key_names):
        raise invalid
    values: dict[str, str] = {}
    for name, value in key.items():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)):
            raise invalid
        if not 0 < len(value["S"]) <= MAX_VALUE_CHARS:
            raise invalid
        values[name] = value["S"]
    if any(values[name] != expected for name, expected in fixed.items()):
        raise invalid
    if any(not values[name].startswith(prefix) for name, prefix in (prefixes or {}).items()):
        raise invalid
    return {name: {"S": value} for name, value in values.items()}
