from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.models.sync import TokenSet
from chalicelib.store.errors import StoreError
from chalicelib.store.tokens import TokenRepository
from tests.unit.store.conftest import FakeClock

LEASE = 30.0


@pytest.fixture
def tokens(ddb: Any, table: str, clock: FakeClock) -> TokenRepository:
    return TokenRepository(ddb, table, clock=clock)


def seeded(tokens: TokenRepository, refresh: str = "R1") -> TokenSet:
    tokens.seed(TokenSet(provider="xero", access_token="A1", refresh_token=refresh, expires_at=100.0))
    stored = tokens.get("xero")
    assert stored is not None
    return stored


def refreshed(n: int, version: int = 0, **extra: Any) -> TokenSet:
    values: dict[str, Any] = {
        "provider": "xero",
        "access_token": f"A{n}",
        "refresh_token": f"R{n}",
        "expires_at": 1_800_000_000.0 + n,
        "version": version,
    }
    return TokenSet(**(values | extra))


def raw(ddb: Any, table: str) -> dict[str, Any]:
    return ddb.get_item(TableName=table, Key={"pk": {"S": "TOKEN#xero"}, "sk": {"S": "TOKEN"}})["Item"]


# --- seed / get -------------------------------------------------------------


def test_seed_stores_once_and_never_overwrites(tokens: TokenRepository) -> None:
    assert tokens.get("xero") is None
    first = TokenSet(provider="xero", refresh_token="R1", tenant_id="t-1")

    assert tokens.seed(first)
    assert not tokens.seed(TokenSet(provider="xero", refresh_token="from-an-old-env-var"))

    assert tokens.get("xero") == dataclasses.replace(first, version=1)
    assert tokens.get("zoho") is None


# --- begin_refresh -----------------------------------------------------------


def test_begin_refresh_takes_the_lease_and_returns_the_stored_set(tokens: TokenRepository) -> None:
    stored = seeded(tokens)

    leased = tokens.begin_refresh("xero", "alice", LEASE)

    assert leased == stored
    status = tokens.describe("xero")
    assert status is not None and status.lease_owner == "alice"
    assert status.lease_expires_at == pytest.approx(1_700_000_000 + LEASE)


def test_begin_refresh_is_refused_while_someone_holds_the_lease(tokens: TokenRepository) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)

    assert tokens.begin_refresh("xero", "bob", LEASE) is None
    assert tokens.begin_refresh("xero", "alice", LEASE) is not None  # already ours


def test_begin_refresh_without_a_token_set_is_none(tokens: TokenRepository) -> None:
    assert tokens.begin_refresh("xero", "alice", LEASE) is None
    assert tokens.get("xero") is None  # and nothing was created


def test_only_one_of_many_concurrent_refreshers_gets_the_lease(ddb: Any, table: str) -> None:
    tokens = TokenRepository(ddb, table)
    seeded(tokens)
    winners: list[str] = []
    start = threading.Barrier(20)

    def try_refresh(owner: str) -> None:
        start.wait()
        if tokens.begin_refresh("xero", owner, LEASE) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=try_refresh, args=(f"lambda-{n}",)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(winners) == 1
    status = tokens.describe("xero")
    assert status is not None and status.lease_owner == winners[0]


def test_expired_lease_can_be_taken_over(tokens: TokenRepository, clock: FakeClock) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)  # ...and alice's Lambda dies
    clock.advance(LEASE - 0.5)
    assert tokens.begin_refresh("xero", "bob", LEASE) is None

    clock.advance(0.5)
    leased = tokens.begin_refresh("xero", "bob", LEASE)

    assert leased is not None and leased.refresh_token == "R1"  # still valid at Xero for 30 min


# --- complete_refresh --------------------------------------------------------


def test_complete_refresh_rotates_and_clears_the_lease(
    ddb: Any, table: str, tokens: TokenRepository, clock: FakeClock
) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    tokens.abort_refresh("xero", "alice", "earlier failure")
    tokens.begin_refresh("xero", "alice", LEASE)
    clock.advance(2)

    assert tokens.complete_refresh("xero", "alice", refreshed(2))

    stored = tokens.get("xero")
    assert stored is not None
    assert (stored.access_token, stored.refresh_token, stored.version) == ("A2", "R2", 2)
    assert stored.refreshed_at == clock.now and stored.last_error is None
    item = raw(ddb, table)
    assert item["previous_refresh_token"] == {"S": "R1"}
    assert float(item["rotated_at"]["N"]) == clock.now
    assert "lease_owner" not in item and "lease_expires_at" not in item and "last_error_at" not in item
    assert tokens.begin_refresh("xero", "bob", LEASE) is not None  # lease is free


def test_complete_without_new_refresh_token_keeps_the_stored_one(
    ddb: Any, table: str, tokens: TokenRepository
) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)

    assert tokens.complete_refresh("xero", "alice", refreshed(2, refresh_token=None))  # Zoho-style

    stored = tokens.get("xero")
    assert stored is not None and (stored.access_token, stored.refresh_token) == ("A2", "R1")
    assert "previous_refresh_token" not in raw(ddb, table)


def test_complete_by_a_non_owner_fails_and_changes_nothing(tokens: TokenRepository) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    before = tokens.get("xero")

    assert not tokens.complete_refresh("xero", "mallory", refreshed(9))
    assert not tokens.complete_refresh("zoho", "alice", refreshed(9))  # no such item

    assert tokens.get("xero") == before
    status = tokens.describe("xero")
    assert status is not None and status.lease_owner == "alice"


def test_complete_without_any_lease_fails(tokens: TokenRepository) -> None:
    seeded(tokens)

    assert not tokens.complete_refresh("xero", "alice", refreshed(2))

    stored = tokens.get("xero")
    assert stored is not None and stored.refresh_token == "R1"


def test_refresher_that_lost_the_lease_cannot_overwrite_the_taker(
    tokens: TokenRepository, clock: FakeClock
) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)  # alice stalls after Xero answered R2
    clock.advance(LEASE + 1)
    tokens.begin_refresh("xero", "bob", LEASE)

    assert not tokens.complete_refresh("xero", "alice", refreshed(2))  # bob holds the lease
    assert tokens.complete_refresh("xero", "bob", refreshed(3))
    assert not tokens.complete_refresh("xero", "alice", refreshed(2))  # lease cleared, version moved on

    stored = tokens.get("xero")
    assert stored is not None and (stored.refresh_token, stored.version) == ("R3", 2)


def test_late_completion_with_the_expired_lease_still_ours_is_kept(
    tokens: TokenRepository, clock: FakeClock
) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    clock.advance(LEASE * 3)  # slow, but nobody took over: R2 is the newest token there is

    assert tokens.complete_refresh("xero", "alice", refreshed(2))

    stored = tokens.get("xero")
    assert stored is not None and stored.refresh_token == "R2"


def test_late_completion_after_the_taker_gave_up(tokens: TokenRepository, clock: FakeClock) -> None:
    leased = seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    clock.advance(LEASE + 1)
    tokens.begin_refresh("xero", "bob", LEASE)
    tokens.abort_refresh("xero", "bob", "network error")

    # Without the version it read, alice cannot prove nothing changed: refused.
    assert not tokens.complete_refresh("xero", "alice", refreshed(2))
    # With it (no lease held, version unchanged) her newer token is kept.
    assert tokens.complete_refresh("xero", "alice", refreshed(2, version=leased.version))

    stored = tokens.get("xero")
    assert stored is not None and (stored.refresh_token, stored.version) == ("R2", 2)


def test_stale_version_does_not_bypass_the_lease(tokens: TokenRepository) -> None:
    leased = seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    tokens.complete_refresh("xero", "alice", refreshed(2))

    assert not tokens.complete_refresh("xero", "bob", refreshed(3, version=leased.version))

    stored = tokens.get("xero")
    assert stored is not None and stored.refresh_token == "R2"


def test_retried_completion_of_our_own_write_reports_success(tokens: TokenRepository) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    new = refreshed(2)
    assert tokens.complete_refresh("xero", "alice", new)

    # e.g. the response was lost and the call repeated: the stored set is already ours.
    assert tokens.complete_refresh("xero", "alice", new)

    stored = tokens.get("xero")
    assert stored is not None and stored.version == 2


def test_complete_needs_an_access_token(tokens: TokenRepository) -> None:
    with pytest.raises(ValueError):
        tokens.complete_refresh("xero", "alice", refreshed(2, access_token=None))


# --- abort_refresh -----------------------------------------------------------


def test_abort_releases_the_lease_and_records_the_error(tokens: TokenRepository, clock: FakeClock) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)

    tokens.abort_refresh("xero", "alice", "Xero refused the refresh token (invalid_grant)")

    status = tokens.describe("xero")
    assert status is not None and status.lease_owner is None and status.lease_expires_at is None
    assert status.last_error == "Xero refused the refresh token (invalid_grant)"
    assert status.last_error_at == clock.now
    stored = tokens.get("xero")
    assert stored is not None and stored.refresh_token == "R1" and stored.version == 1
    assert tokens.begin_refresh("xero", "bob", LEASE) is not None


def test_abort_by_a_non_owner_leaves_the_lease(tokens: TokenRepository) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)

    tokens.abort_refresh("xero", "bob", "not mine")
    tokens.abort_refresh("zoho", "bob", None)  # no item: also fine

    status = tokens.describe("xero")
    assert status is not None and status.lease_owner == "alice" and status.last_error is None


def test_abort_without_error_keeps_the_previous_error(tokens: TokenRepository) -> None:
    seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    tokens.abort_refresh("xero", "alice", "first")
    tokens.begin_refresh("xero", "alice", LEASE)

    tokens.abort_refresh("xero", "alice", None)

    status = tokens.describe("xero")
    assert status is not None and status.last_error == "first" and status.lease_owner is None


# --- replace -----------------------------------------------------------------


def test_replace_overrides_everything_and_defeats_in_flight_refreshes(
    ddb: Any, table: str, tokens: TokenRepository
) -> None:
    leased = seeded(tokens)
    tokens.begin_refresh("xero", "alice", LEASE)
    tokens.abort_refresh("xero", "alice", "revoked")
    tokens.begin_refresh("xero", "alice", LEASE)

    connected = tokens.replace(
        TokenSet(provider="xero", access_token="C1", refresh_token="CR1", tenant_id="t-2")
    )

    assert connected.version == 2 and connected.refresh_token == "CR1" and connected.last_error is None
    assert not tokens.complete_refresh("xero", "alice", refreshed(2))
    assert not tokens.complete_refresh("xero", "alice", refreshed(2, version=leased.version))
    assert tokens.get("xero") == connected
    item = raw(ddb, table)
    assert not {"lease_owner", "previous_refresh_token", "last_error", "api_domain"} & set(item)


def test_replace_creates_the_first_token_set(tokens: TokenRepository) -> None:
    connected = tokens.replace(
        TokenSet(provider="zoho", access_token="Z", refresh_token="ZR", api_domain="x")
    )

    assert connected.version == 1
    assert tokens.get("zoho") == connected
    assert not tokens.seed(TokenSet(provider="zoho", refresh_token="env"))


# --- secrets -----------------------------------------------------------------


def test_describe_reveals_no_token(tokens: TokenRepository) -> None:
    seeded(tokens, refresh="SECRET-REFRESH")

    status = tokens.describe("xero")

    assert status is not None and status.has_refresh_token
    assert "SECRET" not in repr(status) and "A1" not in repr(status)
    assert tokens.describe("zoho") is None


class LeakyClient:
    """A client whose errors quote the request, as botocore messages can."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        def fail(**kwargs: Any) -> Any:
            error = {"Code": "ValidationException", "Message": f"bad request {kwargs!r}"}
            raise ClientError({"Error": error}, name)

        return fail


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.seed(TokenSet(provider="xero", refresh_token="SECRET-R")),
        lambda t: t.replace(TokenSet(provider="xero", access_token="SECRET-A")),
        lambda t: t.complete_refresh("xero", "me", refreshed(1, access_token="SECRET-A")),
        lambda t: t.begin_refresh("xero", "me", LEASE),
        lambda t: t.get("xero"),
    ],
)
def test_storage_errors_do_not_quote_tokens(ddb: Any, table: str, call: Any) -> None:
    tokens = TokenRepository(LeakyClient(ddb), table)

    with pytest.raises(StoreError) as caught:
        call(tokens)

    assert "ValidationException" in str(caught.value)
    assert "SECRET" not in str(caught.value) and "bad request" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
