"""Accounts: search, the preview of the next sync, "Sync now" and the history timeline."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

ACME = "5725767000000400001"
NO_NAME = "5725767000000400003"


def test_search_preview_sync_and_timeline(signed_in: Any, live: Any) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_label("Account name or Zoho record id").fill("acme")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Acme Widgets Pty Ltd").click()

    preview = page.locator("[data-preview]")
    expect(preview.get_by_text("The next sync would create a new Xero contact")).to_be_visible()
    row = preview.get_by_role("row", name="Phones (MOBILE) › PhoneNumber")
    expect(row.locator("td.new")).to_have_text("+61 400 000 001")
    expect(page.get_by_text("No sync attempts recorded for this Account yet.")).to_be_visible()

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-sync-result]")).to_contain_text("Synced.")
    first = page.locator(".timeline__item").first
    expect(first.locator(".timeline__trigger")).to_have_text("Portal")
    expect(first).to_contain_text("created")
    # The attempt that just succeeded is the last attempt (it said "—" after a success).
    expect(page.locator("[data-last-attempt]")).to_contain_text(" UTC")
    expect(page.locator("[data-last-attempt] time")).to_have_attribute(
        "datetime", first.locator(".timeline__time time").get_attribute("datetime") or "missing"
    )
    assert live.xero.contact(ACME) is not None  # it is really in Xero now
    expect(preview.get_by_text("would not call Xero")).to_be_visible()


def test_a_rejected_account_shows_the_message_to_fix_in_zoho(signed_in: Any) -> None:
    page = signed_in
    page.goto(f"/portal/accounts?q={NO_NAME}")
    page.get_by_role("link", name="(no name)").click()
    expect(page.locator("[data-preview-message]")).to_contain_text("Account Name")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-sync-result]")).to_contain_text("Rejected.")
    expect(page.locator(".timeline__item").first.locator(".badge")).to_have_text("Rejected")


def test_the_account_page_shows_zoho_and_xero_side_by_side(signed_in: Any, live: Any) -> None:
    page = signed_in
    page.goto(f"/portal/accounts/{ACME}")
    expect(page.locator("[data-side-by-side]")).to_have_count(0)  # not linked yet: nothing to compare
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-sync-result]")).to_contain_text("Synced.")

    contact_id = live.xero.contact(ACME)["ContactID"]
    # Xero's event for the edit would bring it into Zoho at once; the page is read before it.
    live.xero.configure(webhook_background_delivery=False)
    live.xero.clock.advance(1)
    live.xero.user_edit_contact(contact_id, {"AccountNumber": "XERO-E2E"})
    page.reload()
    sides = page.locator("[data-side-by-side]")
    row = sides.locator('tr[data-field="Account Number"]')
    expect(row.locator("[data-zoho]")).to_have_text("ACC-0001")
    expect(row.locator("[data-xero]")).to_have_text("XERO-E2E")
    expect(row.locator("[data-base]")).to_have_text("ACC-0001")
    expect(row.locator("[data-to-zoho]")).to_have_text("XERO-E2E")
    expect(row.locator("[data-to-xero]")).to_have_text("—")
