"""Fixtures for the Zoho stand-in's own tests.

`zoho_sandbox` gives each test a fresh, seeded `ZohoSandbox` like the fixture in tests/conftest.py,
but behind one HTTP server shared by the whole session: stopping a werkzeug server costs half a
second (its poll interval), which would otherwise dominate these tests' run time.
`api` is an httpx client already holding a live access token; `receiver` plays our webhook
endpoint and records what the CRM sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from sandbox.common import ServerThread
from sandbox.specs import zoho_spec
from sandbox.zoho import ZohoSandbox
from tests.conftest import Running

ACME = "5725767000000400001"  # seed Account 1: Add_to_Xero, no primary flag on its one contact
BLUE_MOUNTAIN = "5725767000000400002"  # three contacts, one primary
COASTAL = "5725767000000400004"  # Add_to_Xero false
ISLAND = "5725767000000400012"  # no contacts
BRUNO = "5725767000000500002"  # Blue Mountain's primary contact


def assert_contract(response: httpx.Response) -> None:
    """The answer fits Zoho's official OpenAPI description of the endpoint."""
    body = response.content or None
    errors = zoho_spec.response_errors(
        response.request.method, response.request.url.path, response.status_code, body
    )
    assert errors == [], errors


class Swap:
    """A WSGI app forwarding to whichever app the current test installed."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def zoho_server() -> Iterator[tuple[Swap, str]]:
    swap = Swap()
    with ServerThread(swap) as server:
        yield swap, server.url


@pytest.fixture
def zoho_sandbox(zoho_server: tuple[Swap, str]) -> Iterator[Running]:
    swap, url = zoho_server
    swap.app = ZohoSandbox()
    yield Running(app=swap.app, url=url)
    swap.app = None


@pytest.fixture
def api(zoho_sandbox: Any) -> Iterator[httpx.Client]:
    token = zoho_sandbox.app.access_token()
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    with httpx.Client(base_url=zoho_sandbox.url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def admin(zoho_sandbox: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=zoho_sandbox.url + "/__sandbox__", timeout=10) as client:
        yield client


@dataclass
class Receiver:
    """Plays our service's webhook endpoint."""

    status: int = 200
    answer: dict[str, Any] = field(default_factory=lambda: {"message": "Queued for sync"})
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._arrived:
            self.requests.append(
                {"path": request.path, "headers": dict(request.headers), "raw": request.get_data()}
            )
            self._arrived.notify_all()
        time.sleep(self.delay)
        return Response(json.dumps(self.answer), status=self.status, content_type="application/json")(
            environ, start_response
        )

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
        return list(self.requests)


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[tuple[Swap, str]]:
    swap = Swap()
    with ServerThread(swap) as server:
        yield swap, server.url


@pytest.fixture
def receiver(receiver_server: tuple[Swap, str]) -> Iterator[Receiver]:
    swap, url = receiver_server
    swap.app = Receiver(url=url + "/webhooks/zoho")
    yield swap.app
    swap.app = None
