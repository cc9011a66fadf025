"""Zoho's data centres: the exact accounts servers and the CRM API host of each.

An OAuth callback names the person's data centre (`accounts-server`), and the token answer
names the API host (`api_domain`). The authorization code and ZOHO_CLIENT_SECRET are sent to
the first, and every later CRM call (with the access token) to the second, so both must be
Zoho's own: exactly one of the pairs below. Taken from Zoho's multi-DC documentation:

- https://www.zoho.com/accounts/protocol/oauth/multi-dc.html (the accounts servers)
- https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html (CRM: `accounts-server` in the
  callback, the `www.zohoapis.*` API domains)
- https://www.bigin.com/developer/docs/apis/multi-dc.html (accounts server -> API domain, SA and CA)

A local stand-in is reachable only through explicit configuration (ZOHO_ACCOUNTS_URL), never
through a callback parameter; such a server is expected to answer its own API too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataCentre:
    code: str
    accounts_url: str
    api_domain: str


DATA_CENTRES = (
    DataCentre("US", "https://accounts.zoho.com", "https://www.zohoapis.com"),
    DataCentre("EU", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    DataCentre("IN", "https://accounts.zoho.in", "https://www.zohoapis.in"),
    DataCentre("AU", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    DataCentre("JP", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    DataCentre("CA", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    DataCentre("CN", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    DataCentre("SA", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    DataCentre("UK", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
)
BY_ACCOUNTS_URL = {dc.accounts_url: dc for dc in DATA_CENTRES}


def data_centre(accounts_url: str) -> DataCentre | None:
    """The data centre whose accounts server is exactly `accounts_url` (a trailing / aside)."""
    return BY_ACCOUNTS_URL.get(accounts_url.rstrip("/"))


def expected_api_domain(accounts_url: str) -> str:
    """The only API host a token from `accounts_url` may name.

    A Zoho accounts server: its data centre's zohoapis host. Anything else can only be the
    configured ZOHO_ACCOUNTS_URL (a local stand-in), which serves the API itself.
    """
    known = data_centre(accounts_url)
    return known.api_domain if known else accounts_url.rstrip("/")


def api_domain_ok(accounts_url: str, api_domain: str | None) -> bool:
    return bool(api_domain) and str(api_domain).rstrip("/") == expected_api_domain(accounts_url)
