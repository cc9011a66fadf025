"""Xero's official Python SDK against the stand-in: the best check that we speak Xero's wire format.

xero-python is a test-only client here (notes §8, §11): pointed at the stand-in through the
`base_url` of AccountingApi/IdentityApi and the token URL attributes of TokenApi.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from xero_python.accounting import AccountingApi, Address, Contact, ContactPerson, Contacts, Phone
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, NotFoundException
from xero_python.identity import IdentityApi

from tests.sandbox.xero.conftest import CLIENT_ID, CLIENT_SECRET, INITIAL_REFRESH_TOKEN


@pytest.fixture
def sdk(
    xero_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[AccountingApi, IdentityApi, str]]:
    url = xero_sandbox.url
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{url}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{url}/connect/revocation")
    store: dict[str, Any] = {
        "token": {
            "access_token": "expired",
            "refresh_token": INITIAL_REFRESH_TOKEN,
            "scope": ["offline_access", "accounting.contacts", "accounting.settings"],
            "expires_in": 1800,
            "expires_at": 0,  # forces the SDK to refresh through the stand-in first
            "token_type": "Bearer",
        }
    }
    config = Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
    client = ApiClient(
        config,
        pool_threads=1,
        oauth2_token_getter=lambda: store["token"],
        oauth2_token_saver=lambda token: store.update(token=token),
    )
    identity = IdentityApi(client, base_url=url)
    accounting = AccountingApi(client, base_url=f"{url}/api.xro/2.0")
    tenant_id = identity.get_connections()[0].tenant_id  # the SDK calls GET /Connections
    yield accounting, identity, tenant_id
    assert store["token"]["refresh_token"] != INITIAL_REFRESH_TOKEN  # it rotated and was saved


def test_sdk_create_read_update(xero_sandbox, sdk):
    accounting, _, tenant = sdk
    new = Contact(
        name="SDK Pty Ltd",
        contact_number="SDK-0001",
        email_address="hello@sdk.example",
        phones=[Phone(phone_type="MOBILE", phone_number="0400 000 000")],
        addresses=[Address(address_type="STREET", address_line1="1 Test St", city="Sydney")],
        contact_persons=[
            ContactPerson(first_name="Sam", email_address="sam@sdk.example", include_in_emails=True)
        ],
    )
    created = accounting.create_contacts(
        tenant, Contacts(contacts=[new]), summarize_errors=False, idempotency_key="sdk-1"
    )
    (contact,) = created.contacts
    assert contact.status_attribute_string == "OK" and not contact.has_validation_errors
    contact_id = contact.contact_id

    read = accounting.get_contact(tenant, contact_id).contacts[0]
    assert read.name == "SDK Pty Ltd" and read.contact_persons[0].first_name == "Sam"
    assert {p.phone_type: p.phone_number for p in read.phones}["MOBILE"] == "0400 000 000"
    assert read.updated_date_utc is not None  # /Date(...)/ parsed by the SDK
    by_number = accounting.get_contact_by_contact_number(tenant, "SDK-0001").contacts[0]
    assert by_number.contact_id == contact_id

    changed = Contacts(contacts=[Contact(contact_id=contact_id, name="SDK Renamed Ltd")])
    updated = accounting.update_contact(tenant, contact_id, changed).contacts[0]
    assert updated.name == "SDK Renamed Ltd" and updated.email_address == "hello@sdk.example"

    listed = accounting.get_contacts(tenant, where='Name=="sdk renamed ltd"', page=1, include_archived=True)
    assert [c.contact_id for c in listed.contacts] == [contact_id] and listed.pagination.item_count == 1
    assert accounting.get_organisations(tenant).organisations[0].short_code == "!dEm0C"

    # Everything the SDK sent passed the contract check.
    assert [c for c in xero_sandbox.app.calls() if c.get("contract_violations")] == []


def test_sdk_sees_xero_errors(sdk):
    accounting, _, tenant = sdk
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Greenleaf Organics")]))
    assert "already assigned to another contact" in str(raised.value.reason)
    with pytest.raises(NotFoundException):
        accounting.get_contact(tenant, "00000000-0000-0000-0000-00000000abcd")
