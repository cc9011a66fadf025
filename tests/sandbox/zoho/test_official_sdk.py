"""Zoho's official Python SDK (zohocrmsdk8-0), a test-only client, pointed at the stand-in.

A real Zoho client is the strongest check that the stand-in speaks Zoho's wire format: it reads
field metadata, parses records, lookups and DateTimes with its own converters, and refuses
answers it does not understand.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
from zohocrmsdk.src.com.zoho.crm.api import coql, record, related_records
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.header_map import HeaderMap
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
from zohocrmsdk.src.com.zoho.crm.api.util import Choice

from .conftest import ACME, BLUE_MOUNTAIN


def _initialise(url: str, tmp_path: Path) -> None:
    environment = DataCenter.Environment(url, url + "/oauth/v2/token", url)
    token = OAuthToken(
        client_id="sandbox-zoho-client-id",
        client_secret="sandbox-zoho-client-secret",
        refresh_token="sandbox-zoho-refresh-token",
        find_user=False,
    )
    Initializer.initialize(
        environment=environment,
        token=token,
        store=FileStore(str(tmp_path / "tokens.csv")),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=True),
        resource_path=str(tmp_path),
    )


def test_the_official_sdk_reads_queries_and_updates(zoho_sandbox: Any, tmp_path: Path) -> None:
    _initialise(zoho_sandbox.url, tmp_path)

    # Read an Account.
    accounts = record.RecordOperations("Accounts")
    answer = accounts.get_record(int(ACME), ParameterMap(), HeaderMap())
    assert answer.get_status_code() == 200
    wrapper = answer.get_object()
    assert isinstance(wrapper, record.ResponseWrapper)
    acme = wrapper.get_data()[0]
    assert acme.get_key_value("Account_Name") == "Acme Widgets Pty Ltd"
    assert acme.get_key_value("Add_to_Xero") is True
    assert isinstance(acme.get_key_value("Modified_Time"), datetime.datetime)

    # Read its related Contacts.
    params = ParameterMap()
    params.add(related_records.GetRelatedRecordsParam.fields, "First_Name,Last_Name,Email,Primary_Contact")
    related = related_records.RelatedRecordsOperations("Contacts", "Accounts")
    contacts = related.get_related_records(int(BLUE_MOUNTAIN), params, HeaderMap()).get_object()
    assert isinstance(contacts, related_records.ResponseWrapper)
    assert [c.get_key_value("Primary_Contact") for c in contacts.get_data()] == [True, False, False]

    # Run a COQL query.
    body = coql.BodyWrapper()
    body.set_select_query("select Account_Name, Modified_Time from Accounts where Add_to_Xero = false")
    rows = coql.CoqlOperations().get_records(body).get_object()
    assert isinstance(rows, coql.ResponseWrapper)
    assert [r.get_key_value("Account_Name") for r in rows.get_data()] == ["Coastal Surf Supplies"]

    # Update the Account without firing workflows.
    change = record.Record()
    change.set_id(int(ACME))
    change.add_key_value("Xero_ID", "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f99")
    change.add_key_value("Xero_Sync_Status", Choice("Synced"))
    change.add_key_value("Xero_Last_Synced", datetime.datetime(2026, 11, 25, 18, 0, tzinfo=datetime.UTC))
    update = record.BodyWrapper()
    update.set_data([change])
    update.set_trigger([])
    result = accounts.update_records(update, HeaderMap())
    assert result.get_status_code() == 200
    actions = result.get_object()
    assert isinstance(actions, record.ActionWrapper)
    [outcome] = actions.get_data()
    assert isinstance(outcome, record.SuccessResponse)
    assert outcome.get_status().get_value() == "success"

    stored = zoho_sandbox.app.get("Accounts", ACME)
    assert stored["Xero_Sync_Status"] == "Synced"
    assert stored["Xero_Last_Synced"] == "2026-11-25T18:00:00+00:00"
    calls = zoho_sandbox.app.calls()
    assert not any(c.get("contract_violations") for c in calls)
    assert {c["template"] for c in calls} >= {"/crm/v8/settings/fields", "/crm/v8/settings/related_lists"}
