"""Every cookie kind the portal signs, presented under every cookie name: only its own is accepted.

The issue this closes: the sign-in form's cookie, copied into portal_session, was a full session.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from chalice.test import Client

from chalicelib.portal.security import _unb64
from tests.portal_browser import PASSWORD, Browser

KINDS = ("portal_session", "portal_signin", "portal_oauth")  # the cookie each kind is made for


def _payload(value: str) -> dict:
    return json.loads(_unb64(value.split(".")[0]))


@pytest.fixture
def made(app_client: Client) -> dict[str, str]:
    """One genuine cookie of each kind, from the portal's own pages."""
    browser = Browser(app_client)
    browser.get("/portal/signin")
    signin = browser.cookies["portal_signin"]
    assert (
        browser.post("/portal/signin", {"csrf_token": browser.csrf(), "password": PASSWORD}).status_code
        == 303
    )
    browser.get("/portal/connect")
    started = browser.post("/portal/connect/xero", {"csrf_token": browser.csrf()})
    assert started.status_code == 303
    return {
        "portal_session": browser.cookies["portal_session"],
        "portal_signin": signin,
        "portal_oauth": browser.cookies["portal_oauth"],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_only_a_session_cookie_is_a_session(app_client: Client, made: dict[str, str], kind: str) -> None:
    browser = Browser(app_client)
    browser.cookies["portal_session"] = made[kind]
    page = browser.get("/portal")
    assert page.status_code == (200 if kind == "portal_session" else 303)
    sync = browser.post("/portal/sync", {"window": "all", "csrf_token": _payload(made[kind]).get("csrf", "")})
    assert (sync.status_code == 303 and "/portal/runs/" in sync.headers["Location"]) == (
        kind == "portal_session"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_only_a_sign_in_cookie_lets_the_sign_in_form_through(
    app_client: Client, made: dict[str, str], kind: str
) -> None:
    browser = Browser(app_client)
    browser.cookies["portal_signin"] = made[kind]
    token = _payload(made[kind]).get("csrf", "")
    response = browser.post("/portal/signin", {"csrf_token": token, "password": PASSWORD})
    assert response.status_code == (303 if kind == "portal_signin" else 403)


@pytest.mark.parametrize("kind", KINDS)
def test_only_an_oauth_cookie_carries_a_connect_attempt(
    app_client: Client, made: dict[str, str], kind: str
) -> None:
    """A fresh connect attempt; its state with each kind of cookie under portal_oauth."""
    browser = Browser(app_client)
    browser.sign_in()
    browser.get("/portal/connect")
    start = browser.post("/portal/connect/xero", {"csrf_token": browser.csrf()})
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    genuine = browser.cookies["portal_oauth"]
    replacement = {"portal_oauth": genuine, "portal_session": browser.cookies["portal_session"]}
    replacement["portal_signin"] = made["portal_signin"]
    browser.cookies["portal_oauth"] = replacement[kind]
    answer = browser.get(f"/portal/connect/xero/callback?code=some-code&state={state}")
    expired = answer.status_code == 303 and "connect-expired" in answer.headers["Location"]
    # Past the state check, the code goes to Xero (the stand-in refuses this made-up one).
    assert expired == (kind != "portal_oauth")
