"""A cookie-keeping client for the portal over Chalice's local gateway (unit and security suites)."""

from __future__ import annotations

import re
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
