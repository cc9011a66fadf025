"""writeback_fields: the Zoho Account update after each attempt."""

from __future__ import annotations

import pytest

from chalicelib.mapping import FieldMap, writeback_fields
from chalicelib.models.sync import SyncStatus

CONTACT_ID = "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01"
URL = "https://go.xero.com/app/!dEm0C/contacts/contact/" + CONTACT_ID


def test_success_writes_link_and_clears_error(field_map: FieldMap) -> None:
    update = writeback_fields(
        field_map,
        status=SyncStatus.SYNCED,
        xero_contact_id=CONTACT_ID,
        xero_contact_url=URL,
        synced_at="2025-03-01T10:00:00+00:00",
        error="stale message",
    )
    assert update == {
        "Xero_Sync_Status": "Synced",
        "Xero_ID": CONTACT_ID,
        "Xero_Contact_URL": URL,
        "Xero_Last_Synced": "2025-03-01T10:00:00+00:00",
        "Xero_Sync_Error": None,
    }


def test_rejection_keeps_an_existing_link(field_map: FieldMap) -> None:
    # None means "leave it": a rejected update must not unlink the Account in Zoho.
    update = writeback_fields(
        field_map,
        status="Rejected",
        xero_contact_id=None,
        xero_contact_url=None,
        synced_at=None,
        error="Account Name is empty. Fill it in on the Account in Zoho CRM.",
    )
    assert update == {
        "Xero_Sync_Status": "Rejected",
        "Xero_Sync_Error": "Account Name is empty. Fill it in on the Account in Zoho CRM.",
    }


def test_long_error_is_cut_to_the_field_size(field_map: FieldMap) -> None:
    error = "word " * 1000
    update = writeback_fields(
        field_map, status="Failed", xero_contact_id=None, xero_contact_url=None, synced_at=None, error=error
    )
    text = update["Xero_Sync_Error"]
    assert len(text) <= 2000
    assert text.endswith("…")
    assert error.startswith(text[:-1])


def test_error_at_the_limit_is_kept_whole(field_map: FieldMap) -> None:
    error = "e" * 2000
    update = writeback_fields(
        field_map, status="Failed", xero_contact_id=None, xero_contact_url=None, synced_at=None, error=error
    )
    assert update["Xero_Sync_Error"] == error


def test_unknown_status_is_a_programming_error(field_map: FieldMap) -> None:
    with pytest.raises(ValueError, match="unknown sync status"):
        writeback_fields(
            field_map, status="Done", xero_contact_id=None, xero_contact_url=None, synced_at=None, error=None
        )
