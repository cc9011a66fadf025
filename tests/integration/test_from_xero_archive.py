"""A Xero contact archived, then restored, over the whole local stack: the Account shows
"Archived in Xero" and nothing else changes either way; restored, it shows "Synced" again.
Through Xero's signed webhook, a `xero_to_zoho` run, and a click on "Sync to Xero"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.stack import LocalStack
from tests.integration.test_from_xero import ACME, deliver, xero_key, zoho_writes  # noqa: F401  (fixtures)
from tests.integration.test_runs import admin, drive, run_all, runs_queue, start  # noqa: F401  (fixtures)

FIELDS_KEPT = ("Account_Name", "Phone", "Billing_City", "Account_Number", "Xero_ID", "Xero_Contact_URL")


def _archive(live: LocalStack, contact_id: str, status: str = "ARCHIVED") -> None:
    live.xero.clock.advance(1)
    live.xero.user_edit_contact(contact_id, {"ContactStatus": status})


def test_an_archived_contact_shows_on_its_account_once_and_nothing_else_changes(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    before = live.zoho.get("Accounts", ACME)
    _archive(live, contact_id)
    live.zoho.clear_calls()

    deliver(contact_id)
    drain()
    deliver(contact_id)  # delivered twice: shown once
    drain()

    account = live.zoho.get("Accounts", ACME)
    assert account["Xero_Sync_Status"] == "Archived in Xero"
    assert "Restore it in Xero" in account["Xero_Sync_Error"]
    assert {f: account.get(f) for f in FIELDS_KEPT} == {f: before.get(f) for f in FIELDS_KEPT}
    [write] = zoho_writes(live)
    assert set(write["request_body"]["data"][0]) == {"id", "Xero_Sync_Status", "Xero_Sync_Error"}
    assert write["request_body"]["trigger"] == []

    # Edited in Zoho meanwhile: a click changes nothing in Xero and says the same.
    live.zoho.edit("Accounts", ACME, {"Phone": "+64 9 555 0000"}, automation=False)
    in_xero = live.xero.contact(contact_id)
    answer = click(ACME)
    assert answer.status_code == 422
    assert answer.json()["status"] == "rejected"
    assert "Restore it in Xero" in answer.json()["message"]
    account = live.zoho.get("Accounts", ACME)
    assert (account["Xero_Sync_Status"], account["Phone"]) == ("Archived in Xero", "+64 9 555 0000")
    assert live.xero.contact(contact_id) == in_xero


def test_a_restored_contact_shows_synced_again_and_syncs_as_before(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],  # noqa: F811
    drain: Any,
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    _archive(live, contact_id)
    deliver(contact_id)
    drain()
    _archive(live, contact_id, "ACTIVE")

    deliver(contact_id)
    drain()

    account = live.zoho.get("Accounts", ACME)
    assert account["Xero_Sync_Status"] == "Synced"
    assert not account.get("Xero_Sync_Error")
    live.xero.clock.advance(1)
    live.xero.user_edit_contact(
        contact_id, {"Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "09 555 0123"}]}
    )
    deliver(contact_id)
    drain()
    assert live.zoho.get("Accounts", ACME)["Phone"] == "09 555 0123"


def test_a_xero_to_zoho_run_shows_archived_and_restored_contacts(
    live: LocalStack,
    click: Callable[..., httpx.Response],
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    _archive(live, contact_id)
    live.zoho.clear_calls()

    dry = run_all({"days": 1}, direction="xero_to_zoho", dry_run=True)
    assert zoho_writes(live) == []
    assert dry["counts"]["unchanged"] >= 1

    run_all({"days": 1}, direction="xero_to_zoho")
    assert live.zoho.get("Accounts", ACME)["Xero_Sync_Status"] == "Archived in Xero"
    writes = len(zoho_writes(live))
    run_all({"days": 1}, direction="xero_to_zoho")  # again: shown already, nothing written
    assert len(zoho_writes(live)) == writes

    _archive(live, contact_id, "ACTIVE")
    run_all({"days": 1}, direction="xero_to_zoho")
    assert live.zoho.get("Accounts", ACME)["Xero_Sync_Status"] == "Synced"
