"""The sign-in throttle under concurrency: 30 simultaneous wrong passwords, at most 5 checked."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.models.portal import ThrottleVerdict
from chalicelib.portal.routes.auth import attempt_sign_in
from chalicelib.store.portal_settings import SignInThrottle
from tests.security.conftest import TABLE, Aws

PARALLEL = 30


def _race(throttle: SignInThrottle, address: str, right: bool) -> tuple[int, list[Any]]:
    """PARALLEL attempts released together; returns (passwords checked, outcomes)."""
    checked = 0
    lock = threading.Lock()
    start = threading.Barrier(PARALLEL)

    def password_is_right() -> bool:
        nonlocal checked
        with lock:
            checked += 1
        return right

    def one(_: int) -> Any:
        start.wait()
        return attempt_sign_in(throttle, address, password_is_right)

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(one, range(PARALLEL)))
    return checked, outcomes


@pytest.mark.usefixtures("atomic_moto")
def test_thirty_parallel_wrong_passwords_check_at_most_five(aws: Aws) -> None:
    throttle = SignInThrottle(aws.dynamodb, TABLE, per_address=5, overall=100)
    checked, outcomes = _race(throttle, "203.0.113.7", right=False)
    assert checked == 5
    assert outcomes.count(False) == 5  # wrong password
    assert sum(isinstance(o, ThrottleVerdict) and not o.allowed for o in outcomes) == 25  # 429
    # Still locked afterwards, even for the right password, until the window ends.
    assert isinstance(attempt_sign_in(throttle, "203.0.113.7", lambda: True), ThrottleVerdict)
    # Another address is not affected.
    assert attempt_sign_in(throttle, "198.51.100.1", lambda: True) is True


@pytest.mark.usefixtures("atomic_moto")
def test_right_passwords_in_parallel_all_get_in_and_use_up_nothing(aws: Aws) -> None:
    throttle = SignInThrottle(aws.dynamodb, TABLE, per_address=5, overall=100)
    checked, outcomes = _race(throttle, "203.0.113.8", right=True)
    assert outcomes.count(True) + sum(isinstance(o, ThrottleVerdict) for o in outcomes) == PARALLEL
    assert checked <= PARALLEL
    for _ in range(5):  # the slots came back: five wrong guesses are still allowed afterwards
        assert attempt_sign_in(throttle, "203.0.113.8", lambda: False) is False
    assert isinstance(attempt_sign_in(throttle, "203.0.113.8", lambda: False), ThrottleVerdict)
