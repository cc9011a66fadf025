"""Helpers for the Xero stand-in's own tests: an authorised client over the `xero_sandbox` fixture.

`xero_sandbox` is overridden here with the same contract as tests/conftest.py (a brand-new
`XeroSandbox()` per test, served over HTTP) but one server for the whole session: stopping a
werkzeug server waits out its 0.5 s poll interval, which would dominate this suite's run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.common import ServerThread
from sandbox.seed_data import XERO_TENANT_ID
from sandbox.xero import XeroSandbox
from tests.conftest import Running

CLIENT_ID = "sandbox-xero-client-id"
CLIENT_SECRET = "sandbox-xero-client-secret"
INITIAL_REFRESH_TOKEN = "sandbox-xero-refresh-token"
API = "/api.xro/2.0"


def refresh(http: httpx.Client, refresh_token: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return http.post("/connect/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))


@dataclass
class XeroApi:
    """An httpx client with a valid access token and the seed tenant, for /api.xro/2.0 calls."""

    app: Any
    http: httpx.Client
    access_token: str
    refresh_token: str
    tenant_id: str = XERO_TENANT_ID

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
            **extra,
        }

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return self.http.request(method, API + path, headers={**self.headers(), **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def save(
        self, *contacts: dict[str, Any], method: str = "POST", summarize: bool | None = False
    ) -> httpx.Response:
        params = {} if summarize is None else {"summarizeErrors": str(summarize).lower()}
        return self.request(method, "/Contacts", params=params, json={"Contacts": list(contacts)})


class _CurrentApp:
    """WSGI app that forwards to whichever XeroSandbox the running test created."""

    app: XeroSandbox | None = None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        assert self.app is not None, "request outside a test"
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _xero_server() -> Iterator[tuple[_CurrentApp, ServerThread]]:
    current = _CurrentApp()
    server = ServerThread(current).start()
    yield current, server
    server.stop()


@pytest.fixture
def xero_sandbox(_xero_server: tuple[_CurrentApp, ServerThread]) -> Iterator[Running]:
    current, server = _xero_server
    current.app = XeroSandbox()
    yield Running(app=current.app, url=server.url)
    current.app = None


@pytest.fixture
def http(xero_sandbox: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=xero_sandbox.url, timeout=10) as client:
        yield client


@pytest.fixture
def xero(xero_sandbox: Any, http: httpx.Client) -> XeroApi:
    tokens = refresh(http, INITIAL_REFRESH_TOKEN).raise_for_status().json()
    return XeroApi(xero_sandbox.app, http, tokens["access_token"], tokens["refresh_token"])


def contact_names(response: httpx.Response) -> list[str]:
    return [c["Name"] for c in response.json()["Contacts"]]
