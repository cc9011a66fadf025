"""HTTP plumbing shared by the Zoho and Xero clients.

Status-code rules live here, in one place: what is retriable, what is fatal,
and how many times a call is retried in-process before the error goes up to
the queue (which retries again later).

Each upstream (Zoho's API, Zoho's accounts server, Xero's API, Xero's identity server) has its
own `requests.Session` made by `session()`: a connection pool sized to the calls we allow in
flight at once, and nothing that decides on its own. urllib3 retries nothing and redirects are
not followed, so every retry, wait and error message comes from `HttpService` below.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from chalicelib import metrics, tracing
from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError, RateLimitedError, RetriableError

logger = logging.getLogger(__name__)

RETRIABLE_STATUSES = frozenset({408, 500, 502, 503, 504})
USER_AGENT = "zoho-xero-sync/0.1"
# No answer, or only part of one: a passing fault, worth trying again (`_timed_out` tells
# which of them were too slow rather than unreachable).
NO_ANSWER = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    # A URL without http(s):// (a misconfigured endpoint) fails like an unreachable host.
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)


def session(pool_size: int, *, user_agent: str = USER_AGENT) -> requests.Session:
    """One upstream's connection pool: up to `pool_size` connections kept alive per host.

    `pool_size` is the number of calls we allow that upstream at once (Xero: 5 per
    organisation), so every call in flight can reuse a warm connection. The pool never blocks:
    requests has no timeout for waiting on a pooled connection, so a call beyond `pool_size`
    opens a connection of its own, closed afterwards (urllib3 warns "Connection pool is full").
    urllib3's own retries are off (`max_retries=0`): `HttpService` is the one place that retries.
    """
    # pool_connections: hosts whose pools are kept; an upstream has one or two (Xero's identity
    # server and /connections on its API host).
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0, pool_block=False)
    pool = requests.Session()
    pool.mount("https://", adapter)
    pool.mount("http://", adapter)
    pool.headers["User-Agent"] = user_agent
    # Without a session auth, requests reads ~/.netrc (or $NETRC) and replaces the Authorization
    # header we set with a matching entry's login: a developer's netrc line for a Zoho or Xero
    # host would silently swap our OAuth token. A no-op auth keeps our header as it is.
    pool.auth = _keep_our_authorization
    return pool


def _keep_our_authorization(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


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


def describe_status(service: str, response: requests.Response) -> str:
    return f"{service} answered HTTP {response.status_code} to {response.request.method} {url_path(response.request.url or '')}"


def url_path(url: str) -> str:
    """The decoded path of `url`, without host or query (what logs, traces and details show)."""
    return unquote(urlsplit(url).path)


class HttpService:
    """One remote service: its own session (connection pool), timeouts, in-process retries.

    `timeout` is the read timeout: the longest wait for the next bytes of an answer.
    `connect_timeout` (default: `timeout`) bounds opening a connection. Both are cut to what is
    left of the call's deadline.
    """

    def __init__(
        self,
        name: str,
        session: requests.Session,
        *,
        timeout: float = 10.0,
        connect_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_response: Callable[[requests.Response], None] | None = None,
    ) -> None:
        self.name = name
        self.session = session
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.on_response = on_response
        self.calls = 0  # every HTTP request actually sent (for run statistics and benchmarks)
        self._thread_calls = threading.local()  # the same, for the current thread only

    def send(
        self, method: str, url: str, *, deadline: Deadline | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send with retries on transient faults; 2xx-4xx (but 408/429) come back to the caller."""
        deadline = deadline or Deadline.unlimited()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(method, url, deadline, **kwargs)
            except RetriableError as no_answer:
                self._wait_or_raise(no_answer, attempt, deadline, delay=self.retry.backoff(attempt))
                continue
            if response.status_code == 429:
                slow_down = self.rate_limited(response)
                wait = (
                    slow_down.retry_after
                    if slow_down.retry_after is not None
                    else self.retry.backoff(attempt)
                )
                if wait > self.retry.max_inline_retry_after:
                    raise slow_down
                self._wait_or_raise(slow_down, attempt, deadline, delay=wait)
                continue
            if response.status_code in RETRIABLE_STATUSES:
                unavailable = RetriableError(
                    self.unavailable_message(response), detail=describe_status(self.name, response)
                )
                self._wait_or_raise(unavailable, attempt, deadline, delay=self.retry.backoff(attempt))
                continue
            return response

    def _send_once(self, method: str, url: str, deadline: Deadline, **kwargs: Any) -> requests.Response:
        read_timeout = deadline.timeout(self.timeout)
        timeout = (min(self.connect_timeout, read_timeout), read_timeout)
        self.calls += 1
        self._thread_calls.count = self.calls_in_this_thread() + 1
        path = url_path(url)
        try:
            with tracing.upstream_call(self.name, method, path) as traced_status:
                response = self.session.request(
                    method, url, timeout=timeout, allow_redirects=False, **_json_body(kwargs)
                )
                traced_status(response.status_code)
        except NO_ANSWER as exc:
            metrics.upstream_answer(self.name, None)
            if _timed_out(exc):
                raise RetriableError(
                    f"{self.name} did not answer in time. We will try again.",
                    detail=f"{type(exc).__name__} on {method} {path}",
                ) from exc
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

    def rate_limited(self, response: requests.Response) -> RateLimitedError:
        retry_after = retry_after_seconds(response.headers)
        problem = response.headers.get("X-Rate-Limit-Problem")
        return RateLimitedError(
            f"{self.name} asked us to slow down (too many requests). The sync will continue automatically.",
            detail=describe_status(self.name, response) + (f" ({problem} limit)" if problem else ""),
            retry_after=retry_after,
            problem=problem,
        )

    def unavailable_message(self, response: requests.Response) -> str:
        return f"{self.name} is temporarily unavailable (HTTP {response.status_code}). We will try again."

    def unexpected(self, response: requests.Response, what: str) -> FatalError:
        """An answer we have no rule for: fail loudly, with the status for support."""
        return FatalError(
            f"{self.name} gave an unexpected answer while {what} (HTTP {response.status_code}).",
            detail=describe_status(self.name, response) + ": " + response.text[:300],
        )


def _timed_out(error: Exception) -> bool:
    """Too slow rather than unreachable. requests reports a body that stopped arriving (the
    read timeout after the headers came) as a ConnectionError around urllib3's ReadTimeoutError."""
    if isinstance(error, requests.exceptions.Timeout):
        return True
    return bool(error.args) and isinstance(error.args[0], ReadTimeoutError)


def _json_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`json=` sent as compact UTF-8 (no spaces, no \\u escapes): the bytes the service has always
    sent, a little smaller than requests' own encoding."""
    if "json" not in kwargs:
        return kwargs
    rest = dict(kwargs)
    body = json.dumps(rest.pop("json"), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    rest["headers"] = {"Content-Type": "application/json", **(rest.get("headers") or {})}
    rest["data"] = body.encode()
    return rest
