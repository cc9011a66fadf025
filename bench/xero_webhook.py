"""Xero → Zoho CRM latency on the local stack (issue 13's targets), a benchmark, not a test:

    python -m bench.xero_webhook [--deliveries 40] [--edits 10]

- webhook answer: wall time of POST /webhooks/xero for signed deliveries of one CONTACT event
  each (verify the signature, queue the event, answer 200 with an empty body), p50 / p95;
- edit → Zoho: a person edits a linked contact in the Xero stand-in ("as a Xero user"); the time
  until the Zoho Account shows the new value, through the stand-in's own batched delivery
  (its 1 s window included), our queue and the `make run` worker.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import time

import requests

from sandbox.stack import LocalStack, StackConfig

ACME = "5725767000000400001"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def webhook_answers(stack: LocalStack, contact_id: str, deliveries: int) -> list[float]:
    key = os.environ["XERO_WEBHOOK_KEY"].encode()
    took = []
    with requests.Session() as http:
        for n in range(deliveries):
            event = {
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{contact_id}",
                "resourceId": contact_id,
                "eventDateUtc": f"2026-03-01T10:00:{n % 60:02d}.{n:03d}",
                "eventType": "UPDATE",
                "eventCategory": "CONTACT",
                "tenantId": stack.xero.tenant_id,
                "tenantType": "ORGANISATION",
            }
            body = json.dumps({"events": [event], "firstEventSequence": n, "lastEventSequence": n}).encode()
            signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
            started = time.perf_counter()
            answer = http.post(
                f"{stack.app_url}/webhooks/xero", data=body, headers={"x-xero-signature": signature}
            )
            took.append((time.perf_counter() - started) * 1000)
            assert (answer.status_code, answer.content) == (200, b""), answer.status_code
    return took


def edit_to_zoho(stack: LocalStack, contact_id: str, edits: int) -> list[float]:
    took = []
    for n in range(edits):
        number = f"BENCH-{n}"
        started = time.perf_counter()
        stack.xero.user_edit_contact(contact_id, {"AccountNumber": number})
        while stack.zoho.get("Accounts", ACME).get("Account_Number") != number:
            if time.perf_counter() - started > 60:
                raise SystemExit(f"edit {n} never reached Zoho CRM")
            time.sleep(0.02)
        took.append(time.perf_counter() - started)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 40: each delivery queues a read of the contact; more would spend our own Xero minute budget
    parser.add_argument("--deliveries", type=int, default=40)
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args()
    config = StackConfig(app_port=0, xero_port=0, zoho_port=0, moto_port=0)
    with LocalStack(config) as stack:
        with requests.Session() as http:
            clicked = http.post(f"{stack.zoho_url}/__sandbox__/button/{ACME}", timeout=60).json()
        assert clicked["status_code"] == 200, clicked
        contact_id = stack.zoho.get("Accounts", ACME)["Xero_ID"]
        time.sleep(3)  # the echo of the click's own write comes and goes
        answers = webhook_answers(stack, contact_id, args.deliveries)
        time.sleep(5)  # let the worker take what those deliveries queued
        reached = edit_to_zoho(stack, contact_id, args.edits)
    print(
        f"webhook answer: p50 {statistics.median(answers):.1f} ms, p95 {_p95(answers):.1f} ms "
        f"over {len(answers)} signed deliveries (target p95 < 100 ms)"
    )
    print(
        f"Xero edit → Zoho Account: p50 {statistics.median(reached):.2f} s, max {max(reached):.2f} s "
        f"over {len(reached)} edits (target < 10 s)"
    )


if __name__ == "__main__":
    main()
