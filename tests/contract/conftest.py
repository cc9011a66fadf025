"""Contract tests drive the real app against the stand-ins and check what goes over the wire.

Requests are recorded at our own HTTP sessions (a requests response hook on each upstream's
session), so what is checked is exactly what went over the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.conftest import click, client, drain, live, stack  # noqa: F401


class Sent:
    """One request as it went over the wire."""

    def __init__(self, request: requests.PreparedRequest) -> None:
        parts = urlsplit(request.url or "")
        self.method = request.method
        self.path = parts.path
        self.params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.headers = request.headers
        self.content = request.body or b""


@pytest.fixture
def recorded(live) -> Iterator[list[Sent]]:  # noqa: F811  (the fixture imported above)
    from chalicelib import wiring

    sent: list[Sent] = []

    def record(response: requests.Response, **_: Any) -> None:
        sent.append(Sent(response.request))

    c = wiring.container()
    sessions = [
        c.xero_http.session,
        c.xero_identity_http.session,
        c.zoho_http.session,
        c.zoho_accounts_http.session,
    ]
    for session in sessions:
        session.hooks["response"].append(record)
    yield sent
    for session in sessions:
        session.hooks["response"].remove(record)
