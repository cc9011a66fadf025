"""Xero's rotating refresh tokens, shared by many processes, against the Xero stand-in.

The token set lives in DynamoDB (moto, in-process); the identity calls are real
HTTP to the stand-in, which rotates refresh tokens and honours a grace window.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import httpx
import pytest
from moto import mock_aws

from chalicelib.deadline import Deadline
from chalicelib.errors import FatalError
from chalicelib.http import HttpService, session
from chalicelib.oauth import TokenManager
from chalicelib.store.schema import create_table
from chalicelib.store.tokens import TokenRepository
from chalicelib.xero.auth import XeroIdentity
from sandbox.seed_data import XERO_TENANT_ID

TABLE = "tokens-test"


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch, atomic_moto: None) -> Iterator[TokenRepository]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client, TABLE)
        yield TokenRepository(client, TABLE)


def manager(xero_sandbox, tokens: TokenRepository, *, lease: float = 5.0) -> TokenManager:
    http = HttpService("Xero", session(2), timeout=5)
    identity = XeroIdentity(
        http,
        identity_url=xero_sandbox.url,
        api_url=xero_sandbox.url,
        client_id="sandbox-xero-client-id",
        client_secret="sandbox-xero-client-secret",
    )
    return TokenManager(
        "xero",
        tokens,
        identity.exchange,
        seed_refresh_token="sandbox-xero-refresh-token",
        not_connected_message="Xero is not connected yet.",
        lease_seconds=lease,
        poll_seconds=0.05,
    )


def token_calls(xero_sandbox) -> int:
    calls = httpx.get(f"{xero_sandbox.url}/__sandbox__/calls").json()
    calls = calls["calls"] if isinstance(calls, dict) else calls
    return sum(1 for c in calls if c["path"] == "/connect/token")


def test_first_use_seeds_from_the_environment_and_finds_the_tenant(xero_sandbox, tokens) -> None:
    token_set = manager(xero_sandbox, tokens).current(Deadline(10))
    assert token_set.tenant_id == XERO_TENANT_ID
    stored = tokens.get("xero")
    assert stored is not None
    assert stored.refresh_token not in ("", "sandbox-xero-refresh-token")  # rotated and saved


def test_many_processes_refresh_exactly_once(xero_sandbox, tokens) -> None:
    managers = [manager(xero_sandbox, tokens) for _ in range(8)]  # eight cold Lambdas
    results: list[str] = []
    barrier = threading.Barrier(len(managers))

    def run(m: TokenManager) -> None:
        barrier.wait()
        results.append(m.current(Deadline(20)).access_token or "")

    threads = [threading.Thread(target=run, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert token_calls(xero_sandbox) == 1
    assert len(set(results)) == 1 and results[0]


def test_refresher_dying_after_rotation_loses_nothing(xero_sandbox, tokens) -> None:
    first = manager(xero_sandbox, tokens)
    first.current(Deadline(10))
    xero_sandbox.app.clock.advance(31 * 60)  # access token expired

    # A refresher takes the lease, Xero rotates the token, and the process dies before saving.
    leased = tokens.begin_refresh("xero", "crashed-lambda", lease_seconds=0.3)
    assert leased is not None
    first.exchange(leased, Deadline(10))  # the answer (the new refresh token) is lost with the process

    survivor = manager(xero_sandbox, tokens, lease=5.0)
    token_set = survivor.current(Deadline(10))  # waits out the dead lease, reuses the old token within grace

    assert token_set.access_token
    xero_sandbox.app.clock.advance(2 * 60 * 60)  # far past every grace window
    assert manager(xero_sandbox, tokens).current(Deadline(10)).access_token


def test_a_refresh_token_past_its_grace_says_reconnect(xero_sandbox, tokens) -> None:
    m = manager(xero_sandbox, tokens)
    m.current(Deadline(10))
    stale = tokens.get("xero")
    assert stale is not None
    m.refresh(Deadline(10), rejected_access_token=stale.access_token)  # rotates again
    xero_sandbox.app.clock.advance(2 * 60 * 60)
    stale.expires_at = 0  # its access token is long dead too
    tokens.replace(stale)  # someone restored an old copy of the token set

    with pytest.raises(FatalError) as raised:
        manager(xero_sandbox, tokens).current(Deadline(10))

    assert "Reconnect Xero" in raised.value.message
    status = tokens.get("xero")
    assert status is not None and "Reconnect Xero" in (status.last_error or "")
