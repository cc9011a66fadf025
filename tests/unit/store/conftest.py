"""Fixtures for the store tests: an in-process moto DynamoDB with the table created."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.store.schema import create_table
from tests.fakes import FakeClock

TABLE = "test-sync"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _atomic(atomic_moto: None) -> None:
    """Every store test runs against moto made atomic (see tests/conftest.py)."""


@pytest.fixture(scope="session")
def _shared_client() -> Any:
    # Building a client costs ~50-100 ms; moto intercepts it whenever a mock is active.
    return boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def ddb(_shared_client: Any) -> Iterator[Any]:
    """A DynamoDB client on a fresh, empty moto backend (state is reset when the mock stops)."""
    with mock_aws():
        yield _shared_client


@pytest.fixture
def table(ddb: Any) -> str:
    create_table(ddb, TABLE)
    return TABLE


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class UnprocessedClient:
    """Wraps a client so the first `failures` batch calls leave half their items unprocessed.

    moto never returns UnprocessedKeys/UnprocessedItems; real DynamoDB does under load.
    `failures=None` means every call leaves some behind (a table that stays throttled).
    """

    def __init__(self, client: Any, failures: int | None = 1) -> None:
        self._client = client
        self._failures = failures
        self.batch_sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _fail_now(self) -> bool:
        if self._failures is None:
            return True
        self._failures -= 1
        return self._failures >= 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, spec),) = RequestItems.items()
        keys = spec["Keys"]
        self.batch_sizes.append(len(keys))
        if not self._fail_now():
            return self._client.batch_get_item(RequestItems=RequestItems)
        done, left = keys[: len(keys) // 2], keys[len(keys) // 2 :]
        response = self._client.batch_get_item(RequestItems={table: {**spec, "Keys": done}}) if done else {}
        response["UnprocessedKeys"] = {table: {**spec, "Keys": left}}
        return response

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        self.batch_sizes.append(len(requests))
        if not self._fail_now():
            return self._client.batch_write_item(RequestItems=RequestItems)
        done, left = requests[: len(requests) // 2], requests[len(requests) // 2 :]
        response = self._client.batch_write_item(RequestItems={table: done}) if done else {}
        response["UnprocessedItems"] = {table: left}
        return response
