"""Small werkzeug helpers shared by the API and the admin interface."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE, headers=headers)


def empty_response(status: int) -> Response:
    """204/304 like Zoho: no body and no Content-Type (Zoho's SDK treats a typed 204 as a file)."""
    response = Response(status=status)
    response.headers.remove("Content-Type")
    return response


def read_json(request: Request) -> tuple[Any, bool]:
    """(parsed body, ok). An empty body is (None, True); broken JSON is (None, False)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None, True
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False


@dataclass
class Call:
    """One API request on its way through the stand-in, and what the call log keeps of it."""

    request: Request
    template: str = ""
    credits: int = 1
    log: dict[str, Any] = field(default_factory=dict)

    def note(self, text: str) -> None:
        self.log.setdefault("notes", []).append(text)

    def violations(self, items: list[str]) -> None:
        if items:
            self.log.setdefault("contract_violations", []).extend(items)
