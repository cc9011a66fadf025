"""Every route refuses anonymous callers except an explicit public list, read from the app itself.

The route table is `app.routes` (what Chalice deploys), so a new route that forgets its guard
fails here without anyone remembering to add a test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice import Chalice, Response
from chalice.test import Client

from app import app
from tests.portal_browser import Browser
from tests.security.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, Aws, RecordingSyncer

# The only routes an anonymous caller may use, and why.
PUBLIC = {
    ("/health", "GET"),  # load balancer / uptime check, says nothing but "ok"
    ("/portal/signin", "GET"),  # the sign-in form
    ("/portal/signin", "POST"),  # checks the password (behind its own CSRF cookie and the throttle)
    ("/portal/static/{name}", "GET"),  # CSS, JS and the icon
    # Xero cannot send a credential of ours: its own HMAC signature is the guard, and Xero
    # expects 401 with an empty body without it (tests/security/test_xero_webhook.py proves it).
    ("/webhooks/xero", "POST"),
}
PARAMS = {
    "run_id": "20260301-000000-abcdef00",
    "account_id": "5725767000000400001",
    "provider": "xero",
    "name": "portal.css",
}
# A body each route would act on if it let the caller in, so only the guard can stop it.
BODIES = {
    "/webhooks/zoho": (
        "application/json",
        json.dumps({"account_id": PARAMS["account_id"], "source": "button"}),
    ),
    "/sync/runs": ("application/json", json.dumps({"window": "all"})),
    "/sync/runs/{run_id}/retry": ("application/json", "{}"),
}
FORM_BODY = (
    "application/x-www-form-urlencoded",
    "window=all&csrf_token=guess&tenant_id=t&recipients=a%40b.example",
)
# Credentials that belong somewhere else, or to no one: none of them opens a guarded route.
WRONG_CREDENTIALS: dict[str, dict[str, str]] = {
    "nothing": {},
    "a guessed bearer token": {"authorization": "Bearer guess"},
    "the webhook token as a bearer token": {"authorization": f"Bearer {WEBHOOK_TOKEN}"},
    "the admin token as the webhook token": {"x-webhook-token": ADMIN_TOKEN},
    "a forged session cookie": {"cookie": "portal_session=eyJ1c2UiOiJzZXNzaW9uIn0.c2lnbmF0dXJl"},
}


def guarded_routes(chalice_app: Chalice, public: set[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(
        (path, method)
        for path, methods in chalice_app.routes.items()
        for method in methods
        if (path, method) not in public
    )


def concrete(path: str) -> str:
    return path.format(**PARAMS)


def is_refusal(response: Any) -> bool:
    """401/403, or the portal's redirect to its sign-in page."""
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("Location") or response.headers.get("location") or ""
    return response.status_code == 303 and "/portal/signin" in location


def call(client: Client, path: str, method: str, headers: dict[str, str]) -> Any:
    content_type, body = BODIES.get(path, FORM_BODY if method == "POST" else ("", ""))
    headers = {"host": "portal.test", **headers}
    if content_type:
        headers["content-type"] = content_type
    return client.http.request(method, concrete(path), headers=headers, body=body.encode())


def let_in(
    client: Client, chalice_app: Chalice, public: set[tuple[str, str]], headers: dict[str, str]
) -> list[str]:
    """The guarded routes that did *not* refuse a caller with these headers."""
    return [
        f"{method} {path} -> {response.status_code}"
        for path, method in guarded_routes(chalice_app, public)
        if not is_refusal(response := call(client, path, method, headers))
    ]


def test_the_public_list_names_routes_that_exist() -> None:
    routes = {(path, method) for path, methods in app.routes.items() for method in methods}
    assert routes >= PUBLIC
    assert len(guarded_routes(app, PUBLIC)) >= 20  # the table really was read


@pytest.mark.parametrize("credential", sorted(WRONG_CREDENTIALS))
def test_every_route_off_the_public_list_refuses_callers_without_the_right_credential(
    app_client: Client, aws: Aws, syncer: RecordingSyncer, credential: str
) -> None:
    before = aws.snapshot()
    assert let_in(app_client, app, PUBLIC, WRONG_CREDENTIALS[credential]) == []
    assert aws.snapshot() == before, "a refused request changed the table or the queues"
    assert syncer.synced == []


def test_a_portal_session_does_not_open_the_admin_api_or_the_webhook(
    signed_in: Browser, app_client: Client, aws: Aws, syncer: RecordingSyncer
) -> None:
    cookie = {"cookie": f"portal_session={signed_in.cookies['portal_session']}"}
    assert signed_in.get("/portal").status_code == 200  # the cookie itself is good
    before = aws.snapshot()
    api_routes = {(p, m) for p, m in guarded_routes(app, PUBLIC) if not p.startswith("/portal")}
    public = {(p, m) for p, methods in app.routes.items() for m in methods} - api_routes
    assert let_in(app_client, app, public, cookie) == []
    assert aws.snapshot() == before
    assert syncer.synced == []


def test_the_public_routes_answer_without_credentials(browser: Browser) -> None:
    assert browser.get("/health").status_code == 200
    assert browser.get("/portal/signin").status_code == 200
    assert browser.get("/portal/static/portal.css").status_code == 200


def test_the_check_catches_a_route_that_forgot_its_guard() -> None:
    """The same check, on an app with one unguarded route, names that route (it can fail)."""
    probe = Chalice(app_name="unguarded-probe")

    @probe.route("/sync/open", methods=["GET"])
    def open_route() -> Response:
        return Response(body={"secret": "data"}, status_code=200)

    @probe.route("/sync/closed", methods=["GET"])
    def closed_route() -> Response:
        return Response(body={"message": "no"}, status_code=401)

    with Client(probe) as client:
        assert let_in(client, probe, set(), {}) == ["GET /sync/open -> 200"]
