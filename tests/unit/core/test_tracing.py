"""X-Ray traces: a subsegment per Zoho or Xero call with its status, one per queued message.

A real X-Ray SDK recorder and a real Powertools Tracer record the segments; only the transport
differs from Lambda: an emitter that keeps the finished segment in memory instead of sending
it to the X-Ray daemon.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chalicelib import tracing
from chalicelib.deadline import Deadline
from chalicelib.http import HttpService, RetryPolicy
from chalicelib.services.worker import QueuedMessage, process_messages
from tests.scripted_http import Reply, reply, scripted_session
from tests.unit.core.test_worker import FakeSyncer


class MemoryEmitter:
    """The X-Ray daemon's stand-in: keeps what the recorder sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str) -> None:
        return None


@pytest.fixture
def traced() -> Iterator[Any]:
    """Tracing switched on with an in-memory recorder; yields a function returning the segment."""
    from aws_lambda_powertools import Tracer
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core.context import Context
    from aws_xray_sdk.core.recorder import AWSXRayRecorder

    global_sdk_config.set_sdk_enabled(True)
    emitter = MemoryEmitter()
    recorder = AWSXRayRecorder()
    recorder.configure(emitter=emitter, sampling=False, context=Context(), streaming_threshold=1000)
    tracing.use(Tracer(service="zoho-xero-sync", disabled=False, auto_patch=False, provider=recorder))
    recorder.begin_segment("test-invocation")

    def finish() -> dict[str, Any]:
        recorder.end_segment()
        (segment,) = emitter.sent
        return segment

    yield finish
    tracing.reset()
    Tracer._reset_config()


def subsegments(segment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in segment.get("subsegments", []):
        yield child
        yield from subsegments(child)


def test_each_upstream_call_is_a_subsegment_with_its_status(traced: Any) -> None:
    session = scripted_session([reply(429, **{"Retry-After": "0"}), reply(200, {})])
    xero = HttpService("Xero", session, retry=RetryPolicy(base_delay=0), sleep=lambda _: None)

    xero.send("POST", "https://api.xero.test/api.xro/2.0/Contacts", deadline=Deadline(10))

    calls = [s for s in subsegments(traced()) if s["name"] == "Xero"]
    assert [c["http"]["response"]["status"] for c in calls] == [429, 200]
    assert [c["annotations"]["status"] for c in calls] == [429, 200]
    assert calls[0].get("throttle") is True  # X-Ray shows Xero's 429 as throttling
    assert calls[1]["http"]["request"] == {"method": "POST", "url": "/api.xro/2.0/Contacts"}
    assert all(c["namespace"] == "remote" for c in calls)


def test_a_call_that_failed_records_the_error(traced: Any) -> None:
    def refuse(request: requests.PreparedRequest) -> Reply:
        raise requests.exceptions.ConnectionError("refused", request=request)

    zoho = HttpService("Zoho CRM", scripted_session([refuse]), retry=RetryPolicy(attempts=1))
    with pytest.raises(Exception, match="Could not reach Zoho CRM"):
        zoho.send("GET", "https://zoho.test/crm/v8/Accounts/1", deadline=Deadline(10))

    (call,) = [s for s in subsegments(traced()) if s["name"] == "Zoho CRM"]
    assert call.get("fault") is True
    assert call["cause"]["exceptions"][0]["type"] == "ConnectionError"


def test_each_queued_message_is_its_own_subsegment(traced: Any) -> None:
    messages = [
        QueuedMessage("m-1", json.dumps({"account_id": "1", "trigger": "workflow"})),
        QueuedMessage("m-2", json.dumps({"account_id": "2", "trigger": "button"})),
    ]
    process_messages(messages, FakeSyncer({}), max_receives=5, deadline=lambda: Deadline(30))  # type: ignore[arg-type]

    found = [s for s in subsegments(traced()) if s["name"] == "## sync message"]
    assert [(s["annotations"]["message_id"], s["annotations"]["account_id"]) for s in found] == [
        ("m-1", "1"),
        ("m-2", "2"),
    ]


def test_tracing_is_off_outside_lambda_and_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    tracing.reset()
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    assert tracing.tracer() is None
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert tracing.tracer() is None
    with tracing.upstream_call("Xero", "GET", "/x") as status:
        status(200)  # a no-op, not an error
    tracing.reset()


def test_every_invocation_gets_a_handler_subsegment_marking_the_cold_start(traced: Any) -> None:
    class Context:
        function_name = "zoho-xero-sync-prod-sync_worker"

    class Event:  # what Chalice hands a middleware for an SQS handler
        context = Context()

    assert tracing.trace_invocation(Event(), lambda event: "answer") == "answer"
    tracing.trace_invocation(Event(), lambda event: None)

    handlers = [s for s in subsegments(traced()) if s["name"] == "## sync_worker"]
    assert [h["annotations"]["ColdStart"] for h in handlers] == [True, False]
    assert handlers[0]["annotations"]["Service"] == "zoho-xero-sync"


class ScriptedInbound:
    """Xero's side of a queue batch: what `fetch` returns; every contact syncs as an update."""

    def __init__(self, contact_ids: list[str]) -> None:
        self.contacts = [{"ContactID": c} for c in contact_ids]

    def fetch(self, tenant_id: str, contact_ids: list[str], deadline: Deadline) -> list[dict[str, Any]]:
        return [c for c in self.contacts if c["ContactID"] in contact_ids]

    def sync_contact(self, tenant_id: str, contact: dict[str, Any], deadline: Deadline) -> Any:
        from chalicelib.services.sync.from_xero import InboundVerdict
        from chalicelib.services.xero_inbound import InboundOutcome

        return InboundOutcome(contact["ContactID"], InboundVerdict.UPDATE, "acc-1")


def test_each_xero_contact_event_is_its_own_subsegment(traced: Any) -> None:
    from chalicelib.services.xero_worker import process_xero_records

    records = [
        {
            "messageId": f"m-{c}",
            "body": json.dumps({"kind": "xero_contact", "tenant_id": "t-1", "contact_id": c}),
        }
        for c in ("c-1", "c-2")
    ]
    redeliver = process_xero_records(records, ScriptedInbound(["c-1", "c-2"]), lambda: Deadline(30))  # type: ignore[arg-type]

    assert redeliver == []
    found = [s for s in subsegments(traced()) if s["name"] == "## xero contact"]
    assert [(s["annotations"]["contact_id"], s["annotations"]["tenant_id"]) for s in found] == [
        ("c-1", "t-1"),
        ("c-2", "t-1"),
    ]
