"""Field-by-field checks of record writes, answering Zoho's per-record INVALID_DATA errors.

Each checker turns a wire value into the stored value (DateTimes become epoch seconds, lookups
become the target's id) or returns the error Zoho would give for that record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import error_body
from .metadata import USERS, FieldDef
from .timefmt import parse_date, parse_datetime

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# A domain name with or without a scheme; with a scheme any host (localhost, an IP) will do,
# so links into the local Xero stand-in are accepted too.
URL_RE = re.compile(
    r"^(?:(?:https?://)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}|https?://[A-Za-z0-9.-]+)(?::\d+)?(?:[/?#]\S*)?$"
)
INT32 = 2**31 - 1


class FieldError(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["message"])
        self.body = body


def invalid(field: FieldDef, json_path: str, **extra: Any) -> FieldError:
    details = {"api_name": field.api_name, "json_path": json_path, **extra}
    return FieldError(error_body("INVALID_DATA", "invalid data", details))


def _expect(field: FieldDef, json_path: str) -> FieldError:
    return invalid(field, json_path, expected_data_type=field.data_type)


def _check_length(field: FieldDef, value: str, json_path: str) -> str:
    if field.length is not None and len(value) > field.length:
        # The spec types maximum_length as a string.
        raise invalid(field, json_path, maximum_length=str(field.length))
    return value


def _text(field: FieldDef, value: Any, json_path: str) -> Any:
    if not isinstance(value, str):
        raise _expect(field, json_path)
    return _check_length(field, value, json_path)


def _patterned(pattern: re.Pattern[str]) -> Callable[[FieldDef, Any, str], Any]:
    def check(field: FieldDef, value: Any, json_path: str) -> Any:
        value = _text(field, value, json_path)
        if value and not pattern.match(value):
            raise _expect(field, json_path)
        return value

    return check


def _boolean(field: FieldDef, value: Any, json_path: str) -> Any:
    if not isinstance(value, bool):
        raise _expect(field, json_path)
    return value


def _integer(field: FieldDef, value: Any, json_path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > INT32:
        raise _expect(field, json_path)
    return value


def _double(field: FieldDef, value: Any, json_path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _expect(field, json_path)
    return float(value)


def _datetime(field: FieldDef, value: Any, json_path: str) -> Any:
    parsed = parse_datetime(value)
    if parsed is None:
        raise _expect(field, json_path)
    return int(parsed.timestamp())


def _date(field: FieldDef, value: Any, json_path: str) -> Any:
    if parse_date(value) is None:
        raise _expect(field, json_path)
    return value


def _picklist(field: FieldDef, value: Any, json_path: str) -> Any:
    if value == "" or value == "-None-":
        return None
    if not isinstance(value, str) or value not in field.picklist:
        raise invalid(field, json_path)
    return value


CHECKERS: dict[str, Callable[[FieldDef, Any, str], Any]] = {
    "text": _text,
    "textarea": _text,
    "phone": _text,
    "email": _patterned(EMAIL_RE),
    "website": _patterned(URL_RE),
    "boolean": _boolean,
    "integer": _integer,
    "double": _double,
    "percent": _double,
    "currency": _double,
    "datetime": _datetime,
    "date": _date,
    "picklist": _picklist,
}


def lookup_id(value: Any) -> Any:
    """The id a lookup value names: {"id": ...} or the bare id string."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def check_value(field: FieldDef, value: Any, json_path: str, exists: Callable[[str, str], bool]) -> Any:
    """The stored form of `value`, or raise FieldError. `exists(module, id)` checks lookups."""
    if value is None:
        if field.mandatory:
            raise FieldError(
                error_body(
                    "MANDATORY_NOT_FOUND",
                    "required field not found",
                    {"api_name": field.api_name, "json_path": json_path},
                )
            )
        return None
    if field.is_lookup:
        return _lookup(field, value, json_path, exists)
    if field.mandatory and value == "":
        return check_value(field, None, json_path, exists)
    return CHECKERS[field.data_type](field, value, json_path)


def _lookup(field: FieldDef, value: Any, json_path: str, exists: Callable[[str, str], bool]) -> str:
    target = lookup_id(value)
    if not isinstance(value, dict | str) or not isinstance(target, str) or not target.isdigit():
        raise invalid(field, json_path, expected_data_type="jsonobject")
    known = target in USERS if field.lookup_module == "users" else exists(field.lookup_module or "", target)
    if not known:
        raise FieldError(
            error_body(
                "INVALID_DATA",
                "the id given seems to be invalid",
                {"api_name": field.api_name, "json_path": json_path},
            )
        )
    return target
