"""No OAuth code, state, token or client secret reaches our logs during a connect through the portal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib import wiring
from tests.portal_browser import Browser


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@pytest.fixture
def our_logs() -> Iterator[Collect]:
    """Everything the app's loggers emit: ours (chalicelib.*, the Powertools logger), and our
    HTTP library's (requests, urllib3) at its most talkative, DEBUG: a request line per call."""
    from chalicelib.observability import logger

    collect = Collect()
    http_library = [logging.getLogger("requests"), logging.getLogger("urllib3")]
    loggers = [logging.getLogger("chalicelib"), logger._logger, *http_library]
    levels = [each.level for each in http_library]
    for each in http_library:
        each.setLevel(logging.DEBUG)
    for each in loggers:
        each.addHandler(collect)
    yield collect
    for each in loggers:
        each.removeHandler(collect)
    for each, level in zip(http_library, levels, strict=True):
        each.setLevel(level)


def test_a_portal_connect_logs_no_code_state_token_or_secret(
    signed_in: Browser,
    xero_sandbox: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    our_logs: Collect,
) -> None:
    caplog.set_level(logging.INFO)  # what a deployed stack logs (LOG_LEVEL defaults to INFO)
    signed_in.get("/portal/connect")
    started = signed_in.post("/portal/connect/xero", {"csrf_token": signed_in.csrf()})
    query = parse_qs(urlparse(started.headers["Location"]).query)
    state, redirect_uri = query["state"][0], query["redirect_uri"][0]
    code = xero_sandbox.app.identity.issue_code("sandbox-xero-client-id", redirect_uri, query["scope"][0])
    page = signed_in.get(f"/portal/connect/xero/callback?code={code}&state={state}")
    assert page.status_code in (200, 303), page.body[:500]
    stored = wiring.container().tokens.get("xero")
    assert stored is not None and stored.refresh_token  # the connect really happened

    logged = capfd.readouterr()
    text = logged.out + logged.err + caplog.text + "\n".join(our_logs.lines)
    assert "connected through the portal" in text  # the log was captured
    assert '"POST /connect/token HTTP/1.1" 200' in text  # and so were urllib3's request lines
    secrets = {
        "code": code,
        "state": state,
        "access token": stored.access_token,
        "refresh token": stored.refresh_token,
        "client secret": "sandbox-xero-client-secret",
        "session secret": "security-suite-session-secret",
        "session cookie": signed_in.cookies["portal_session"],
    }
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert leaked == []
