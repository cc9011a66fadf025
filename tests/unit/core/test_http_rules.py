"""Status-code rules: what is retried in-process, what goes back to the queue, what is fatal."""

from __future__ import annotations

import pytest
import requests

from chalicelib.deadline import Deadline
from chalicelib.errors import DeadlineExceededError, RateLimitedError, RetriableError
from chalicelib.http import HttpService, RetryPolicy
from tests.scripted_http import Answer, Reply, reply, scripted_session


def service(answers: list[Answer], slept: list[float]) -> HttpService:
    session = scripted_session(answers)
    return HttpService("Xero", session, retry=RetryPolicy(attempts=3, base_delay=0.01), sleep=slept.append)


def status(code: int, **headers: str) -> Answer:
    return reply(code, {}, **headers)


def timeout(request: requests.PreparedRequest) -> Reply:
    raise requests.exceptions.ReadTimeout("slow", request=request)


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


def test_a_retry_after_date_is_not_read_as_seconds_the_call_backs_off_instead() -> None:
    slept: list[float] = []
    http = service([status(429, **{"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), status(200)], slept)
    assert http.send("GET", "https://x/api").status_code == 200
    assert len(slept) == 1 and 0 <= slept[0] <= 0.01  # RetryPolicy.backoff(1) with base_delay 0.01


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
