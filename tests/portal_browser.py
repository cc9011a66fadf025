"""A cookie-keeping client for the portal over Chalice's local gateway (unit and security suites)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

PASSWORD = "a long portal password"
HOST = "portal.test"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Browser:
    """Keeps cookies between requests like a browser does (enough for these tests)."""

    def __init__(self, client: Client) -> None:
        self.http = client.http
        self.cookies: dict[str, str] = {}
        self.last: Any = None

    def send(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        headers = dict(headers or {})
        headers.setdefault("host", HOST)
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, body=body)
        for cookie in set_cookies(response):
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";", 1)[0]
        self.last = response
        return response

    def get(self, path: str, **headers: str) -> Any:
        return self.send("GET", path, headers)

    def post(self, path: str, fields: dict[str, str], **headers: str) -> Any:
        return self.send("POST", path, {**FORM, **headers}, urlencode(fields).encode())

    def csrf(self) -> str:
        match = re.search(rb'name="csrf_token" value="([^"]*)"', self.last.body)
        assert match, "the page has no CSRF token"
        return match.group(1).decode()

    def sign_in(self, password: str = PASSWORD) -> Any:
        self.get("/portal/signin")
        return self.post(
            "/portal/signin", {"csrf_token": self.csrf(), "password": password, "next": "/portal"}
        )


def set_cookies(response: Any) -> list[str]:
    value = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
    return [value] if isinstance(value, str) else list(value)


@contextmanager
def app_with(*, build_first: tuple[str, ...] = (), **services: Any) -> Iterator[Client]:
    """Chalice's local gateway over the real app, with the named services of the container replaced.

    `build_first` names real services to build before the replacements go in (they keep the
    real parts they are built from)."""
    from chalicelib import wiring

    wiring._container.cache_clear()
    container = wiring.container()
    for name in build_first:
        getattr(container, name)
    container.__dict__.update(services)
    from app import app

    with Client(app) as client:
        yield client
    wiring._container.cache_clear()


def signed_in_browser(client: Client) -> Browser:
    browser = Browser(client)
    assert browser.sign_in().status_code == 303
    return browser
