"""Xero's webhooks, as the developer portal and Xero's delivery service behave.

* One subscription per app, for every connected organisation (`enable(url, key)`).
* Enabling runs "intent to receive" first: payloads with `"events": []`, some signed correctly and
  some not, in a shuffled order. The receiver must answer 200 to the good ones and 401 to the bad
  ones, with an empty body, no cookies, within 5 s; only then is the subscription `OK`.
* Contact creates and updates are recorded as events, collected for `webhook_batch_window`
  seconds and sent in payloads of at most `webhook_batch_max` events by a background thread
  (or at once by `deliver_now()`), each POST signed with `x-xero-signature`.
* A failed delivery (anything but 200 with an empty body in time) is retried with growing
  intervals; when deliveries have failed for `webhook_retry_period` (Xero: 24 h) the subscription
  is `DISABLED` and its queued events are dropped, until it is enabled again.

Times that decide retries and batching come from the sandbox clock, so tests move the clock
instead of sleeping. Nothing here runs under the sandbox lock while talking HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from sandbox.xero.config import XeroSandboxConfig

MAX_LOG = 1000  # delivery attempts kept (the oldest are dropped)
POLL_SECONDS = 0.05  # how often the delivery thread looks for due work

# Statuses (the developer portal's wording is in `portal_status`).
NONE, OK, ITR_FAILED, RETRY, DISABLED = "NONE", "OK", "INTENT_TO_RECEIVE_FAILED", "RETRY", "DISABLED"
PORTAL_STATUS = {
    NONE: "No webhook",
    OK: "OK",
    ITR_FAILED: "Intent To Receive required",
    RETRY: "Retry",
    DISABLED: "Disabled",
}
# Reasons the portal shows when intent to receive fails. The first three are quoted from what
# developers report the portal shows; the rest are sandbox wording.
NOT_200 = "Response not 200"
NOT_401 = "Response to incorrectly signed payload not 401"
HAS_BODY = "Response contains a body"
HAS_COOKIES = "Response contains cookies"
TOO_SLOW = "Response took longer than 5 seconds"
NO_RESPONSE = "No response"


def sign(key: str, raw_body: bytes) -> str:
    """`x-xero-signature`: base64(HMAC-SHA256(webhook key, raw body))."""
    return base64.b64encode(hmac.new(key.encode(), raw_body, hashlib.sha256).digest()).decode()


def _mis_sign(key: str, raw_body: bytes) -> str:
    """A wrong signature that looks right: Xero's bad ITR signatures differ in one character."""
    good = sign(key, raw_body)
    index = random.randrange(len(good) - 1)  # never the trailing '='
    swapped = "A" if good[index] != "A" else "B"
    return good[:index] + swapped + good[index + 1 :]


def _entropy() -> str:
    return "".join(random.choices(string.ascii_uppercase, k=20))


def intent_body() -> bytes:
    """An intent-to-receive payload, byte for byte in the shape Xero sends (spaces included)."""
    body = '{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, "entropy": "ENTROPY"}'
    return body.replace("ENTROPY", _entropy()).encode()


def event_date(epoch: float) -> str:
    """`eventDateUtc` as Xero writes it: `2024-06-21T01:15:39.902` (UTC, milliseconds, no zone)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@dataclass
class Payload:
    """One batch of events on its way to the receiver (kept until it is accepted)."""

    events: list[dict[str, Any]]
    first: int
    last: int
    raw: bytes = b""
    attempts: int = 0
    next_attempt: float = 0.0
    failing_since: float | None = None

    def encode(self) -> None:
        body = {
            "events": self.events,
            "firstEventSequence": self.first,
            "lastEventSequence": self.last,
            "entropy": _entropy(),
        }
        self.raw = json.dumps(body, separators=(",", ":")).encode()


@dataclass
class Subscription:
    url: str = ""
    key: str = ""
    status: str = NONE
    reason: str = ""
    intent: list[dict[str, Any]] = field(default_factory=list)
    enabled_at: float | None = None


class Webhooks:
    """The app's webhook subscription and its delivery service. Thread-safe."""

    def __init__(self, config: XeroSandboxConfig, now: Callable[[], float]) -> None:
        self.config = config
        self.now = now
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()  # one delivery at a time, in order (as Xero does)
        self.subscription = Subscription()
        self._events: list[dict[str, Any]] = []  # recorded, not yet batched
        self._oldest_event: float | None = None
        self._queue: deque[Payload] = deque()
        self._log: deque[dict[str, Any]] = deque(maxlen=MAX_LOG)
        self._sequence = 0
        self.dropped_events = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    # --- the subscription ------------------------------------------------------------------

    def enable(self, url: str, key: str) -> dict[str, Any]:
        """Create, re-enable or re-point the subscription: intent to receive decides its status."""
        if not url or not key:
            raise ValueError("a webhook needs both 'url' and 'key'")
        intent = self._intent_to_receive(url, key)
        failures = [check["reason"] for check in intent if not check["passed"]]
        with self._lock:
            self._forget_pending()
            self.subscription = Subscription(
                url=url,
                key=key,
                status=ITR_FAILED if failures else OK,
                reason=failures[0] if failures else "",
                intent=intent,
                enabled_at=self.now(),
            )
        if not failures:
            self._start_thread()
        return self.state()

    def disable(self) -> dict[str, Any]:
        """Delete the subscription (queued events are dropped)."""
        with self._lock:
            self._forget_pending()
            self.subscription = Subscription()
        return self.state()

    def reset(self) -> None:
        """A sandbox reset: queued events and the log go; the subscription (app config) stays."""
        with self._lock:
            self._forget_pending()
            self._log.clear()
            self.dropped_events = 0
            if self.subscription.status == RETRY:
                self.subscription.status, self.subscription.reason = OK, ""

    def _forget_pending(self) -> None:
        self._events.clear()
        self._oldest_event = None
        self._queue.clear()

    @property
    def delivering(self) -> bool:
        return self.subscription.status in (OK, RETRY)

    def state(self, *, with_log: bool = True) -> dict[str, Any]:
        with self._lock:
            sub = self.subscription
            state: dict[str, Any] = {
                "url": sub.url,
                "status": sub.status,
                "portal_status": PORTAL_STATUS[sub.status],
                "reason": sub.reason,
                "enabled_at": sub.enabled_at,
                "intent_to_receive": [dict(c) for c in sub.intent],
                "pending_events": len(self._events) + sum(len(p.events) for p in self._queue),
                "queued_payloads": len(self._queue),
                "dropped_events": self.dropped_events,
                "next_sequence": self._sequence + 1,
            }
            if with_log:
                state["deliveries"] = [dict(entry) for entry in self._log]
            return state

    # --- events ----------------------------------------------------------------------------

    def record(self, tenant_id: str, tenant_type: str, contact_id: str, event_type: str) -> None:
        """A contact was created or updated. Never blocks: the delivery thread does the sending."""
        with self._lock:
            if not self.delivering:
                return  # no (working) subscription: Xero keeps no events for it
            now = self.now()
            self._events.append(
                {
                    "resourceUrl": f"{self.config.webhook_resource_base_url}/api.xro/2.0/Contacts/{contact_id}",
                    "resourceId": contact_id,
                    "eventDateUtc": event_date(now),
                    "eventType": event_type,
                    "eventCategory": "CONTACT",
                    "tenantId": tenant_id,
                    "tenantType": tenant_type,
                }
            )
            if self._oldest_event is None:
                self._oldest_event = now
            self._bound_memory()
        self._wake.set()

    def _bound_memory(self) -> None:
        """Drop the oldest events past `webhook_max_pending_events` (a receiver down for a day)."""
        excess = (
            len(self._events)
            + sum(len(p.events) for p in self._queue)
            - self.config.webhook_max_pending_events
        )
        while excess > 0 and self._queue:
            dropped = self._queue.popleft()
            excess -= len(dropped.events)
            self.dropped_events += len(dropped.events)
        if excess > 0:
            del self._events[:excess]
            self.dropped_events += excess

    def _batch(self, *, force: bool) -> None:
        """Turn recorded events into payloads once the batch window has passed (or when forced)."""
        if not self._events or self._oldest_event is None:
            return
        if not force and self.now() - self._oldest_event < self.config.webhook_batch_window:
            return
        events, self._events, self._oldest_event = self._events, [], None
        for event in events:
            self._sequence += 1
            event["_sequence"] = self._sequence
        size = max(1, self.config.webhook_batch_max)
        payloads = []
        for start in range(0, len(events), size):
            chunk = events[start : start + size]
            sequences = [e.pop("_sequence") for e in chunk]
            payloads.append(Payload(chunk, min(sequences), max(sequences)))
        if self.config.webhook_out_of_order:  # the fault: newest payload first, newest event first
            payloads.reverse()
            for payload in payloads:
                payload.events.reverse()
        for payload in payloads:
            payload.encode()
            self._queue.append(payload)
            if self.config.webhook_duplicate_deliveries:
                self._queue.append(Payload(payload.events, payload.first, payload.last, payload.raw))

    # --- delivery ------------------------------------------------------------------------------

    def deliver_now(self, *, retries: bool = False) -> list[dict[str, Any]]:
        """Send everything pending now, whatever the batch window; payloads waiting for a retry
        are sent only when due, or at once with `retries=True`. Returns the attempts made."""
        with self._lock:
            self._batch(force=True)
        return self._drain(force_retries=retries)

    def _drain(self, *, force_retries: bool = False) -> list[dict[str, Any]]:
        attempts: list[dict[str, Any]] = []
        with self._send_lock:
            while True:
                with self._lock:
                    if not self.delivering or not self._queue:
                        return attempts
                    payload = self._queue[0]
                    if payload.next_attempt > self.now() and not force_retries:
                        return attempts
                    url, key = self.subscription.url, self.subscription.key
                attempt = self._post(url, key, payload.raw, kind="events")
                attempt.update(
                    events=len(payload.events),
                    first_sequence=payload.first,
                    last_sequence=payload.last,
                    attempt=payload.attempts + 1,
                )
                attempts.append(attempt)
                with self._lock:
                    self._log.append(attempt)
                    if not self._settle(payload, attempt):
                        return attempts

    def _settle(self, payload: Payload, attempt: dict[str, Any]) -> bool:
        """Book the outcome of one attempt; True when the next payload may be sent."""
        if not self._queue or self._queue[0] is not payload:
            return False  # disabled or reset while the request was in flight
        now = self.now()
        if attempt["ok"]:
            self._queue.popleft()
            self.subscription.status, self.subscription.reason = OK, ""
            return True
        payload.attempts += 1
        if payload.failing_since is None:
            payload.failing_since = now
        if now - payload.failing_since >= self.config.webhook_retry_period:
            dropped = sum(len(p.events) for p in self._queue) + len(self._events)
            self._forget_pending()
            self.dropped_events += dropped
            self.subscription.status = DISABLED
            self.subscription.reason = (
                f"No successful response after retrying for {self.config.webhook_retry_period:g} s "
                f"(last: {attempt['reason']}); re-enable the webhook."
            )
            return False
        interval = self.config.webhook_retry_first * 2 ** (payload.attempts - 1)
        payload.next_attempt = now + min(interval, self.config.webhook_retry_max_interval)
        self.subscription.status, self.subscription.reason = RETRY, attempt["reason"]
        return False

    def _http(self) -> httpx.Client:
        """One client, made on first use (building an SSL context per POST costs ~0.1 s);
        a new connection per POST, as a sender that keeps no connections open."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
            return self._client

    def _post(
        self, url: str, key: str, raw: bytes, *, kind: str, signature: str | None = None
    ) -> dict[str, Any]:
        """POST one payload; the attempt as the delivery log shows it."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-xero-signature": signature if signature is not None else sign(key, raw),
        }
        timeout = self.config.webhook_timeout
        entry: dict[str, Any] = {"time": self.now(), "kind": kind, "url": url}
        started = time.monotonic()
        try:
            response = self._http().post(url, content=raw, headers=headers, timeout=timeout + 1)
            duration = time.monotonic() - started
            entry.update(
                status_code=response.status_code,
                body_empty=response.content == b"",
                cookies="set-cookie" in response.headers,
            )
        except httpx.HTTPError as error:
            duration = time.monotonic() - started
            entry.update(
                status_code=None, body_empty=None, cookies=False, error=f"{type(error).__name__}: {error}"
            )
        entry["duration_ms"] = round(duration * 1000, 1)
        entry["in_time"] = duration <= timeout
        entry["reason"] = _problem(entry, expected=200)
        entry["ok"] = entry["reason"] == ""
        return entry

    # --- intent to receive -----------------------------------------------------------------------

    def _intent_to_receive(self, url: str, key: str) -> list[dict[str, Any]]:
        """Several correctly and incorrectly signed empty payloads, in a random order."""
        rounds = max(1, self.config.webhook_intent_rounds)
        plan = [True] * rounds + [False] * rounds
        random.shuffle(plan)
        checks = []
        for correctly_signed in plan:
            raw = intent_body()
            signature = sign(key, raw) if correctly_signed else _mis_sign(key, raw)
            check = self._post(url, key, raw, kind="intent", signature=signature)
            expected = 200 if correctly_signed else 401
            check.update(correctly_signed=correctly_signed, expected_status=expected)
            check["reason"] = _problem(check, expected=expected)
            check["passed"] = check["ok"] = check["reason"] == ""
            checks.append(check)
            with self._lock:
                self._log.append(check)
            if not check["passed"]:
                break  # the verdict is made (and `make run` starts sooner against an app without the route)
        return checks

    # --- the delivery thread -------------------------------------------------------------------

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="xero-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.config.webhook_background_delivery:
                    with self._lock:
                        self._batch(force=False)
                    self._drain()
            except Exception as error:  # a sandbox bug must not kill deliveries silently
                with self._lock:
                    self._log.append({"time": self.now(), "kind": "error", "error": repr(error), "ok": False})
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the delivery thread (it is a daemon: one stuck in a slow POST is left behind)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            with self._lock:
                client, self._client = self._client, None
            if client is not None:
                client.close()


def _problem(entry: dict[str, Any], *, expected: int) -> str:
    """Why an answer is not acceptable to Xero ("" when it is)."""
    status = entry.get("status_code")
    if not entry["in_time"]:
        return TOO_SLOW
    if status is None:
        return f"{NO_RESPONSE} ({entry.get('error', 'no answer')})"
    if status != expected:
        return NOT_401 if expected == 401 else NOT_200
    if not entry["body_empty"]:
        return HAS_BODY
    if entry["cookies"]:
        return HAS_COOKIES
    return ""
