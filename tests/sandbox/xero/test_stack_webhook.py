"""`make run` subscribes the app to the Xero stand-in's webhooks, and says so plainly when it cannot."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sandbox.stack import LOCAL_SECRETS, LocalStack, _banner
from sandbox.xero import XeroSandbox, XeroSandboxConfig
from tests.sandbox.xero.conftest import WEBHOOK_KEY, Hook


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    monkeypatch.setenv("XERO_WEBHOOK_KEY", WEBHOOK_KEY)
    stack = LocalStack()
    stack.xero = XeroSandbox(XeroSandboxConfig(seed=False, webhook_background_delivery=False))
    return stack


def test_a_local_webhook_key_is_set_with_the_other_local_secrets():
    assert LOCAL_SECRETS["XERO_WEBHOOK_KEY"] == "local-xero-webhook-key"


def test_an_app_that_answers_intent_to_receive_is_subscribed(stack: LocalStack, hook: Hook):
    stack._subscribe_xero_webhook(hook.url)
    assert stack.xero.webhook_state()["status"] == "OK"
    assert stack.xero_webhook_note == ""
    stack.xero.close()


def test_an_app_that_does_not_answer_yet_leaves_one_plain_line_in_the_banner(
    stack: LocalStack, hook: Hook, monkeypatch: pytest.MonkeyPatch
):
    hook.receiver.mode = "deny"  # e.g. a route that refuses every request
    stack._subscribe_xero_webhook(hook.url)
    assert stack.xero_webhook_note == (
        f"Xero webhook not enabled: {hook.url} did not pass Xero's intent-to-receive check "
        "(Response not 200; it answered HTTP 401)."
    )
    monkeypatch.setenv("WEBHOOK_TOKEN", "t")
    monkeypatch.setenv("ADMIN_TOKEN", "a")
    shown = SimpleNamespace(
        app_url="http://app",
        xero_url="http://xero",
        zoho_url="http://zoho",
        xero_webhook_note=stack.xero_webhook_note,
    )
    banner = _banner(shown)  # type: ignore[arg-type]
    assert banner.count("Xero webhook not enabled") == 1
    assert "curl -s -X POST http://xero/__sandbox__/user/contacts/0f6a8c57-" in banner
    assert banner.rstrip().endswith("Ctrl-C stops everything.")
    assert WEBHOOK_KEY not in banner
