"""Connect Xero and Zoho CRM through the stand-ins' consent pages (the OAuth code flow)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from sandbox.xero.config import XERO_TENANT_NAME


def test_connect_xero_through_its_consent_page(signed_in: Any, live: Any) -> None:
    page = signed_in
    page.goto("/portal/connect")
    page.get_by_role("button", name="Connect Xero").or_(
        page.get_by_role("button", name="Reconnect Xero")
    ).click()
    expect(page.get_by_role("heading", name="Xero sandbox")).to_be_visible()  # the stand-in's consent page
    page.get_by_role("button", name="Allow access").click()
    expect(page.locator("[data-connect-result]")).to_have_text(
        f'Connected Xero organisation "{XERO_TENANT_NAME}".'
    )
    assert page.url.endswith("/portal/connect")  # the spent code is gone from the address bar
    card = page.locator('article[data-provider="xero"]')
    expect(card.get_by_text("Connected", exact=True)).to_be_visible()
    expect(card.locator("[data-organisation]")).to_have_text(XERO_TENANT_NAME)


def test_connect_zoho_through_its_consent_page(signed_in: Any) -> None:
    page = signed_in
    page.goto("/portal/connect")
    page.locator('article[data-provider="zoho"] button[type=submit]').click()
    expect(page.get_by_role("heading", name="Sandbox Zoho CRM wants access")).to_be_visible()
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("[data-connect-result]")).to_contain_text("Connected Zoho CRM")
    expect(page.locator('article[data-provider="zoho"]').get_by_text("Connected", exact=True)).to_be_visible()


def test_denying_access_connects_nothing(signed_in: Any) -> None:
    page = signed_in
    page.goto("/portal/connect")
    page.locator('article[data-provider="xero"] button[type=submit]').click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status").first).to_have_text("Connecting was cancelled; nothing changed.")


def test_a_callback_that_did_not_start_here_is_refused(signed_in: Any) -> None:
    page = signed_in
    page.goto("/portal/connect/xero/callback?code=stolen-code&state=forged-state")
    expect(page.get_by_role("status").first).to_have_text(
        "That connect attempt expired or did not start here. Please try again."
    )
