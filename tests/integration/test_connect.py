"""`python -m chalicelib.cli connect xero|zoho` end to end against the Xero and Zoho stand-ins.

A fake browser plays the person: it opens the consent page the command prints, presses
Allow (or Deny), and follows the redirect to the command's local callback with httpx.
The token set must land where the service reads it: the service's own clients then work
(with no refresh token in the environment to fall back on).
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest

from chalicelib.cli import connect as cli
from chalicelib.deadline import Deadline
from chalicelib.services.connect import XERO_SCOPES, ZOHO_SCOPES
from sandbox.seed_data import XERO_SHORT_CODE, XERO_TENANT_ID, XERO_TENANT_NAME, account_id
from sandbox.stack import LocalStack
from sandbox.xero.config import TenantConfig

SECOND_TENANT = TenantConfig("0b9c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e", "Second Company (NZ)", "!S3c0nd")


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.fields[values["name"]] = values.get("value", "")


class Browser:
    """Opens the consent page, presses a button, follows the provider's redirect."""

    def __init__(self, decision: str, tamper: dict[str, str] | None = None) -> None:
        self.decision = decision
        self.tamper = tamper or {}  # query values to change in the redirect (an attacker's)
        self.opened: list[str] = []
        self.callback: httpx.Response | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        with httpx.Client(timeout=10) as http:
            page = http.get(url)
            assert page.status_code == 200, page.text
            form = _Form()
            form.feed(page.text)
            answer = http.post(urljoin(url, form.action), data={**form.fields, "decision": self.decision})
            assert answer.status_code in (302, 303), answer.text
            self.callback = http.get(self._tampered(answer.headers["location"]))
        return True

    def _tampered(self, location: str) -> str:
        if not self.tamper:
            return location
        parts = urlsplit(location)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | self.tamper
        return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def service(live: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """The local stack (moto, both stand-ins) with nothing connected: no seed refresh tokens."""
    from chalicelib import wiring

    monkeypatch.setenv("XERO_LOGIN_URL", live.xero_url)
    for name in ("XERO_TENANT_ID", "XERO_REFRESH_TOKEN", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    wiring._container.cache_clear()
    yield live
    wiring._container.cache_clear()


def connect(*argv: str, browser: Browser | None = None) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["connect", *argv, "--port", "0", "--timeout", "10"])
    out = io.StringIO()
    code = cli.run(args, open_url=browser or Browser("allow"), out=out)
    return code, out.getvalue()


def stored(provider: str) -> Any:
    from chalicelib.wiring import container

    return container().tokens.get(provider)


def test_connect_xero_stores_the_connection_the_service_uses(service: LocalStack) -> None:
    browser = Browser("allow")

    code, output = connect("xero", browser=browser)

    assert code == 0, output
    assert f'Connected Xero organisation "{XERO_TENANT_NAME}"' in output
    assert XERO_TENANT_ID in output
    authorize = parse_qs(urlsplit(browser.opened[0]).query)
    assert authorize["scope"] == [" ".join(XERO_SCOPES)]
    assert browser.callback is not None and browser.callback.status_code == 200
    token_set = stored("xero")
    assert token_set.tenant_id == XERO_TENANT_ID and token_set.refresh_token
    # The service's own Xero client reads the stored connection: GET /Organisation works.
    from chalicelib.wiring import container

    assert container().xero.organisation_short_code(Deadline(10)) == XERO_SHORT_CODE


def test_xero_with_two_organisations_asks_which_one_then_switches(service: LocalStack) -> None:
    xero = service.xero
    xero.configure(tenants=[xero.config.tenants[0], SECOND_TENANT])
    xero.reset(keep_config=True)

    code, output = connect("xero")

    assert code == 2, output
    assert XERO_TENANT_NAME in output and SECOND_TENANT.name in output
    assert "--choose-tenant" in output
    assert stored("xero").tenant_id is None

    code, output = connect("xero", "--choose-tenant", SECOND_TENANT.tenant_id)

    assert code == 0, output
    assert f'"{SECOND_TENANT.name}" is now the one synced' in output
    assert stored("xero").tenant_id == SECOND_TENANT.tenant_id


def test_xero_organisation_chosen_at_connect_time(service: LocalStack) -> None:
    xero = service.xero
    xero.configure(tenants=[xero.config.tenants[0], SECOND_TENANT])
    xero.reset(keep_config=True)

    code, output = connect("xero", "--tenant", SECOND_TENANT.tenant_id)

    assert code == 0, output
    assert stored("xero").tenant_id == SECOND_TENANT.tenant_id


def test_connect_zoho_stores_the_connection_the_service_uses(service: LocalStack) -> None:
    browser = Browser("accept")

    code, output = connect("zoho", browser=browser)

    assert code == 0, output
    assert "Connected Zoho CRM" in output
    authorize = parse_qs(urlsplit(browser.opened[0]).query)
    assert authorize["scope"] == [",".join(ZOHO_SCOPES)]
    assert authorize["access_type"] == ["offline"]
    token_set = stored("zoho")
    assert token_set.refresh_token and token_set.api_domain == service.zoho_url
    # The service's own Zoho client reads a seeded Account with it.
    from chalicelib.wiring import container

    record = container().zoho.get_record("Accounts", account_id(1), ["Account_Name"], Deadline(10))
    assert record is not None and record["id"] == account_id(1)


def test_zoho_self_client_code_needs_no_browser(service: LocalStack) -> None:
    # A code as the API console's Self Client would show it (the stand-in issues it at consent).
    consent = httpx.post(
        f"{service.zoho_url}/oauth/v2/auth",
        data={
            "client_id": "sandbox-zoho-client-id",
            "redirect_uri": "https://example.invalid/",
            "decision": "accept",
        },
    )
    grant_code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    opened: list[str] = []

    code, output = connect("zoho", "--code", grant_code, browser=opened.append)  # type: ignore[arg-type]

    assert code == 0, output
    assert not opened
    assert stored("zoho").refresh_token


def test_a_callback_with_someone_elses_state_is_refused(service: LocalStack) -> None:
    code, output = connect("xero", browser=Browser("allow", tamper={"state": "forged"}))

    assert code == 1
    assert "does not belong to the connection you started" in output
    assert stored("xero") is None


def test_denied_consent_connects_nothing(service: LocalStack) -> None:
    code, output = connect("xero", browser=Browser("deny"))

    assert code == 1
    assert "Access was not granted" in output
    assert stored("xero") is None


def test_a_missing_app_setting_is_named(service: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XERO_CLIENT_ID", "")

    code, output = connect("xero")

    assert code == 1
    assert "XERO_CLIENT_ID is not set" in output and "docs/xero-setup.md" in output
