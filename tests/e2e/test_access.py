"""Who gets in: sign in, sign out, anonymous requests, forms without their CSRF token."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back_after(page: Any) -> None:
    page.goto("/portal/settings")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    assert page.url.endswith("/portal/settings")


def test_anonymous_requests_are_refused(context: Any) -> None:
    api = context.request
    assert api.get("/portal/api/runs/20260101-000000-00000000").status == 401
    assert api.get("/portal/api/runs/20260101-000000-00000000").json() == {
        "message": "Sign in to the portal first."
    }
    page = api.get("/portal/runs", max_redirects=0)
    assert page.status == 303
    assert "/portal/signin" in page.headers["location"]
    post = api.post("/portal/sync", form={"window": "all"}, max_redirects=0)
    assert post.status == 303
    assert "/portal/signin" in post.headers["location"]


def test_a_wrong_password_shows_what_is_wrong_and_lets_no_one_in(sign_in: Any) -> None:
    page = sign_in("not the password")
    expect(page.get_by_role("alert")).to_have_text("That password is not right. Check it and try again.")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    page.goto("/portal")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_session_cookie_is_httponly_secure_and_samesite(signed_in: Any) -> None:
    [cookie] = [c for c in signed_in.context.cookies() if c["name"] == "portal_session"]
    assert cookie["httpOnly"] and cookie["secure"]
    assert cookie["sameSite"] == "Lax"
    assert signed_in.evaluate("document.cookie") == ""  # scripts cannot read it


def test_signing_out_ends_the_session(signed_in: Any) -> None:
    signed_in.get_by_role("button", name="Sign out").click()
    expect(signed_in.get_by_role("status")).to_have_text("You are signed out.")
    signed_in.goto("/portal/runs")
    expect(signed_in.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_form_without_its_csrf_token_fails_and_changes_nothing(signed_in: Any) -> None:
    page = signed_in
    page.goto("/portal/settings")
    page.get_by_label("Send to").fill("ann@finance.example")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    page.goto("/portal/settings")
    expect(page.get_by_label("Send to")).to_have_value("")


def test_a_form_with_a_forged_csrf_token_fails(signed_in: Any) -> None:
    page = signed_in
    page.goto("/portal/sync")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.value = 'forged')")
    page.get_by_role("button", name="Sync Now").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    page.goto("/portal/runs")
    expect(page.get_by_text("No runs yet.")).to_be_visible()
