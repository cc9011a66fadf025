"""Helpers for the Xero stand-in's own tests: an authorised client over the `xero_sandbox` fixture.

`xero_sandbox` is overridden here with the same contract as tests/conftest.py (a brand-new
`XeroSandbox()` per test, served over HTTP) but one server for the whole session: stopping a
werkzeug server waits out its 0.5 s poll interval, which would dominate this suite's run time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Request, Response

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
    current.app.close()  # the webhook delivery thread, if a test enabled webhooks
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


# --- a webhook receiver, as our service (or a careless one) would answer Xero ------------------

WEBHOOK_KEY = "test-webhook-key"


def expected_signature(key: str, raw: bytes) -> str:
    """Computed here, independently of sandbox.xero.webhooks.sign."""
    return base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha256).digest()).decode()


@dataclass
class Received:
    raw: bytes
    signature: str

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)

    @property
    def signed_correctly(self) -> bool:
        return hmac.compare_digest(expected_signature(WEBHOOK_KEY, self.raw), self.signature)


class Receiver:
    """A tiny webhook endpoint. `mode`: correct (200/401 by signature, empty body), lazy (always
    200), deny (always 401), chatty (correct statuses, with a body), fail (500). `fail_next` answers 500 that many
    times first; `hold` (an Event) makes every answer wait until it is set."""

    def __init__(self) -> None:
        self.mode = "correct"
        self.fail_next = 0
        self.hold: threading.Event | None = None
        self.received: list[Received] = []
        self.arrived = threading.Event()  # a request came in (it may still be held)
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        got = Received(request.get_data(), request.headers.get("x-xero-signature", ""))
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(10)
        with self._lock:
            self.received.append(got)
            failing = self.fail_next > 0
            self.fail_next -= failing
        if failing or self.mode == "fail":
            status, body = 500, b""
        elif self.mode == "lazy":
            status, body = 200, b""
        elif self.mode == "deny":
            status, body = 401, b""
        else:
            status = 200 if got.signed_correctly else 401
            body = b'{"ok": true}' if self.mode == "chatty" else b""
        return Response(body, status=status)(environ, start_response)

    def events(self) -> list[dict[str, Any]]:
        """Every event in every correctly signed, non-empty payload received, in arrival order."""
        return [e for r in self.received if r.signed_correctly for e in r.body["events"]]

    def payloads(self) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.body["events"]]

    def wait_for_events(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """For the few tests of the background thread: poll until n events arrived."""
        ends = time.monotonic() + timeout
        while len(self.events()) < n and time.monotonic() < ends:
            time.sleep(0.02)
        return self.events()


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[tuple[list[Receiver], ServerThread]]:
    current: list[Receiver] = [Receiver()]
    server = ServerThread(lambda environ, start: current[0](environ, start)).start()
    yield current, server
    server.stop()


@dataclass
class Hook:
    receiver: Receiver
    url: str


@pytest.fixture
def hook(_receiver_server: tuple[list[Receiver], ServerThread]) -> Hook:
    """A fresh receiver (answering correctly) at `url`."""
    current, server = _receiver_server
    current[0] = Receiver()
    return Hook(current[0], f"{server.url}/webhooks/xero")
