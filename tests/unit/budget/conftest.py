"""Fixtures for the rate-budget tests: an in-process moto DynamoDB with the table, and a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.models.budget import RateLimits
from chalicelib.store.budget import RateBudgetRepository
from chalicelib.store.schema import create_table
from chalicelib.xero.budget import XeroRateGate
from tests.fakes import FakeClock

TABLE = "budget-test"
TENANT = "6e3b5a1c-2f4d-4c8e-9b7a-1d2c3e4f5a6b"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, atomic_moto: None) -> None:
    """Fake credentials, no endpoint override (moto intercepts), and moto made atomic like DynamoDB."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class CountingClient:
    """The real moto client, counting the DynamoDB calls each operation costs."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith("_") or name in ("meta", "exceptions"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


def repository(ddb: Any, clock: FakeClock) -> RateBudgetRepository:
    """One Lambda's view of the budget: its own repository (and memory) on the shared table."""
    return RateBudgetRepository(ddb, TABLE, clock=clock)


def gate(ddb: Any, clock: FakeClock, limits: RateLimits | None = None, **options: Any) -> XeroRateGate:
    """One Lambda's gate; `sleep` moves the fake clock, so waiting costs no real time."""
    return XeroRateGate(
        repository(ddb, clock), limits or RateLimits(), sleep=clock.sleep, clock=clock, **options
    )
