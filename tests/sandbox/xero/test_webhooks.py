"""Xero's webhooks from the stand-in: intent to receive, signed and batched deliveries, retries,
disabling, and the faults that prove a receiver's exactly-once handling."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from sandbox.specs.xero_spec import load_spec
from sandbox.xero import XeroSandbox
from sandbox.xero.webhooks import sign
from tests.sandbox.xero.conftest import WEBHOOK_KEY, Hook, XeroApi, expected_signature

ADMIN = "/__sandbox__"


@pytest.fixture
def sb(xero_sandbox: Any) -> XeroSandbox:
    """The stand-in with deliveries only on deliver-now (no timing in these tests)."""
    app: XeroSandbox = xero_sandbox.app
    app.configure(webhook_background_delivery=False)
    return app


@pytest.fixture
def subscribed(sb: XeroSandbox, hook: Hook) -> XeroSandbox:
    state = sb.enable_webhooks(hook.url, WEBHOOK_KEY)
    assert state["status"] == "OK", state
    hook.receiver.received.clear()
    return sb


def _new_contact(sb: XeroSandbox, name: str = "Harbour Bikes") -> str:
    return str(sb.user_create_contact({"Name": name})["ContactID"])


# --- the signature -----------------------------------------------------------------------


def test_signature_is_base64_hmac_sha256_of_the_raw_body_with_the_key():
    # RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    digest = bytes.fromhex("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == base64.b64encode(digest).decode()


def test_deliveries_are_signed_over_the_exact_bytes_sent(subscribed: XeroSandbox, hook: Hook):
    _new_contact(subscribed)
    subscribed.deliver_webhooks()
    [delivery] = hook.receiver.received
    assert delivery.signature == expected_signature(WEBHOOK_KEY, delivery.raw)
    assert delivery.signature != expected_signature("another key", delivery.raw)


# --- intent to receive -------------------------------------------------------------------


def test_a_correct_receiver_passes_intent_to_receive(sb: XeroSandbox, hook: Hook):
    state = sb.enable_webhooks(hook.url, WEBHOOK_KEY)
    assert (state["status"], state["portal_status"], state["reason"]) == ("OK", "OK", "")
    checks = state["intent_to_receive"]
    assert sorted(c["correctly_signed"] for c in checks) == [False] * 3 + [True] * 3
    assert all(c["passed"] and c["body_empty"] for c in checks)
    # What Xero sends: empty events, sequence 0, 20 random capitals of entropy, some signed wrongly.
    bodies = [r.body for r in hook.receiver.received]
    assert all(b["events"] == [] and b["firstEventSequence"] == b["lastEventSequence"] == 0 for b in bodies)
    assert all(len(b["entropy"]) == 20 and b["entropy"].isupper() for b in bodies)
    assert sorted(r.signed_correctly for r in hook.receiver.received) == [False] * 3 + [True] * 3


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("lazy", "Response to incorrectly signed payload not 401"),
        ("deny", "Response not 200"),
        ("chatty", "Response contains a body"),
    ],
)
def test_a_receiver_that_answers_wrongly_fails_intent_to_receive(sb: XeroSandbox, hook: Hook, mode, reason):
    hook.receiver.mode = mode
    state = sb.enable_webhooks(hook.url, WEBHOOK_KEY)
    assert state["status"] == "INTENT_TO_RECEIVE_FAILED"
    assert state["portal_status"] == "Intent To Receive required"
    assert state["reason"] == reason
    # and no event reaches it
    hook.receiver.received.clear()
    _new_contact(sb)
    assert sb.deliver_webhooks() == [] and hook.receiver.received == []


def test_a_wrong_key_or_an_unreachable_url_fails_intent_to_receive(sb: XeroSandbox, hook: Hook):
    assert sb.enable_webhooks(hook.url, "not the receiver's key")["reason"] == "Response not 200"
    unreachable = sb.enable_webhooks("http://127.0.0.1:9/webhooks/xero", WEBHOOK_KEY)
    assert unreachable["status"] == "INTENT_TO_RECEIVE_FAILED"
    assert unreachable["reason"].startswith("No response")


def test_a_slow_receiver_fails_intent_to_receive(sb: XeroSandbox, hook: Hook):
    sb.configure(webhook_timeout=0.05, webhook_intent_rounds=1)
    hook.receiver.hold = threading.Event()
    threading.Timer(0.3, hook.receiver.hold.set).start()
    assert sb.enable_webhooks(hook.url, WEBHOOK_KEY)["reason"] == "Response took longer than 5 seconds"


def test_admin_endpoints_enable_show_deliver_and_disable(sb: XeroSandbox, hook: Hook, xero: XeroApi):
    http = xero.http
    assert http.post(f"{ADMIN}/webhooks", json={"url": hook.url}).status_code == 400
    enabled = http.post(f"{ADMIN}/webhooks", json={"url": hook.url, "key": WEBHOOK_KEY}).json()
    assert enabled["status"] == "OK" and enabled["url"] == hook.url
    _new_contact(sb)
    delivered = http.post(f"{ADMIN}/webhooks/deliver").json()
    [attempt] = delivered["attempts"]
    assert attempt["events"] == 1 and attempt["status_code"] == 200 and attempt["body_empty"] is True
    assert set(attempt) >= {"time", "events", "status_code", "body_empty", "duration_ms", "ok"}
    log = http.get(f"{ADMIN}/webhooks").json()["deliveries"]
    assert [entry["kind"] for entry in log] == ["intent"] * 6 + ["events"]
    disabled = http.delete(f"{ADMIN}/webhooks").json()
    assert disabled["status"] == "NONE"
    _new_contact(sb, "After Disabling")
    assert http.post(f"{ADMIN}/webhooks/deliver").json()["attempts"] == []


# --- events ------------------------------------------------------------------------------


def test_the_payload_follows_the_webhooks_spec(subscribed: XeroSandbox, hook: Hook):
    contact_id = _new_contact(subscribed)
    subscribed.deliver_webhooks()
    [payload] = hook.receiver.payloads()
    required = load_spec_webhooks()["components"]["schemas"]["WebhookEvent"]
    assert set(required["required"]) <= set(payload)
    [event] = payload["events"]
    assert set(required["properties"]["events"]["items"]["required"]) == set(event)
    assert event == {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{contact_id}",
        "resourceId": contact_id,
        "eventDateUtc": event["eventDateUtc"],
        "eventType": "CREATE",
        "eventCategory": "CONTACT",
        "tenantId": subscribed.tenant_id,
        "tenantType": "ORGANISATION",
    }
    assert len(event["eventDateUtc"]) == len("2024-06-21T01:15:39.902") and "Z" not in event["eventDateUtc"]
    assert payload["firstEventSequence"] == payload["lastEventSequence"] == 1


def load_spec_webhooks() -> dict[str, Any]:
    import yaml

    from sandbox.specs.xero_spec import SPEC_DIR

    load_spec("accounting")  # the same vendored directory
    return yaml.safe_load((SPEC_DIR / "xero-webhooks.yaml").read_text())


def test_events_are_batched_and_capped_per_payload(subscribed: XeroSandbox, hook: Hook):
    subscribed.configure(webhook_batch_max=2)
    ids = [_new_contact(subscribed, f"Batch {i}") for i in range(5)]
    attempts = subscribed.deliver_webhooks()
    assert [a["events"] for a in attempts] == [2, 2, 1]
    payloads = hook.receiver.payloads()
    assert [(p["firstEventSequence"], p["lastEventSequence"]) for p in payloads] == [(1, 2), (3, 4), (5, 5)]
    assert [e["resourceId"] for e in hook.receiver.events()] == ids


def test_the_background_thread_sends_a_batch_once_its_window_has_passed(subscribed: XeroSandbox, hook: Hook):
    subscribed.configure(webhook_background_delivery=True, webhook_batch_window=3600)
    first, second = _new_contact(subscribed, "One"), _new_contact(subscribed, "Two")
    subscribed.clock.advance(3600)
    events = hook.receiver.wait_for_events(2)
    assert [e["resourceId"] for e in events] == [first, second]
    assert len(hook.receiver.payloads()) == 1  # both in one batch


def test_a_slow_receiver_never_holds_up_the_api_call_that_raised_the_event(
    subscribed: XeroSandbox, hook: Hook, xero: XeroApi
):
    subscribed.configure(webhook_background_delivery=True, webhook_batch_window=0)
    hook.receiver.arrived.clear()
    hook.receiver.hold = threading.Event()
    try:
        assert xero.save({"Name": "First Edit"}).status_code == 200
        assert hook.receiver.arrived.wait(10)  # the delivery is now stuck in the receiver
        # The receiver has not answered, yet the next API call is served at once.
        assert xero.save({"Name": "Second Edit"}).status_code == 200
        assert hook.receiver.events() == []
    finally:
        hook.receiver.hold.set()
    assert {e["resourceId"] for e in hook.receiver.wait_for_events(2)} == {
        c["ContactID"] for c in subscribed.contacts() if c["Name"] in ("First Edit", "Second Edit")
    }


def test_close_stops_the_delivery_thread(sb: XeroSandbox, hook: Hook):
    sb.enable_webhooks(hook.url, WEBHOOK_KEY)
    thread = sb.webhooks._thread
    assert thread is not None and thread.is_alive()
    sb.close()
    thread.join(2)
    assert not thread.is_alive()


# --- retries and disabling ----------------------------------------------------------------


def test_a_failed_delivery_is_retried_on_a_backoff_schedule_then_delivered(
    subscribed: XeroSandbox, hook: Hook
):
    contact_id = _new_contact(subscribed)
    hook.receiver.fail_next = 2
    [first] = subscribed.deliver_webhooks()
    assert (first["status_code"], first["ok"], first["reason"]) == (500, False, "Response not 200")
    state = subscribed.webhook_state()
    assert (state["status"], state["portal_status"], state["pending_events"]) == ("RETRY", "Retry", 1)

    assert subscribed.deliver_webhooks() == []  # not due yet
    subscribed.clock.advance(30)  # webhook_retry_first
    assert [a["attempt"] for a in subscribed.deliver_webhooks()] == [2]
    subscribed.clock.advance(30)
    assert subscribed.deliver_webhooks() == []  # the interval doubled
    subscribed.clock.advance(30)
    [third] = subscribed.deliver_webhooks()
    assert (third["attempt"], third["ok"]) == (3, True)
    assert subscribed.webhook_state()["status"] == "OK"
    bodies = [r.raw for r in hook.receiver.received]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same payload each time
    assert [e["resourceId"] for e in hook.receiver.events()] == [contact_id] * 3


def test_events_raised_while_retrying_wait_behind_the_failing_payload(subscribed: XeroSandbox, hook: Hook):
    first = _new_contact(subscribed, "First")
    hook.receiver.fail_next = 1
    subscribed.deliver_webhooks()
    second = _new_contact(subscribed, "Second")
    attempts = subscribed.deliver_webhooks(retries=True)
    assert [a["ok"] for a in attempts] == [True, True]
    assert [e["resourceId"] for e in hook.receiver.events()] == [first, first, second]


def test_after_the_retry_period_the_subscription_is_disabled(subscribed: XeroSandbox, hook: Hook):
    _new_contact(subscribed)
    hook.receiver.mode = "fail"
    subscribed.deliver_webhooks()
    subscribed.clock.advance(86400)
    subscribed.deliver_webhooks(retries=True)
    state = subscribed.webhook_state()
    assert (state["status"], state["portal_status"]) == ("DISABLED", "Disabled")
    assert "re-enable" in state["reason"] and state["pending_events"] == 0 and state["dropped_events"] == 1
    hook.receiver.mode = "correct"
    _new_contact(subscribed, "While Disabled")
    assert subscribed.deliver_webhooks(retries=True) == []
    # Re-enabling runs intent to receive again, then events flow.
    assert subscribed.enable_webhooks(hook.url, WEBHOOK_KEY)["status"] == "OK"
    after = _new_contact(subscribed, "After Re-enabling")
    subscribed.deliver_webhooks()
    assert hook.receiver.events()[-1]["resourceId"] == after


def test_a_connection_refused_is_a_failed_delivery(subscribed: XeroSandbox, hook: Hook):
    _new_contact(subscribed)
    subscribed.webhooks.subscription.url = "http://127.0.0.1:9/webhooks/xero"  # the receiver went away
    [attempt] = subscribed.deliver_webhooks()
    assert attempt["status_code"] is None and attempt["reason"].startswith("No response")
    assert subscribed.webhook_state()["status"] == "RETRY"


def test_a_200_with_a_body_is_not_an_acceptable_answer(subscribed: XeroSandbox, hook: Hook):
    _new_contact(subscribed)
    hook.receiver.mode = "chatty"
    [attempt] = subscribed.deliver_webhooks()
    assert (attempt["status_code"], attempt["body_empty"], attempt["reason"]) == (
        200,
        False,
        "Response contains a body",
    )


def test_the_delivery_log_is_capped(subscribed: XeroSandbox, hook: Hook, monkeypatch: pytest.MonkeyPatch):
    from sandbox.xero import webhooks

    subscribed.webhooks._log = webhooks.deque(subscribed.webhooks._log, maxlen=3)
    subscribed.configure(webhook_batch_max=1)
    for i in range(5):
        _new_contact(subscribed, f"Logged {i}")
    assert len(subscribed.deliver_webhooks()) == 5
    assert len(subscribed.webhook_state()["deliveries"]) == 3
    assert webhooks.MAX_LOG == 1000


def test_pending_events_are_bounded_while_the_receiver_is_down(subscribed: XeroSandbox, hook: Hook):
    subscribed.configure(webhook_max_pending_events=3)
    for i in range(5):
        _new_contact(subscribed, f"Pending {i}")
    state = subscribed.webhook_state()
    assert (state["pending_events"], state["dropped_events"]) == (3, 2)


# --- faults for the receiver's exactly-once handling ----------------------------------------


def test_duplicate_deliveries_fault_sends_every_payload_twice(subscribed: XeroSandbox, hook: Hook):
    subscribed.configure(webhook_duplicate_deliveries=True)
    contact_id = _new_contact(subscribed)
    assert len(subscribed.deliver_webhooks()) == 2
    first, second = hook.receiver.received
    assert first.raw == second.raw and first.signed_correctly
    assert [e["resourceId"] for e in hook.receiver.events()] == [contact_id, contact_id]


def test_out_of_order_fault_sends_the_newest_first(subscribed: XeroSandbox, hook: Hook):
    subscribed.configure(webhook_out_of_order=True, webhook_batch_max=2)
    contact_id = _new_contact(subscribed)
    for phone in ("1", "2"):
        subscribed.user_edit_contact(contact_id, {"Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": phone}]})
    subscribed.deliver_webhooks()
    events = hook.receiver.events()
    assert [e["eventType"] for e in events] == ["UPDATE", "UPDATE", "CREATE"]
    dates = [e["eventDateUtc"] for e in events]
    assert dates == sorted(dates, reverse=True)
    assert [(p["firstEventSequence"], p["lastEventSequence"]) for p in hook.receiver.payloads()] == [
        (3, 3),
        (1, 2),
    ]


def test_reset_drops_queued_events_but_keeps_the_subscription(subscribed: XeroSandbox, hook: Hook):
    _new_contact(subscribed)
    subscribed.reset(keep_config=True)
    state = subscribed.webhook_state()
    assert (state["status"], state["pending_events"], state["deliveries"]) == ("OK", 0, [])
