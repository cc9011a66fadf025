"""Faults lose nothing and duplicate nothing: 429s, 5xx, timeouts, crashes, token rotation."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from tests.integration.sandbox_api import Xero, Zoho, acct

CONTACTS = "/api.xro/2.0/Contacts"


@pytest.fixture
def xero(live) -> Xero:
    return Xero(live.xero_url)


@pytest.fixture
def zoho(live) -> Zoho:
    return Zoho(live.zoho_url)


def test_short_429_is_waited_out_within_the_click(click, xero: Xero) -> None:
    xero.fault(status=429, retry_after=1, count=1, method="POST", path_prefix=CONTACTS)

    response = click(acct(1))

    assert response.status_code == 200, response.text
    assert response.json()["action"] == "created"
    assert len(xero.with_number(acct(1))) == 1


def test_long_429_queues_the_click_and_the_queue_finishes_it(
    click, drain, xero: Xero, zoho: Zoho, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue holds the message back for Xero's hour; here an "hour" is 2 s of the real queue.
    monkeypatch.setenv("SYNC_MAX_HOLD_SECONDS", "2")
    xero.fault(status=429, retry_after=3600, count=1, method="POST", path_prefix=CONTACTS)

    response = click(acct(1))

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert "rate limit" in response.json()["message"]
    # While Xero's hour lasts, the shared budget keeps every worker away from Xero.
    drain(quiet_polls=1)
    assert xero.with_number(acct(1)) == []
    _hour_passes()
    assert drain(quiet_polls=15) >= 1  # the refused message comes back after its visibility timeout
    assert len(xero.with_number(acct(1))) == 1
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Synced"


def _hour_passes() -> None:
    """Xero's Retry-After is over: lift the block our rate budget recorded for every Lambda."""
    import boto3

    from chalicelib.settings import get_settings
    from sandbox.seed_data import XERO_TENANT_ID

    boto3.client("dynamodb").update_item(
        TableName=get_settings().TABLE_NAME,
        Key={"pk": {"S": f"BUDGET#{XERO_TENANT_ID}"}, "sk": {"S": "BUDGET"}},
        UpdateExpression="REMOVE blocked_until, blocked_problem",
    )


def test_passing_503_is_retried_in_process(click, xero: Xero) -> None:
    xero.fault(status=503, count=2, method="POST", path_prefix=CONTACTS)

    response = click(acct(1))

    assert response.status_code == 200, response.text
    assert len(xero.with_number(acct(1))) == 1


def test_xero_down_answers_503_then_the_queue_syncs_it(click, drain, xero: Xero, zoho: Zoho) -> None:
    xero.fault(status=500, count=3, method="POST", path_prefix=CONTACTS)

    response = click(acct(1))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert "Xero is temporarily unavailable (HTTP 500)" in body["message"]
    assert xero.with_number(acct(1)) == []
    drain()
    assert len(xero.with_number(acct(1))) == 1
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Synced"


def test_zoho_down_gives_a_plain_failure(click, zoho: Zoho, xero: Xero) -> None:
    zoho.fault(status=503, count=3, path_prefix="/crm/v8/Accounts")

    response = click(acct(1))

    assert response.status_code == 503
    assert "Zoho CRM is temporarily unavailable" in response.json()["message"]
    assert xero.contact_writes() == 0


def test_lost_answer_after_xero_saved_does_not_duplicate(click, live, xero: Xero) -> None:
    """Xero saves the contact but the answer never arrives (timeout); the retry must not create again."""
    from chalicelib import wiring

    os.environ["HTTP_TIMEOUT_SECONDS"] = "1"
    wiring._container.cache_clear()
    try:
        xero.fault(delay=2.5, count=1, method="POST", path_prefix=CONTACTS)
        response = click(acct(1))
    finally:
        del os.environ["HTTP_TIMEOUT_SECONDS"]
        wiring._container.cache_clear()

    assert response.status_code == 200, response.text
    assert len(xero.with_number(acct(1))) == 1
    assert len(xero.named("Acme Widgets Pty Ltd")) == 1


def test_crash_between_xero_write_and_state_write(click, xero: Xero, zoho: Zoho) -> None:
    """Simulate the crash window: Xero has the contact, but our state and the Zoho write-back never happened."""
    from chalicelib.settings import get_settings

    first = click(acct(1)).json()
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_item(
        TableName=get_settings().TABLE_NAME, Key={"pk": {"S": f"ACCOUNT#{acct(1)}"}, "sk": {"S": "STATE"}}
    )
    zoho.edit("Accounts", acct(1), {"Xero_ID": None, "Xero_Sync_Status": None, "Xero_Contact_URL": None})

    again = click(acct(1)).json()

    assert again["status"] == "synced"
    assert again["action"] == "updated"
    assert again["xero_contact_id"] == first["xero_contact_id"]
    assert len(xero.with_number(acct(1))) == 1
    assert zoho.account(acct(1))["Xero_ID"] == first["xero_contact_id"]


def test_expired_access_token_refreshes_once_for_many_concurrent_syncs(click, xero: Xero) -> None:
    assert click(acct(1)).status_code == 200
    refreshes_before = xero.count("POST", "/connect/token")
    xero.advance(31 * 60)  # every access token is now expired

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(click, [acct(2), acct(9), acct(12), acct(14), acct(7)]))

    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert xero.count("POST", "/connect/token") == refreshes_before + 1


def test_rotated_refresh_token_is_kept_across_restarts(click, xero: Xero) -> None:
    from chalicelib import wiring

    assert click(acct(1)).status_code == 200
    # A new process (cold start) and far beyond the old refresh token's grace window:
    wiring._container.cache_clear()
    xero.advance(2 * 60 * 60)

    response = click(acct(2))

    assert response.status_code == 200, response.text


def test_revoked_xero_connection_says_reconnect(click, xero: Xero, zoho: Zoho, live) -> None:
    from chalicelib import wiring
    from chalicelib.settings import get_settings

    boto3.client("dynamodb").delete_item(
        TableName=get_settings().TABLE_NAME, Key={"pk": {"S": "TOKEN#xero"}, "sk": {"S": "TOKEN"}}
    )
    wiring._container.cache_clear()
    os.environ["XERO_REFRESH_TOKEN"] = "revoked-or-mistyped"
    try:
        response = click(acct(1))
    finally:
        os.environ["XERO_REFRESH_TOKEN"] = "sandbox-xero-refresh-token"
        wiring._container.cache_clear()

    assert response.status_code == 502
    assert "Reconnect Xero" in response.json()["message"]
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Failed"
    assert "Reconnect Xero" in zoho.account(acct(1))["Xero_Sync_Error"]


def test_write_back_failure_keeps_xero_result_and_retries_the_write_back(
    click, drain, xero: Xero, zoho: Zoho
) -> None:
    zoho.fault(status=500, count=3, method="PUT", path_prefix="/crm/v8/Accounts")

    response = click(acct(1))

    body = response.json()
    assert response.status_code == 200, body
    assert body["action"] == "created"
    assert any("could not be written onto the Zoho Account" in w for w in body["warnings"])
    assert zoho.account(acct(1))["Xero_Sync_Status"] in (None, "")
    drain()
    assert zoho.account(acct(1))["Xero_Sync_Status"] == "Synced"
    assert zoho.account(acct(1))["Xero_ID"] == body["xero_contact_id"]
    assert xero.contact_writes() == 1
