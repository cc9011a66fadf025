"""The CRM's automation toward our service: workflow-rule webhooks and the "Sync to Xero" button.

* Workflow webhooks are queued and sent by a background thread (Zoho fires them after the save,
  not inside the user's request). Body: ``{"account_id"|"contact_id": id, "source": "workflow"}``
  as JSON or form data, with ``X-Webhook-Token``.
* The button plays zoho-crm-button/sync_to_xero.deluge doing ``invokeurl``: it sends
  ``{"account_id": id, "source": "button"}`` with ``X-Webhook-Token``, ``X-Webhook-Timestamp``
  (Unix milliseconds, as Deluge's ``unixEpoch()``) and ``X-Webhook-Signature`` (hex HMAC-SHA256
  of ``timestamp + "." + body`` keyed with the token), waits up to 40 s, and shows the person
  exactly the text that script shows (``button_text``).

Every delivery (success or failure) is recorded, like Zoho's webhook failure log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests

from .config import ZohoSandboxConfig
from .timefmt import format_datetime

MAX_DELIVERIES = 1000


def signature(secret: str, raw_body: bytes, timestamp: str) -> str:
    """What X-Webhook-Signature carries: hex HMAC-SHA256 of `timestamp.body`, keyed with the token."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()


# The texts zoho-crm-button/sync_to_xero.deluge shows, in its order (tests/packaging/test_zoho_kit.py checks
# that the script's literals are exactly these, and runs the same cases through both).
UNREACHABLE = (
    "Sync to Xero could not reach the sync service. Try again in a minute; if it keeps happening, "
    "tell your CRM administrator. ("
)
NOT_SET_UP = (
    "Sync to Xero is not set up correctly (the service refused the token). Tell your CRM administrator."
)
FAILED_HTTP = "Sync to Xero failed (HTTP "
FAILED_HTTP_END = "). Try again; if it keeps happening, tell your CRM administrator."
NOT_SYNCED = "Not synced: "
BUTTON_TEXTS = (UNREACHABLE, ")", NOT_SET_UP, FAILED_HTTP, FAILED_HTTP_END, NOT_SYNCED)


def button_text(status_code: int | None, body: str | None, error: str | None = None) -> str:
    """What the Deluge button shows for an answer (or for `error` when it got none), branch by branch."""
    if status_code is None:
        return UNREACHABLE + str(error) + ")"
    message = ""
    try:
        answer = json.loads(body or "")
        if isinstance(answer, dict) and answer.get("message") is not None:
            message = str(answer["message"])
    except ValueError:
        message = ""
    # The service's own "Not synced: …" says what to do (a rejection, or a click that came too late).
    if message.startswith("Not synced"):
        return message
    if status_code == 401:
        return NOT_SET_UP
    if message == "":
        return FAILED_HTTP + str(status_code) + FAILED_HTTP_END
    # 200 synced, 202 queued: the message says what happened.
    if status_code in (200, 202):
        return message
    # 422 rejected (fix the Account), 502 a connection or setting, 503 Xero or Zoho down.
    return NOT_SYNCED + message


class Automation:
    def __init__(self, config: ZohoSandboxConfig, now: Callable[[], float]) -> None:
        self.config = config
        self.now = now
        self._deliveries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._pending = 0
        self._seq = 0
        self._idle = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None  # started on the first webhook

    # ---- workflow rules --------------------------------------------------------------
    def workflow(self, payload: dict[str, Any]) -> bool:
        """Queue a workflow webhook; False when no webhook URL is configured."""
        if not self.config.webhook_url:
            return False
        with self._lock:
            self._pending += 1
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="zoho-workflow-webhooks", daemon=True)
                self._worker.start()
        self._queue.put(payload)
        return True

    def _run(self) -> None:
        while True:
            payload = self._queue.get()
            try:
                self._send_workflow(payload)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send_workflow(self, payload: dict[str, Any]) -> None:
        url, token = self.config.webhook_url, self.config.webhook_token or ""
        if not url:
            return
        if self.config.webhook_format == "form":
            raw, content_type = urlencode(payload).encode(), "application/x-www-form-urlencoded"
        else:
            raw, content_type = json.dumps(payload).encode(), "application/json"
        headers = {"Content-Type": content_type, "X-Webhook-Token": token}
        self._deliver("workflow", url, payload, raw, headers, self.config.webhook_timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until queued workflow webhooks are sent (tests use it instead of sleeping)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # ---- the button ------------------------------------------------------------------
    def button(self, account_id: str) -> dict[str, Any]:
        url, token = self.config.webhook_url, self.config.webhook_token or ""
        payload = {"account_id": account_id, "source": "button"}
        raw = json.dumps(payload, separators=(",", ":")).encode()  # Deluge's Map.toString()
        # Real time, as zoho.currenttime in Deluge: the service compares it with its own clock.
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Token": token,
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": signature(token, raw, timestamp),
        }
        delivery = self._deliver("button", url or "", payload, raw, headers, self.config.button_timeout)
        return _what_the_user_sees(delivery)

    # ---- delivery and log ------------------------------------------------------------
    def _deliver(
        self,
        kind: str,
        url: str,
        payload: dict[str, Any],
        raw: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> dict[str, Any]:
        sent_at = format_datetime(self.now())
        record: dict[str, Any] = {"kind": kind, "url": url, "payload": payload, "sent_at": sent_at}
        started = time.monotonic()
        try:
            response = requests.post(url, data=raw, headers=headers, timeout=timeout, allow_redirects=False)
            record.update(
                status_code=response.status_code, body=response.text, ok=200 <= response.status_code < 300
            )
        except requests.RequestException as exc:
            record.update(status_code=None, body=None, ok=False, error=f"{type(exc).__name__}: {exc}")
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        with self._lock:
            self._seq += 1
            record["id"] = self._seq
            self._deliveries.append(record)
            del self._deliveries[:-MAX_DELIVERIES]
        return record

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(d) for d in self._deliveries]

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()


def _what_the_user_sees(delivery: dict[str, Any]) -> dict[str, Any]:
    """The button's answer, plus the text zoho-crm-button/sync_to_xero.deluge would show."""
    body, status = delivery.get("body"), delivery.get("status_code")
    message = None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        message = parsed.get("message")
    display = button_text(status, body, delivery.get("error"))
    return {"status_code": status, "body": body, "message": message, "display": display}
