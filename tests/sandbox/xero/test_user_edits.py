"""Contacts edited "as a Xero user", and the webhook events every create and update raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.xero import XeroSandbox, XeroSandboxConfig
from sandbox.xero.app import ContactNotFound, ContactRejected
from tests.sandbox.xero.conftest import WEBHOOK_KEY, Hook, XeroApi

USER = "/__sandbox__/user/contacts"


@pytest.fixture
def sb(xero_sandbox: Any, hook: Hook) -> XeroSandbox:
    app: XeroSandbox = xero_sandbox.app
    app.configure(webhook_background_delivery=False)
    assert app.enable_webhooks(hook.url, WEBHOOK_KEY)["status"] == "OK"
    hook.receiver.received.clear()
    return app


def _events(sb: XeroSandbox, hook: Hook) -> list[tuple[str, str]]:
    sb.deliver_webhooks()
    return [(e["eventType"], e["resourceId"]) for e in hook.receiver.events()]


# --- the user endpoints --------------------------------------------------------------------


def test_a_user_creates_edits_archives_and_restores_a_contact(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    created = xero.http.post(USER, json={"Name": "Kettle & Co", "EmailAddress": "hi@kettle.example"})
    assert created.status_code == 200
    contact = created.json()
    contact_id = contact["ContactID"]
    assert (contact["Name"], contact["ContactStatus"]) == ("Kettle & Co", "ACTIVE")
    assert _events(sb, hook) == [("CREATE", contact_id)]

    sb.clock.advance(5)
    edited = xero.http.post(f"{USER}/{contact_id}", json={"EmailAddress": "accounts@kettle.example"}).json()
    assert edited["EmailAddress"] == "accounts@kettle.example"
    assert edited["UpdatedDateUTC"] != contact["UpdatedDateUTC"]
    assert (
        xero.get(f"/Contacts/{contact_id}").json()["Contacts"][0]["EmailAddress"] == "accounts@kettle.example"
    )

    archived = xero.http.post(f"{USER}/{contact_id}", json={"ContactStatus": "ARCHIVED"}).json()
    assert archived["ContactStatus"] == "ARCHIVED"
    restored = xero.http.post(f"{USER}/{contact_id}", json={"ContactStatus": "ACTIVE"}).json()
    assert restored["ContactStatus"] == "ACTIVE"
    hook.receiver.received.clear()
    assert _events(sb, hook) == [("UPDATE", contact_id)] * 3  # exactly one event per edit


def test_user_edits_are_validated_like_the_api(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    existing = sb.contacts()[0]
    cases = [
        ({"EmailAddress": "nope"}, "Email address must be valid."),
        ({"Name": existing["Name"]}, "already assigned to another contact"),
        ({"Name": ""}, "Contact Name cannot be empty."),
        ({"Name": "N" * 256}, "Name must not be more than 255 characters long."),
        ({"Name": "X", "ContactNumber": "Z-1"}, "ContactNumber can only be set through the API"),
        ({"Name": "X", "Colour": "red"}, "'Colour' is not a property defined by the spec"),
        ({"Name": "X", "ContactStatus": "GONE"}, "ContactStatus"),
        ([], "JSON object"),
    ]
    for body, message in cases:
        answer = xero.http.post(USER, json=body)
        assert answer.status_code == 400, body
        assert message in answer.json()["error"], (body, answer.json())
        assert answer.json()["ValidationErrors"]
    assert xero.http.post(USER, content=b"{not json").status_code == 400
    assert (
        xero.http.post(f"{USER}/0f6a8c57-1b1e-4a57-8d2c-000000000000", json={"Name": "Y"}).status_code == 404
    )
    assert xero.http.post(f"{USER}/not-a-guid", json={"Name": "Y"}).status_code == 404
    archived = next(c for c in sb.contacts() if c["ContactStatus"] == "ARCHIVED")
    refused = xero.http.post(f"{USER}/{archived['ContactID']}", json={"FirstName": "Y"})
    assert refused.status_code == 400 and "restore it" in refused.json()["error"]
    assert _events(sb, hook) == []  # nothing saved, nothing raised


def test_a_user_may_type_a_website_the_api_cannot_set(sb: XeroSandbox, xero: XeroApi):
    contact_id = sb.user_create_contact({"Name": "Web Shop"})["ContactID"]
    assert (
        sb.user_edit_contact(contact_id, {"Website": "www.webshop.example"})["Website"]
        == "www.webshop.example"
    )
    # ... and then every API update of it fails, as in Xero.
    answer = xero.save({"ContactID": contact_id, "EmailAddress": "a@webshop.example"}).json()["Contacts"][0]
    assert answer["ValidationErrors"] == [{"Message": "Website must be valid."}]


def test_the_python_api_raises_clear_errors(sb: XeroSandbox):
    with pytest.raises(ContactRejected) as rejected:
        sb.user_create_contact({"Name": "Q", "EmailAddress": "bad"})
    assert rejected.value.errors == ["Email address must be valid."]
    with pytest.raises(ContactNotFound):
        sb.user_edit_contact("0f6a8c57-1b1e-4a57-8d2c-000000000000", {"Name": "Y"})


def test_history_records_who_did_what(sb: XeroSandbox, xero: XeroApi):
    contact_id = sb.user_create_contact({"Name": "Audit Ltd"})["ContactID"]
    xero.save({"ContactID": contact_id, "ContactNumber": "5725767000000400099"})
    history = sb.contact_history(contact_id)
    assert [(h["Changes"], h["User"]) for h in history] == [
        ("Edited", "System Generated"),
        ("Created", "Sandbox User"),
    ]
    assert "ContactNumber" in history[0]["Details"]


# --- API writes raise events too ------------------------------------------------------------


def test_api_writes_raise_events_including_our_own(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    created = xero.put("/Contacts", json={"Contacts": [{"Name": "Made By The Service"}]}).json()
    contact_id = created["Contacts"][0]["ContactID"]
    xero.post(f"/Contacts/{contact_id}", json={"Contacts": [{"ContactNumber": "5725767000000400077"}]})
    xero.save({"ContactID": contact_id, "ContactStatus": "ARCHIVED"})
    assert _events(sb, hook) == [("CREATE", contact_id), ("UPDATE", contact_id), ("UPDATE", contact_id)]


def test_failed_elements_and_idempotent_replays_raise_nothing(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    taken = sb.contacts()[0]["Name"]
    answer = xero.save({"Name": "Fresh One"}, {"Name": taken}, method="PUT").json()["Contacts"]
    assert [c["StatusAttributeString"] for c in answer] == ["OK", "ERROR"]
    headers = {"Idempotency-Key": "once"}
    body = {"Contacts": [{"Name": "Only Once"}]}
    first = xero.request("PUT", "/Contacts", json=body, headers=headers).json()
    replay = xero.request("PUT", "/Contacts", json=body, headers=headers).json()
    assert first == replay
    assert [t for t, _ in _events(sb, hook)] == ["CREATE", "CREATE"]


def test_disconnected_tenants_raise_no_events(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    connection = xero.http.get("/connections", headers=xero.headers()).json()[0]
    sb.user_create_contact({"Name": "Before"})
    assert xero.http.delete(f"/connections/{connection['id']}", headers=xero.headers()).status_code == 204
    sb.user_create_contact({"Name": "After"})
    assert [t for t, _ in _events(sb, hook)] == ["CREATE"]


# --- property: every changed contact is announced at least once -----------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "user_edit", "api_edit", "archive", "restore", "api_create"]),
        st.integers(min_value=0, max_value=4),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=OPERATIONS,
    after=OPERATIONS,
    batch_max=st.integers(min_value=1, max_value=5),
    duplicate=st.booleans(),
    out_of_order=st.booleans(),
    failures=st.integers(min_value=0, max_value=3),
)
def test_any_sequence_of_edits_delivers_every_changed_contact(
    hook: Hook, xero_sandbox: Any, before, after, batch_max, duplicate, out_of_order, failures
):
    """Whatever is edited after a delivery is announced again: a receiver that fetches each
    announced contact always ends up with its latest state."""
    sb = XeroSandbox(
        XeroSandboxConfig(
            seed=False,
            webhook_background_delivery=False,
            webhook_batch_max=batch_max,
            webhook_duplicate_deliveries=duplicate,
            webhook_out_of_order=out_of_order,
        )
    )
    hook.receiver.mode, hook.receiver.fail_next = "correct", 0  # nothing left from the last example
    assert sb.enable_webhooks(hook.url, WEBHOOK_KEY)["status"] == "OK"
    ids: list[str] = []
    try:
        for operations in (before, after):
            hook.receiver.received.clear()
            hook.receiver.fail_next = failures
            changed = _apply_operations(sb, operations, ids)
            for _ in range(failures * (2 if duplicate else 1) + 2):
                sb.deliver_webhooks(retries=True)
            assert sb.webhook_state()["pending_events"] == 0
            assert changed <= {e["resourceId"] for e in hook.receiver.events()}
    finally:
        sb.close()


def _apply_operations(sb: XeroSandbox, operations: list[tuple[str, int]], ids: list[str]) -> set[str]:
    """Run the edits (through the user endpoints and the API's code path); the contacts changed."""
    changed: set[str] = set()
    book = sb.book()
    for operation, pick in operations:
        target = ids[pick % len(ids)] if ids else None
        try:
            if operation in ("create", "api_create") or target is None:
                new = {"Name": f"Contact {len(ids)}"}
                if operation == "api_create":
                    outcome = book.save(new, create_only=True, now=sb.clock.now())
                    sb._contact_saved(sb.tenant_id, outcome, "System Generated")
                    contact_id = outcome.contact["ContactID"]
                else:
                    contact_id = sb.user_create_contact(new)["ContactID"]
                ids.append(contact_id)
            elif operation == "api_edit":
                outcome = book.save(
                    {"LastName": f"L{pick}"}, create_only=False, now=sb.clock.now(), forced_id=target
                )
                if not outcome.ok:
                    continue  # an archived contact: the API refuses, nothing changed
                sb._contact_saved(sb.tenant_id, outcome, "System Generated")
                contact_id = target
            elif operation == "user_edit":
                contact_id = sb.user_edit_contact(target, {"FirstName": f"F{pick}"})["ContactID"]
            else:
                status = "ARCHIVED" if operation == "archive" else "ACTIVE"
                contact_id = sb.user_edit_contact(target, {"ContactStatus": status})["ContactID"]
        except ContactRejected:
            continue  # e.g. editing an archived contact: nothing changed, nothing to announce
        changed.add(contact_id)
    return changed
