"""Xero's wire conventions: JSON bodies, MS-JSON dates, error envelopes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.wrappers import Response

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json; charset=utf-8"


def new_guid() -> str:
    return str(uuid.uuid4())


def is_guid(value: str) -> bool:
    return bool(GUID_RE.match(value or ""))


def ms_date(epoch_seconds: float, *, offset: bool = True) -> str:
    """`/Date(1732550400000+0000)/` - contacts carry the offset, envelopes do not."""
    millis = int(epoch_seconds * 1000)
    return f"/Date({millis}+0000)/" if offset else f"/Date({millis})/"


def identity_date(epoch_seconds: float) -> str:
    """Identity service timestamps: ISO with 7 fractional digits and no zone, e.g.
    `2019-12-07T18:46:19.5165400` (as in the identity spec's example)."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"


def problem_date(epoch_seconds: float) -> str:
    """The date format inside `TokenExpired: token expired at ...` details."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%m/%d/%Y %H:%M:%S")


def parse_http_or_iso_date(value: str | None) -> float | None:
    """If-Modified-Since: Xero accepts ISO 8601 (the SDKs send that) and RFC 1123 dates."""
    if not value:
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:  # Xero treats zone-less timestamps as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type=JSON_TYPE)


def problem(status: int, title: str, detail: str) -> Response:
    """The RFC 7807-style body Xero's gateway uses for 401/403/404."""
    body = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": new_guid(),
        "Extensions": {},
    }
    return Response(json.dumps(body), status=status, content_type=PROBLEM_TYPE)


def api_exception(error_number: int, kind: str, message: str, elements: list | None = None) -> Response:
    """The Accounting API's own 400 envelope (spec `components.schemas.Error`)."""
    body: dict[str, Any] = {"ErrorNumber": error_number, "Type": kind, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return json_response(body, 400)


def envelope(provider_name: str, now: float, **collections: Any) -> dict[str, Any]:
    """Every Accounting 200 starts with the same four fields."""
    return {
        "Id": new_guid(),
        "Status": "OK",
        "ProviderName": provider_name,
        "DateTimeUTC": ms_date(now, offset=False),
        **collections,
    }


def parse_bool(value: str | None) -> bool:
    """.NET's bool parsing: `true`/`True`/`TRUE`; anything else is false."""
    return (value or "").strip().lower() == "true"
