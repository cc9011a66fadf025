"""Identity: rotating refresh tokens, access-token expiry, tenants, consent flow, connections."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from sandbox.specs.xero_spec import response_errors
from sandbox.xero.wire import is_guid
from tests.sandbox.xero.conftest import CLIENT_ID, CLIENT_SECRET, INITIAL_REFRESH_TOKEN, XeroApi, refresh

REDIRECT = "https://app.example/callback"


def test_refresh_rotates_and_old_token_survives_only_the_grace_period(xero_sandbox, http):
    first = refresh(http, INITIAL_REFRESH_TOKEN)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["refresh_token"] != INITIAL_REFRESH_TOKEN

    xero_sandbox.app.clock.advance(1700)  # lost response: retry the old token inside 30 minutes
    retry = refresh(http, INITIAL_REFRESH_TOKEN)
    assert retry.status_code == 200
    assert retry.json()["refresh_token"] not in (INITIAL_REFRESH_TOKEN, body["refresh_token"])

    xero_sandbox.app.clock.advance(101)  # 1801 s after the first use
    late = refresh(http, INITIAL_REFRESH_TOKEN)
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    # The rotated token is still good (it was issued 101 s ago and never used).
    assert refresh(http, retry.json()["refresh_token"]).status_code == 200


def test_unused_refresh_token_expires_after_60_idle_days(xero_sandbox, http):
    token = xero_sandbox.app.mint_refresh_token()
    xero_sandbox.app.clock.advance(60 * 86400 - 10)
    fresh = xero_sandbox.app.mint_refresh_token()
    xero_sandbox.app.clock.advance(20)
    assert refresh(http, token).json() == {"error": "invalid_grant"}
    assert refresh(http, fresh).status_code == 200


def test_unknown_refresh_token_is_invalid_grant(http):
    response = refresh(http, "not-a-token")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_client_credentials_checked_by_basic_auth_or_form(http):
    data = {"grant_type": "refresh_token", "refresh_token": INITIAL_REFRESH_TOKEN}
    basic = http.post("/connect/token", data=data, auth=(CLIENT_ID, "wrong"))
    assert basic.status_code == 401 and basic.json() == {"error": "invalid_client"}
    form = http.post("/connect/token", data={**data, "client_id": CLIENT_ID, "client_secret": "wrong"})
    assert form.status_code == 400 and form.json() == {"error": "invalid_client"}
    ok = http.post("/connect/token", data={**data, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert ok.status_code == 200


def test_token_response_has_exactly_the_oauth_fields(http):
    body = refresh(http, INITIAL_REFRESH_TOKEN).json()
    # xero-python feeds this dict into OAuth2Token.update_token(**token): extra keys would break it.
    assert set(body) == {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert "accounting.contacts" in body["scope"].split()


def test_unsupported_grant_type(http):
    response = http.post("/connect/token", data={"grant_type": "password"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 400 and response.json() == {"error": "unsupported_grant_type"}


def test_expired_access_token_gets_xero_problem_json(xero_sandbox, xero: XeroApi):
    assert xero.get("/Contacts").status_code == 200
    xero_sandbox.app.clock.advance(1800)
    response = xero.get("/Contacts")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}
    assert body["Type"] is None and body["Title"] == "Unauthorized" and body["Status"] == 401
    assert body["Detail"].startswith("TokenExpired: token expired at ")
    assert is_guid(body["Instance"]) and body["Extensions"] == {}


def test_unknown_or_missing_access_token_is_authentication_unsuccessful(xero: XeroApi):
    for auth in ("Bearer nope", "", "Basic abc"):
        response = xero.get("/Contacts", headers={"Authorization": auth})
        assert response.status_code == 401
        assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_missing_or_unknown_tenant_is_forbidden(xero: XeroApi):
    for tenant in ("", "00000000-0000-0000-0000-000000000001"):
        response = xero.get("/Contacts", headers={"xero-tenant-id": tenant})
        assert response.status_code == 403
        body = response.json()
        assert (body["Title"], body["Status"], body["Detail"]) == (
            "Forbidden",
            403,
            "AuthenticationUnsuccessful",
        )
    # Tenant ids are GUIDs: case does not matter.
    assert xero.get("/Contacts", headers={"xero-tenant-id": xero.tenant_id.upper()}).status_code == 200


def test_scope_is_enforced(xero_sandbox, http):
    token = xero_sandbox.app.mint_refresh_token("accounting.contacts.read offline_access")
    access = refresh(http, token).json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "xero-tenant-id": xero_sandbox.app.tenant_id}
    assert http.get("/api.xro/2.0/Contacts", headers=headers).status_code == 200
    write = http.post("/api.xro/2.0/Contacts", headers=headers, json={"Contacts": [{"Name": "Nope"}]})
    assert write.status_code == 401 and write.json()["Detail"] == "AuthorizationUnsuccessful"
    assert http.get("/api.xro/2.0/Organisation", headers=headers).status_code == 401


def test_connections_case_insensitive_and_match_the_identity_spec(xero: XeroApi):
    headers = {"Authorization": f"Bearer {xero.access_token}"}
    for path in ("/connections", "/Connections", "/CONNECTIONS"):
        response = xero.http.get(path, headers=headers)
        assert response.status_code == 200
        assert response_errors(response.json(), "Connection[]", spec="identity") == []
    (conn,) = response.json()
    assert conn["tenantId"] == xero.tenant_id and conn["tenantType"] == "ORGANISATION"
    assert conn["tenantName"] == "Demo Company (AU)"
    # Tenantless calls carry only the app-wide remaining header.
    assert "X-AppMinLimit-Remaining" in response.headers and "X-MinLimit-Remaining" not in response.headers
    filtered = xero.http.get("/connections", params={"authEventId": conn["authEventId"]}, headers=headers)
    assert filtered.json() == [conn]
    other = xero.http.get(
        "/connections", params={"authEventId": "00000000-0000-0000-0000-000000000000"}, headers=headers
    )
    assert other.json() == []


def test_connections_need_a_valid_token(http):
    assert http.get("/connections").status_code == 401


def test_deleting_the_connection_disconnects_the_tenant(xero: XeroApi):
    headers = {"Authorization": f"Bearer {xero.access_token}"}
    (conn,) = xero.http.get("/connections", headers=headers).json()
    assert xero.http.delete(f"/connections/{conn['id']}", headers=headers).status_code == 204
    assert xero.http.get("/connections", headers=headers).json() == []
    assert xero.get("/Contacts").status_code == 403
    assert xero.http.delete(f"/connections/{conn['id']}", headers=headers).status_code == 404


def _authorize_url(**extra: str) -> str:
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "xyz"}
    params.update(extra)
    return "/identity/connect/authorize?" + str(httpx.QueryParams(params))


def _exchange(http: httpx.Client, code: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return http.post("/connect/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))


def test_consent_page_then_allow_redirects_with_code_and_state(http):
    page = http.get(_authorize_url(scope="openid offline_access accounting.contacts"))
    assert page.status_code == 200 and "Allow access" in page.text and 'method="post"' in page.text
    form = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "xyz",
            "scope": "offline_access accounting.contacts", "decision": "allow"}  # fmt: skip
    answer = http.post("/identity/connect/authorize", data=form)
    assert answer.status_code == 302
    location = urlparse(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT and query["state"] == ["xyz"]

    tokens = _exchange(http, query["code"][0])
    assert tokens.status_code == 200 and "refresh_token" in tokens.json()
    assert "id_token" not in tokens.json()  # no openid scope asked for
    assert _exchange(http, query["code"][0]).json() == {"error": "invalid_grant"}  # single use


def test_auto_approve_shortcut_and_code_checks(xero_sandbox, http):
    answer = http.get(_authorize_url(auto_approve="1", scope="accounting.contacts"))
    assert answer.status_code == 302
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    assert _exchange(http, code, "https://elsewhere.example/cb").json() == {"error": "invalid_grant"}
    # A mismatched redirect_uri is refused without burning the code.
    assert _exchange(http, code).status_code == 200


def test_code_exchange_without_offline_access_has_no_refresh_token(xero_sandbox, http):
    answer = http.get(_authorize_url(auto_approve="1", scope="accounting.contacts"))
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    tokens = _exchange(http, code)
    assert tokens.status_code == 200 and "refresh_token" not in tokens.json()
    xero_sandbox.app.clock.advance(301)
    late = http.get(_authorize_url(auto_approve="1"))
    late_code = parse_qs(urlparse(late.headers["Location"]).query)["code"][0]
    xero_sandbox.app.clock.advance(301)  # codes live 5 minutes
    assert _exchange(http, late_code).json() == {"error": "invalid_grant"}


def test_deny_and_bad_client(http):
    denied = http.post(
        "/identity/connect/authorize",
        data={"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "s", "decision": "deny"},
    )
    assert denied.status_code == 302 and "error=access_denied" in denied.headers["Location"]
    assert http.get(_authorize_url(client_id="someone-else")).status_code == 400


def test_reconnecting_restores_a_deleted_connection(xero: XeroApi):
    headers = {"Authorization": f"Bearer {xero.access_token}"}
    (conn,) = xero.http.get("/connections", headers=headers).json()
    xero.http.delete(f"/connections/{conn['id']}", headers=headers)
    answer = xero.http.get(_authorize_url(auto_approve="1"))
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    tokens = _exchange(xero.http, code).json()
    (new_conn,) = xero.http.get(
        "/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert new_conn["tenantId"] == xero.tenant_id and new_conn["authEventId"] != conn["authEventId"]
    assert xero.get("/Contacts").status_code == 200


def test_revocation_kills_the_grant(xero: XeroApi):
    response = xero.http.post(
        "/connect/revocation", data={"token": xero.refresh_token}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert response.status_code == 200
    assert refresh(xero.http, xero.refresh_token).json() == {"error": "invalid_grant"}
    assert xero.get("/Contacts").status_code == 401
