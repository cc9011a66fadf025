"""The portal's records: settings, the wrong-password throttle, signed-out sessions."""

from __future__ import annotations

from typing import Any

from chalicelib.models.portal import PortalSettings
from chalicelib.store.portal_settings import (
    PortalSettingsRepository,
    SessionRevocations,
    SignInThrottle,
)
from tests.unit.portal.conftest import TABLE, Clock


def test_settings_start_empty_and_keep_what_was_saved(ddb: Any) -> None:
    repo = PortalSettingsRepository(ddb, TABLE, clock=Clock())
    assert repo.get() == PortalSettings()
    assert not repo.get().summary_enabled
    repo.save(
        PortalSettings(summary_recipients=["a@example.com", "b@example.com"], summary_only_problems=True)
    )
    stored = repo.get()
    assert stored.summary_recipients == ["a@example.com", "b@example.com"]
    assert stored.summary_only_problems
    assert stored.summary_enabled
    assert stored.updated_at == Clock().now


def test_five_attempts_lock_that_address_only_until_the_window_ends(ddb: Any) -> None:
    clock = Clock(900.0 * 1000)  # the start of a window
    throttle = SignInThrottle(ddb, TABLE, per_address=5, overall=100, window_seconds=900, clock=clock)
    for _ in range(5):
        assert throttle.attempt("203.0.113.7").allowed
    verdict = throttle.attempt("203.0.113.7")
    assert not verdict.allowed
    assert verdict.retry_after_seconds == 900
    assert throttle.attempt("198.51.100.1").allowed  # someone else can still sign in
    clock.now += 900
    assert throttle.attempt("203.0.113.7").allowed


def test_a_right_password_gives_its_attempt_back(ddb: Any) -> None:
    throttle = SignInThrottle(ddb, TABLE, per_address=2, overall=100, window_seconds=900, clock=Clock())
    for _ in range(10):
        assert throttle.attempt("203.0.113.7").allowed
        throttle.succeeded("203.0.113.7")
    assert throttle.attempt("203.0.113.7").allowed
    assert throttle.attempt("203.0.113.7").allowed
    assert not throttle.attempt("203.0.113.7").allowed


def test_attempts_from_many_addresses_hit_the_overall_cap(ddb: Any) -> None:
    throttle = SignInThrottle(ddb, TABLE, per_address=5, overall=3, window_seconds=900, clock=Clock())
    for n in range(3):
        assert throttle.attempt(f"192.0.2.{n}").allowed
    assert not throttle.attempt("192.0.2.200").allowed


def test_a_revoked_session_stays_revoked(ddb: Any) -> None:
    revocations = SessionRevocations(ddb, TABLE)
    assert not revocations.is_revoked("abc")
    revocations.revoke("abc", until=2_000_000_000)
    assert revocations.is_revoked("abc")
    assert not revocations.is_revoked("abd")
