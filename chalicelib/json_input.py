"""Reading a JSON request body without letting its shape hurt us.

`json.loads` recurses once per nesting level, so a body nested a few thousand deep raises
RecursionError (a 500) before any validation runs. Bodies are checked for size and nesting
first, in one linear pass, and every problem is an InvalidRequestError with a plain message
(a 400 or 413 at the route).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import InvalidRequestError

MAX_DEPTH = 32
MAX_BYTES = 64 * 1024


class BodyTooLargeError(InvalidRequestError):
    """The body is over the size limit (HTTP 413)."""


def load_json(raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body; InvalidRequestError when it is too big, too deep, not UTF-8 or not JSON."""
    data = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
    check_size(data, max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not valid UTF-8 text.") from None
    if nesting_depth(text) > max_depth:
        raise InvalidRequestError(f"The request body is nested more than {max_depth} levels deep.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidRequestError("The request body is not valid JSON.") from None


def check_size(data: bytes, max_bytes: int = MAX_BYTES) -> None:
    """BodyTooLargeError (a 413) when the raw body is over the limit, before anything reads it."""
    if len(data) > max_bytes:
        raise BodyTooLargeError(f"The request body is larger than {max_bytes // 1024} KB.")


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings (stops counting past any sane limit)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > 10 * MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest
