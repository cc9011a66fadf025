"""Zoho Accounts: refresh, authorization code, access-token checks on the CRM API."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from .conftest import ACME, assert_contract

CLIENT = {"client_id": "sandbox-zoho-client-id", "client_secret": "sandbox-zoho-client-secret"}
REFRESH = {"grant_type": "refresh_token", "refresh_token": "sandbox-zoho-refresh-token", **CLIENT}


def _refresh(url: str, **overrides: str) -> httpx.Response:
    return httpx.post(f"{url}/oauth/v2/token", params={**REFRESH, **overrides})


def test_refresh_in_the_query_string_returns_an_access_token_and_the_api_domain(zoho_sandbox: Any) -> None:
    answer = _refresh(zoho_sandbox.url)
    body = answer.json()
    assert answer.status_code == 200
    assert body["access_token"].startswith("1000.")
    assert body["api_domain"] == zoho_sandbox.url
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "ZohoCRM.coql.READ" in body["scope"]
    assert "refresh_token" not in body  # Zoho does not rotate refresh tokens


def test_refresh_as_a_form_body_works_too_and_the_refresh_token_keeps_working(zoho_sandbox: Any) -> None:
    first = httpx.post(f"{zoho_sandbox.url}/oauth/v2/token", data=REFRESH).json()
    second = _refresh(zoho_sandbox.url).json()
    assert first["access_token"] != second["access_token"]
    for token in (first["access_token"], second["access_token"]):
        answer = httpx.get(
            f"{zoho_sandbox.url}/crm/v8/Accounts/{ACME}",
            headers={"Authorization": f"Zoho-oauthtoken {token}"},
        )
        assert answer.status_code == 200


def test_a_bad_refresh_token_is_answered_200_with_invalid_code(zoho_sandbox: Any) -> None:
    answer = _refresh(zoho_sandbox.url, refresh_token="1000.nope")
    assert (answer.status_code, answer.json()) == (200, {"error": "invalid_code"})


def test_a_bad_client_is_invalid_client(zoho_sandbox: Any) -> None:
    assert _refresh(zoho_sandbox.url, client_secret="wrong").json() == {"error": "invalid_client"}
    assert _refresh(zoho_sandbox.url, client_id="other").json() == {"error": "invalid_client"}


def test_minting_too_many_access_tokens_is_blocked_like_zoho(zoho_sandbox: Any) -> None:
    zoho_sandbox.app.configure(token_refresh_limit=3)
    answers = [_refresh(zoho_sandbox.url) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 400]
    assert answers[-1].json()["error"] == "Access Denied"
    zoho_sandbox.app.clock.advance(601)  # the window is 10 minutes
    assert "access_token" in _refresh(zoho_sandbox.url).json()


def _consent(url: str, redirect_uri: str = "https://app.example/zoho/callback") -> httpx.Response:
    params = {
        "scope": "ZohoCRM.modules.ALL",
        "client_id": CLIENT["client_id"],
        "response_type": "code",
        "access_type": "offline",
        "redirect_uri": redirect_uri,
        "state": "xyz-123",
    }
    page = httpx.get(f"{url}/oauth/v2/auth", params=params)
    assert page.status_code == 200 and "Accept" in page.text
    return httpx.post(f"{url}/oauth/v2/auth", data={**params, "decision": "accept"})


def test_authorization_code_flow_gives_access_and_refresh_tokens(zoho_sandbox: Any) -> None:
    redirect = _consent(zoho_sandbox.url)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.example/zoho/callback"
    assert query["state"] == "xyz-123"
    assert query["location"] == "us"
    assert query["accounts-server"] == zoho_sandbox.url

    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": "https://app.example/zoho/callback",
        **CLIENT,
    }
    tokens = httpx.post(f"{zoho_sandbox.url}/oauth/v2/token", data=exchange).json()
    assert tokens["access_token"] and tokens["refresh_token"]
    assert tokens["api_domain"] == zoho_sandbox.url
    # The new refresh token works, the code does not work twice.
    assert "access_token" in _refresh(zoho_sandbox.url, refresh_token=tokens["refresh_token"]).json()
    again = httpx.post(f"{zoho_sandbox.url}/oauth/v2/token", data=exchange).json()
    assert again == {"error": "invalid_code"}


def test_an_authorization_code_expires_after_two_minutes(zoho_sandbox: Any) -> None:
    location = _consent(zoho_sandbox.url).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    zoho_sandbox.app.clock.advance(121)
    exchange = {"grant_type": "authorization_code", "code": code, **CLIENT}
    assert httpx.post(f"{zoho_sandbox.url}/oauth/v2/token", data=exchange).json() == {"error": "invalid_code"}


def test_api_calls_without_a_live_token_get_zohos_401(zoho_sandbox: Any) -> None:
    url = f"{zoho_sandbox.url}/crm/v8/Accounts/{ACME}"
    token = _refresh(zoho_sandbox.url).json()["access_token"]
    attempts = {
        "missing": {},
        "unknown": {"Authorization": "Zoho-oauthtoken 1000.unknown.token"},
        "bearer prefix": {"Authorization": f"Bearer {token}"},
    }
    for headers in attempts.values():
        answer = httpx.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {
            "code": "INVALID_TOKEN",
            "details": {},
            "message": "invalid oauth token",
            "status": "error",
        }
        assert_contract(answer)


def test_access_tokens_expire_after_an_hour(zoho_sandbox: Any) -> None:
    token = _refresh(zoho_sandbox.url).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    url = f"{zoho_sandbox.url}/crm/v8/Accounts/{ACME}"
    zoho_sandbox.app.clock.advance(3599)
    assert httpx.get(url, headers=headers).status_code == 200
    zoho_sandbox.app.clock.advance(2)
    assert httpx.get(url, headers=headers).json()["code"] == "INVALID_TOKEN"


def test_revoking_a_refresh_token_ends_its_access_tokens(zoho_sandbox: Any) -> None:
    location = _consent(zoho_sandbox.url).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, **CLIENT}
    tokens = httpx.post(f"{zoho_sandbox.url}/oauth/v2/token", data=exchange).json()
    revoked = httpx.post(
        f"{zoho_sandbox.url}/oauth/v2/token/revoke", params={"token": tokens["refresh_token"]}
    )
    assert revoked.json() == {"status": "success"}
    headers = {"Authorization": f"Zoho-oauthtoken {tokens['access_token']}"}
    assert httpx.get(f"{zoho_sandbox.url}/crm/v8/Accounts/{ACME}", headers=headers).status_code == 401
    assert _refresh(zoho_sandbox.url, refresh_token=tokens["refresh_token"]).json() == {
        "error": "invalid_code"
    }


def test_the_consent_page_checks_the_client(zoho_sandbox: Any) -> None:
    page = httpx.get(f"{zoho_sandbox.url}/oauth/v2/auth", params={"client_id": "x", "response_type": "code"})
    assert page.status_code == 400 and "invalid_client" in page.text
