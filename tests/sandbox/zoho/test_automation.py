"""Workflow-rule webhooks and the "Sync to Xero" button, received by a local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from .conftest import ACME, BRUNO, COASTAL, Receiver

TOKEN = "hook-secret"


@pytest.fixture
def wired(zoho_sandbox: Any, receiver: Receiver) -> Any:
    zoho_sandbox.app.configure(webhook_url=receiver.url, webhook_token=TOKEN)
    return zoho_sandbox.app


def _put(api: httpx.Client, body: dict[str, Any]) -> None:
    assert api.put("/crm/v8/Accounts", json=body).status_code == 200


def test_an_api_update_with_trigger_empty_fires_nothing(
    wired: Any, api: httpx.Client, receiver: Receiver
) -> None:
    _put(api, {"data": [{"id": ACME, "Xero_Sync_Status": "Synced"}], "trigger": []})
    assert wired.wait_for_webhooks()
    assert receiver.requests == [] and wired.webhook_deliveries() == []


@pytest.mark.parametrize("trigger", [None, ["workflow"], ["approval", "workflow"]])
def test_an_api_update_runs_workflows_by_default_or_when_asked(
    wired: Any, api: httpx.Client, receiver: Receiver, trigger: list[str] | None
) -> None:
    body: dict[str, Any] = {"data": [{"id": ACME, "Xero_Sync_Status": "Synced"}]}
    if trigger is not None:
        body["trigger"] = trigger
    _put(api, body)
    [request] = receiver.wait_for(1)
    assert json.loads(request["raw"]) == {"account_id": ACME, "source": "workflow"}
    assert request["headers"]["X-Webhook-Token"] == TOKEN
    assert request["headers"]["Content-Type"] == "application/json"


def test_only_accounts_with_add_to_xero_fire(wired: Any, api: httpx.Client, receiver: Receiver) -> None:
    _put(api, {"data": [{"id": COASTAL, "Phone": "1"}]})
    wired.edit("Accounts", COASTAL, {"Phone": "2"})
    assert wired.wait_for_webhooks()
    assert receiver.requests == []
    wired.edit("Accounts", COASTAL, {"Add_to_Xero": True})  # ticking the box is an edit that matches
    [request] = receiver.wait_for(1)
    assert json.loads(request["raw"])["account_id"] == COASTAL


def test_a_user_edit_fires_and_moves_modified_time(wired: Any, receiver: Receiver) -> None:
    before = wired.get("Accounts", ACME)["Modified_Time"]
    wired.clock.advance(30)
    edited = wired.edit("Accounts", ACME, {"Phone": "+61 2 9000 2000"})
    assert edited["Modified_Time"] > before and edited["Modified_By"]["name"] == "Priya Sharma"
    [request] = receiver.wait_for(1)
    assert json.loads(request["raw"]) == {"account_id": ACME, "source": "workflow"}
    assert wired.wait_for_webhooks()  # the delivery is logged once the answer is read
    [delivery] = wired.webhook_deliveries()
    assert (delivery["kind"], delivery["status_code"], delivery["ok"]) == ("workflow", 200, True)


def test_a_contact_edit_fires_with_its_id(wired: Any, receiver: Receiver) -> None:
    wired.edit("Contacts", BRUNO, {"Mobile": "+61 400 999 999"})
    [request] = receiver.wait_for(1)
    assert json.loads(request["raw"]) == {"contact_id": BRUNO, "source": "workflow"}


def test_form_encoded_webhooks(wired: Any, receiver: Receiver) -> None:
    wired.configure(webhook_format="form")
    wired.edit("Accounts", ACME, {"Fax": None})
    [request] = receiver.wait_for(1)
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request["raw"].decode()) == {"account_id": [ACME], "source": ["workflow"]}


def test_failed_deliveries_are_logged(wired: Any, receiver: Receiver, zoho_sandbox: Any) -> None:
    receiver.status = 500
    wired.edit("Accounts", ACME, {"Fax": "1"})
    assert wired.wait_for_webhooks()
    wired.configure(webhook_url="http://127.0.0.1:9/nothing-listens-here")
    wired.edit("Accounts", ACME, {"Fax": "2"})
    assert wired.wait_for_webhooks()
    refused, unreachable = wired.webhook_deliveries()
    assert (refused["status_code"], refused["ok"]) == (500, False)
    assert unreachable["status_code"] is None and unreachable["error"].startswith("ConnectionError")
    listed = httpx.get(f"{zoho_sandbox.url}/__sandbox__/webhooks").json()["deliveries"]
    assert [d["ok"] for d in listed] == [False, False]


def test_webhooks_are_sent_after_the_api_call_returns(
    wired: Any, api: httpx.Client, receiver: Receiver
) -> None:
    receiver.delay = 0.5  # a slow receiver must not slow down the CRM's own answer
    answer = api.put("/crm/v8/Accounts", json={"data": [{"id": ACME, "Fax": "3"}]})
    assert answer.elapsed.total_seconds() < 0.4
    assert len(receiver.wait_for(1)) == 1


def test_the_button_signs_the_body_and_shows_the_answer(
    wired: Any, receiver: Receiver, zoho_sandbox: Any
) -> None:
    receiver.answer = {"status": "queued", "message": "Sync queued for Acme Widgets Pty Ltd"}
    receiver.status = 202
    shown = httpx.post(f"{zoho_sandbox.url}/__sandbox__/button/{ACME}").json()
    assert shown["status_code"] == 202
    assert shown["message"] == "Sync queued for Acme Widgets Pty Ltd"
    assert shown["display"] == "Sync queued for Acme Widgets Pty Ltd"
    [request] = receiver.requests
    raw = request["raw"]
    assert json.loads(raw) == {"account_id": ACME, "source": "button"}
    assert request["headers"]["X-Webhook-Token"] == TOKEN
    timestamp = request["headers"]["X-Webhook-Timestamp"]
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    expected = hmac.new(TOKEN.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Webhook-Signature"], expected)
    assert wired.webhook_deliveries()[-1]["kind"] == "button"


def test_the_button_reports_errors_like_the_deluge_function(wired: Any, receiver: Receiver) -> None:
    receiver.status, receiver.answer = 409, {"message": "Account Name is required"}
    shown = wired.click_button(ACME)
    assert (shown["status_code"], shown["message"]) == (409, "Account Name is required")
    assert shown["display"] == "Not synced: Account Name is required"


def test_the_button_times_out_like_invokeurl(wired: Any, receiver: Receiver) -> None:
    wired.configure(button_timeout=0.2)
    receiver.delay = 1.0
    shown = wired.click_button(ACME)
    assert shown["status_code"] is None and "Timeout" in shown["display"]
    assert shown["display"].startswith("Sync to Xero could not reach the sync service.")


def test_the_button_needs_a_webhook_url_and_an_account(zoho_sandbox: Any) -> None:
    answer = httpx.post(f"{zoho_sandbox.url}/__sandbox__/button/{ACME}")
    assert answer.status_code == 409
    zoho_sandbox.app.configure(webhook_url="http://127.0.0.1:9/x")
    assert httpx.post(f"{zoho_sandbox.url}/__sandbox__/button/5725767000000999999").status_code == 404
