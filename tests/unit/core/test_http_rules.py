"""Status-code rules: what is retried in-process, what goes back to the queue, what is fatal."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, RateLimitedError, RetriableError
from chalicelib.http import HttpService, RetryPolicy


def service(answers: list[Callable[[httpx.Request], httpx.Response]], slept: list[float]) -> HttpService:
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)(request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return HttpService("Xero", client, retry=RetryPolicy(attempts=3, base_delay=0.01), sleep=slept.append)


def status(code: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, headers=headers, json={})


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


def test_passing_5xx_is_retried_and_succeeds() -> None:
    slept: list[float] = []
    http = service([status(503), status(502), status(200)], slept)
    assert http.send("GET", "https://x/api").status_code == 200
    assert http.calls == 3
    assert len(slept) == 2


def test_persistent_5xx_gives_a_plain_retriable_error() -> None:
    http = service([status(500)] * 3, [])
    with pytest.raises(RetriableError) as raised:
        http.send("GET", "https://x/api")
    assert raised.value.message == "Xero is temporarily unavailable (HTTP 500). We will try again."
    assert http.calls == 3


def test_short_retry_after_is_waited_in_process() -> None:
    slept: list[float] = []
    http = service(
        [status(429, **{"Retry-After": "2", "X-Rate-Limit-Problem": "minute"}), status(200)], slept
    )
    assert http.send("POST", "https://x/api").status_code == 200
    assert slept == [2.0]


def test_long_retry_after_goes_back_to_the_queue_at_once() -> None:
    slept: list[float] = []
    http = service([status(429, **{"Retry-After": "3600", "X-Rate-Limit-Problem": "day"})], slept)
    with pytest.raises(RateLimitedError) as raised:
        http.send("POST", "https://x/api")
    assert raised.value.retry_after == 3600
    assert raised.value.problem == "day"
    assert slept == []


def test_timeouts_are_retriable_and_say_so() -> None:
    http = service([timeout] * 3, [])
    with pytest.raises(RetriableError) as raised:
        http.send("GET", "https://x/api")
    assert "did not answer in time" in raised.value.message


def test_client_errors_come_back_to_the_caller_unretried() -> None:
    http = service([status(400)], [])
    assert http.send("GET", "https://x/api").status_code == 400
    assert http.calls == 1


def test_no_sleep_beyond_the_deadline() -> None:
    slept: list[float] = []
    http = service([status(429, **{"Retry-After": "4"})], slept)
    with pytest.raises(RateLimitedError):
        http.send("GET", "https://x/api", deadline=Deadline(1.0))
    assert slept == []


def test_an_expired_deadline_sends_nothing() -> None:
    http = service([status(200)], [])
    with pytest.raises(DeadlineExceededError):
        http.send("GET", "https://x/api", deadline=Deadline(0))
    assert http.calls == 0
