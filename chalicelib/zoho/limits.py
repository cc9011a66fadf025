"""Zoho CRM's API limits as our side keeps them: calls in flight and credits spent.

Zoho meters API credits per org over a rolling 24 hours and caps the calls one app has in flight
(Free 5, Standard 10, Professional 15, Enterprise 20, Ultimate 25; COQL 10 on every edition).
Credits per call, from Zoho CRM's "API Limits" page (www.zoho.com/crm/developer/docs/api/v8/
api-limits.html) and "Kaizen #93: Credit Calculation and Concurrency in Zoho CRM APIs":
1 by default, insert/update/upsert 1 per 10 records, COQL 1 / 2 / 3 for a LIMIT of up to
200 / 1,000 / 2,000 rows. Both limits answer 429 TOO_MANY_REQUESTS; only running out of credits
is worth pausing a run for (Zoho sends no Retry-After: the credits come back as the window rolls).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import RateLimitedError, RetriableError
from chalicelib.http import HttpService, describe_status

CREDITS_PROBLEM = "zoho_credits"  # RateLimitedError.problem when the credits are used up
COQL_DEFAULT_LIMIT = 200  # rows COQL returns without a LIMIT clause
_COQL_LIMIT = re.compile(r"\blimit\s+(\d+)(?:\s*,\s*(\d+))?", re.IGNORECASE)


def coql_credits(query: str) -> int:
    """COQL's price by page size; `limit offset, count` is priced by its count."""
    match = _COQL_LIMIT.search(query)
    rows = COQL_DEFAULT_LIMIT if match is None else int(match.group(2) or match.group(1))
    if rows <= 200:
        return 1
    return 2 if rows <= 1000 else 3


def write_credits(record_count: int) -> int:
    return max(1, -(-record_count // 10))


def call_credits(method: str, url: str, body: Any) -> int:
    """What one answered call to Zoho CRM's API costs."""
    if url.rstrip("/").endswith("/coql") and isinstance(body, dict):
        return coql_credits(str(body.get("select_query", "")))
    if method in ("POST", "PUT") and isinstance(body, dict) and isinstance(body.get("data"), list):
        return write_credits(len(body["data"]))
    return 1


def credits_exhausted(response: requests.Response) -> bool:
    """A 429 for spent credits rather than for too many calls at once."""
    if response.headers.get("X-API-CREDITS-REMAINING", "").strip() == "0":
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    text = str(body.get("message", "")) + str(body.get("details", "")) if isinstance(body, dict) else ""
    return "credit" in text.lower()


class ZohoHttpService(HttpService):
    """HttpService for Zoho CRM's API: at most `concurrent_limit` calls in flight from this process,
    credits counted per thread (a run's statistics), spent credits raised as a pause."""

    def __init__(
        self, *args: Any, concurrent_limit: int = 10, credits_retry_seconds: float = 900.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(concurrent_limit)
        self.credits_retry_seconds = credits_retry_seconds
        self.credits = 0  # credits spent by every thread (benchmarks)
        self._thread_credits = threading.local()

    def send(
        self, method: str, url: str, *, deadline: Deadline | None = None, **kwargs: Any
    ) -> requests.Response:
        deadline = deadline or Deadline.unlimited()
        wait = min(deadline.remaining(), 60.0)
        if not self._slots.acquire(timeout=wait):
            raise RetriableError(
                f"{self.name} is busy with this app's other calls. We will try again.",
                detail=f"no free slot of {self.name}'s concurrency limit within {wait:.0f} s",
            )
        try:
            response = super().send(method, url, deadline=deadline, **kwargs)
        finally:
            self._slots.release()
        if response.status_code < 400:
            self._charge(call_credits(method, url, kwargs.get("json")))
        return response

    def _charge(self, amount: int) -> None:
        self.credits += amount
        self._thread_credits.count = self.credits_in_this_thread() + amount

    def credits_in_this_thread(self) -> int:
        return int(getattr(self._thread_credits, "count", 0))

    def rate_limited(self, response: requests.Response) -> RateLimitedError:
        if not credits_exhausted(response):
            return super().rate_limited(response)
        return RateLimitedError(
            f"{self.name}'s API credits for the last 24 hours are used up. The sync waits and "
            "continues automatically as credits come back; to avoid it, buy add-on credits in "
            "Zoho CRM (Setup > Developer Hub > APIs) or sync less often.",
            detail=describe_status(self.name, response) + " (API credits exhausted)",
            retry_after=self.credits_retry_seconds,
            problem=CREDITS_PROBLEM,
        )
