"""Both Way with CONFLICT_POLICY=hold: a field changed differently on both sides waits on the
Conflicts page, and a person's "Keep Xero's" puts Xero's value on both sides at once."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

ACME = "5725767000000400001"


def hold_a_conflict(page: Any, live: Any, account_id: str, zoho_value: str, xero_value: str) -> None:
    """Link the Account with "Sync now", change its Account Number differently in Zoho CRM and
    in Xero, and click again: under CONFLICT_POLICY=hold the field waits for a person."""
    page.goto(f"/portal/accounts/{account_id}")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-sync-result]")).to_contain_text("Synced.")
    contact_id = live.xero.contact(account_id)["ContactID"]
    live.zoho.edit("Accounts", account_id, {"Account_Number": zoho_value}, automation=False)
    live.xero.configure(webhook_background_delivery=False)  # the click meets both edits
    live.xero.clock.advance(1)
    live.xero.user_edit_contact(contact_id, {"AccountNumber": xero_value})
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("[data-sync-result]")).to_be_visible()


def test_a_held_conflict_is_settled_from_the_conflicts_page(signed_in: Any, holding: Any) -> None:
    page = signed_in
    hold_a_conflict(page, holding, ACME, "ZOHO-EDIT", "XERO-EDIT")
    assert holding.zoho.get("Accounts", ACME)["Xero_Sync_Status"] == "Conflict"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Conflicts").click()
    row = page.locator(f'tr[data-conflict^="{ACME}|"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ZOHO-EDIT")
    expect(row).to_contain_text("XERO-EDIT")
    row.get_by_role("button", name="Keep Xero's").click()

    expect(page.locator("[data-resolved]")).to_contain_text("XERO-EDIT")
    expect(page.locator("[data-no-conflicts]")).to_be_visible()
    account = holding.zoho.get("Accounts", ACME)
    assert account["Account_Number"] == "XERO-EDIT"
    assert account["Xero_Sync_Status"] == "Synced"
    assert holding.xero.contact(ACME)["AccountNumber"] == "XERO-EDIT"
