"""The CRM's automation toward our service: workflow-rule webhooks and the "Sync to Xero" button.

* Workflow webhooks are queued and sent by a background thread (Zoho fires them after the save,
  not inside the user's request). Body: ``{"account_id"|"contact_id": id, "source": "workflow"}``
  as JSON or form data, with ``X-Webhook-Token``.
* The button plays a Deluge function doing ``invokeurl``: it sends
  ``{"account_id": id, "source": "button"}`` with ``X-Webhook-Token`` and
  ``X-Webhook-Signature`` (hex HMAC-SHA256 of the raw body keyed with the token), waits up to
  40 s, and returns what the user would see.

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

import httpx

from .config import ZohoSandboxConfig
from .timefmt import format_datetime

MAX_DELIVERIES = 1000


def signature(secret: str, raw_body: bytes) -> str:
    """What X-Webhook-Signature carries: hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


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
        raw = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Token": token,
            "X-Webhook-Signature": signature(token, raw),
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
            response = httpx.post(url, content=raw, headers=headers, timeout=timeout)
            record.update(status_code=response.status_code, body=response.text, ok=response.is_success)
        except httpx.HTTPError as exc:
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
    """The button's answer, plus the text the notes' Deluge function would show."""
    body, status = delivery.get("body"), delivery.get("status_code")
    message = None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        message = parsed.get("message")
    if status is None:
        display = f"Sync to Xero failed: {delivery.get('error')}"
    elif status in (200, 202):
        display = f"Xero: {message}"
    else:
        display = f"Sync to Xero failed (HTTP {status}): {body}"
    return {"status_code": status, "body": body, "message": message, "display": display}
