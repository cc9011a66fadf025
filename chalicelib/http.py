"""HTTP plumbing shared by the Zoho and Xero clients.

Status-code rules live here, in one place: what is retriable, what is fatal,
and how many times a call is retried in-process before the error goes up to
the queue (which retries again later).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from chalicelib import metrics, tracing
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RateLimitedError, RetriableError

logger = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({408, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # in-process tries per call, including the first
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Sleep for a 429's Retry-After in-process only when it is this short;
    # longer waits go back to the queue so a Lambda is not kept idle.
    max_inline_retry_after: float = 5.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt counts from 1)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def describe_status(service: str, response: httpx.Response) -> str:
    return f"{service} answered HTTP {response.status_code} to {response.request.method} {response.request.url.path}"


class HttpService:
    """One remote service: a shared httpx client, timeouts, in-process retries."""

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_response: Callable[[httpx.Response], None] | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.on_response = on_response
        self.calls = 0  # every HTTP request actually sent (for run statistics and benchmarks)
        self._thread_calls = threading.local()  # the same, for the current thread only

    def send(
        self, method: str, url: str, *, deadline: Deadline | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries on transient faults; 2xx-4xx (but 408/429) come back to the caller."""
        deadline = deadline or Deadline.unlimited()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(method, url, deadline, **kwargs)
            except RetriableError as error:
                self._wait_or_raise(error, attempt, deadline, delay=self.retry.backoff(attempt))
                continue
            if response.status_code == 429:
                error = self.rate_limited(response)
                wait = error.retry_after if error.retry_after is not None else self.retry.backoff(attempt)
                if wait > self.retry.max_inline_retry_after:
                    raise error
                self._wait_or_raise(error, attempt, deadline, delay=wait)
                continue
            if response.status_code in RETRIABLE_STATUSES:
                error = RetriableError(
                    self.unavailable_message(response), detail=describe_status(self.name, response)
                )
                self._wait_or_raise(error, attempt, deadline, delay=self.retry.backoff(attempt))
                continue
            return response

    def _send_once(self, method: str, url: str, deadline: Deadline, **kwargs: Any) -> httpx.Response:
        timeout = deadline.timeout(self.timeout)
        self.calls += 1
        self._thread_calls.count = self.calls_in_this_thread() + 1
        path = httpx.URL(url).path
        try:
            with tracing.upstream_call(self.name, method, path) as traced_status:
                response = self.client.request(method, url, timeout=timeout, **kwargs)
                traced_status(response.status_code)
        except httpx.TimeoutException as exc:
            metrics.upstream_answer(self.name, None)
            raise RetriableError(
                f"{self.name} did not answer in time. We will try again.",
                detail=f"{type(exc).__name__} on {method} {path}",
            ) from exc
        except httpx.TransportError as exc:
            metrics.upstream_answer(self.name, None)
            raise RetriableError(
                f"Could not reach {self.name}. We will try again.",
                detail=f"{type(exc).__name__} on {method} {path}",
            ) from exc
        metrics.upstream_answer(self.name, response.status_code)
        if self.on_response is not None:
            self.on_response(response)
        return response

    def _wait_or_raise(
        self, error: RetriableError, attempt: int, deadline: Deadline, *, delay: float
    ) -> None:
        if attempt >= self.retry.attempts or not deadline.allows(delay + 0.5):
            raise error
        logger.info(
            "retrying call",
            extra={
                "service": self.name,
                "attempt": attempt,
                "delay": round(delay, 2),
                "reason": error.detail,
            },
        )
        self.sleep(delay)

    def calls_in_this_thread(self) -> int:
        """Requests sent by the current thread: what one queued job spent, even when a local
        process serves several at once."""
        return int(getattr(self._thread_calls, "count", 0))

    def rate_limited(self, response: httpx.Response) -> RateLimitedError:
        retry_after = retry_after_seconds(response.headers)
        problem = response.headers.get("X-Rate-Limit-Problem")
        return RateLimitedError(
            f"{self.name} asked us to slow down (too many requests). The sync will continue automatically.",
            detail=describe_status(self.name, response) + (f" ({problem} limit)" if problem else ""),
            retry_after=retry_after,
            problem=problem,
        )

    def unavailable_message(self, response: httpx.Response) -> str:
        return f"{self.name} is temporarily unavailable (HTTP {response.status_code}). We will try again."

    def unexpected(self, response: httpx.Response, what: str) -> FatalError:
        """An answer we have no rule for: fail loudly, with the status for support."""
        return FatalError(
            f"{self.name} gave an unexpected answer while {what} (HTTP {response.status_code}).",
            detail=describe_status(self.name, response) + ": " + response.text[:300],
        )
