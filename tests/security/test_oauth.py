"""OAuth: Zoho's data centres are an exact allowlist, and a callback's state works once, server-side."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
from chalice.test import Client

from chalicelib.deadline import Deadline
from chalicelib.models.sync import TokenSet
from chalicelib.services.connect import ConnectConfig, ConnectError, Connector
from chalicelib.zoho.datacentres import DATA_CENTRES
from tests.portal_browser import Browser

STAND_IN = "http://127.0.0.1:8123"  # a local Zoho stand-in, as ZOHO_ACCOUNTS_URL configures it
HOSTILE = [
    "https://accounts.zoho.attacker.example",
    "https://accounts.zoho.com.attacker.example",
    "https://accounts.zoho.com@attacker.example",
    "https://accounts.zoho.com:8443",
    "http://accounts.zoho.com",
    "https://accounts.zoho.co",
    "https://accounts-zoho.com",
    "https://ACCOUNTS.ZOHO.COM.attacker.example",
    "https://accounts.zoho.com/oauth/v2/token?x=",
    "https://accounts.zoho.com\r\nX-Injected: 1",
    "http://127.0.0.1:9999",  # a local server that is not the configured one
    "https://accounts.zohocloud.ca.attacker.example",
]


class ZohoAccountsFake:
    """A Zoho accounts server's token endpoint: answers with the api_domain it is given."""

    def __init__(self, url: str, api_domain: str | None, contacted: list[str]) -> None:
        self.url, self.api_domain, self.contacted = url, api_domain, contacted

    def exchange_code(self, code: str, redirect_uri: str, deadline: Deadline) -> TokenSet:
        self.contacted.append(self.url)
        return TokenSet(provider="zoho", access_token="A", refresh_token="R", api_domain=self.api_domain)

    exchange_self_client_code = None  # not used here


class Tokens:
    def __init__(self) -> None:
        self.stored: list[TokenSet] = []

    def get(self, provider: str) -> TokenSet | None:
        return None

    def replace(self, token_set: TokenSet) -> TokenSet:
        self.stored.append(token_set)
        return token_set


def connector(api_domain_for: Any, contacted: list[str], tokens: Tokens) -> Connector:
    return Connector(
        ConnectConfig(xero_login_url="", xero_client_id="", zoho_accounts_url=STAND_IN, zoho_client_id="z"),
        tokens=tokens,
        xero_identity=None,  # type: ignore[arg-type]
        zoho_identity_at=lambda url: ZohoAccountsFake(url, api_domain_for(url), contacted),
    )


@pytest.mark.parametrize("server", HOSTILE)
def test_a_callback_naming_another_accounts_server_is_refused_before_any_call(server: str) -> None:
    contacted: list[str] = []
    tokens = Tokens()
    with pytest.raises(ConnectError, match="not one of Zoho's data centres"):
        connector(lambda url: url, contacted, tokens).complete(
            "zoho", "code", "https://cb", accounts_server=server
        )
    assert contacted == []
    assert tokens.stored == []


@pytest.mark.parametrize("dc", DATA_CENTRES, ids=lambda dc: dc.code)
def test_each_zoho_data_centre_connects_with_its_own_api_host_only(dc: Any) -> None:
    contacted: list[str] = []
    tokens = Tokens()
    result = connector(lambda url: dc.api_domain, contacted, tokens).complete(
        "zoho", "code", "https://cb", accounts_server=dc.accounts_url
    )
    assert contacted == [dc.accounts_url]
    assert result.api_domain == dc.api_domain
    assert [t.api_domain for t in tokens.stored] == [dc.api_domain]


@pytest.mark.parametrize(
    "api_domain",
    ["https://www.zohoapis.attacker.example", "https://www.zohoapis.eu", "http://www.zohoapis.com", None],
)
def test_an_api_domain_that_is_not_the_data_centres_own_is_never_stored(api_domain: str | None) -> None:
    tokens = Tokens()
    with pytest.raises(ConnectError, match="API host"):
        connector(lambda url: api_domain, [], tokens).complete(
            "zoho", "code", "https://cb", accounts_server="https://accounts.zoho.com"
        )
    assert tokens.stored == []


def test_the_configured_stand_in_is_reachable_only_because_it_is_configured() -> None:
    contacted: list[str] = []
    tokens = Tokens()
    connector(lambda url: url, contacted, tokens).complete(
        "zoho", "code", "https://cb", accounts_server=STAND_IN
    )
    connector(lambda url: url, contacted, tokens).complete("zoho", "code", "https://cb")
    assert contacted == [STAND_IN, STAND_IN]


# --- through the portal -----------------------------------------------------------------------


def _start(browser: Browser, provider: str) -> str:
    browser.get("/portal/connect")
    started = browser.post(f"/portal/connect/{provider}", {"csrf_token": browser.csrf()})
    assert started.status_code == 303
    return parse_qs(urlparse(started.headers["Location"]).query)["state"][0]


def test_the_portal_shows_why_a_hostile_accounts_server_was_refused(signed_in: Browser) -> None:
    state = _start(signed_in, "zoho")
    hostile = quote("https://accounts.zoho.attacker.example", safe="")
    page = signed_in.get(f"/portal/connect/zoho/callback?code=c&state={state}&accounts-server={hostile}")
    assert page.status_code == 400  # bad input in the callback, not a failing upstream
    assert (
        b"not one of Zoho&#39;s data centres" in page.body or b"not one of Zoho's data centres" in page.body
    )


def test_a_replayed_callback_is_refused_whatever_cookie_it_carries(
    signed_in: Browser, app_client: Client
) -> None:
    state = _start(signed_in, "xero")
    before_callback = dict(signed_in.cookies)  # the pre-callback cookies, OAuth cookie included
    first = signed_in.get(f"/portal/connect/xero/callback?code=made-up&state={state}")
    # Past the state check: the code went to Xero (the stand-in refuses this made-up one).
    assert first.status_code == 502
    replay = Browser(app_client)
    replay.cookies = before_callback
    again = replay.get(f"/portal/connect/xero/callback?code=made-up&state={state}")
    assert again.status_code == 303
    assert "notice=connect-expired" in again.headers["Location"]


def test_a_state_started_for_one_provider_does_not_finish_the_other(signed_in: Browser) -> None:
    state = _start(signed_in, "xero")
    answer = signed_in.get(f"/portal/connect/zoho/callback?code=c&state={state}")
    assert "notice=connect-expired" in answer.headers["Location"]


def test_a_state_from_another_session_is_refused(signed_in: Browser, app_client: Client) -> None:
    state = _start(signed_in, "xero")
    other = Browser(app_client)
    other.sign_in()
    other.cookies["portal_oauth"] = signed_in.cookies["portal_oauth"]
    answer = other.get(f"/portal/connect/xero/callback?code=c&state={state}")
    assert "notice=connect-expired" in answer.headers["Location"]
