"""Facts about the connected Xero organisation kept with the token set (no call to ask again)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.models.sync import TokenSet
from chalicelib.store.tokens import TokenRepository
from tests.unit.store.conftest import FakeClock


@pytest.fixture
def tokens(ddb: Any, table: str, clock: FakeClock) -> TokenRepository:
    repository = TokenRepository(ddb, table, clock=clock)
    repository.seed(TokenSet(provider="xero", refresh_token="R1", tenant_id="t-1"))
    return repository


def test_facts_are_kept_for_the_connected_organisation(tokens: TokenRepository) -> None:
    assert tokens.remember("xero", "t-1", {"short_code": "!a1B2c", "tenant_name": "Demo Ltd"})

    stored = tokens.get("xero")
    assert stored is not None and (stored.short_code, stored.tenant_name) == ("!a1B2c", "Demo Ltd")


def test_facts_about_another_organisation_are_not_kept(tokens: TokenRepository) -> None:
    """A reconnect to another organisation happened while the answer was on its way."""
    assert not tokens.remember("xero", "t-0", {"short_code": "!old"})

    stored = tokens.get("xero")
    assert stored is not None and stored.short_code is None


def test_a_refresh_keeps_them_and_a_reconnect_clears_them(tokens: TokenRepository) -> None:
    tokens.remember("xero", "t-1", {"short_code": "!a1B2c", "tenant_name": "Demo Ltd"})
    leased = tokens.begin_refresh("xero", "me", 30.0)
    assert leased is not None
    new = TokenSet(
        provider="xero", access_token="A2", refresh_token="R2", expires_at=2e9, version=leased.version
    )
    assert tokens.complete_refresh("xero", "me", new)
    stored = tokens.get("xero")
    assert stored is not None and stored.short_code == "!a1B2c"

    tokens.replace(TokenSet(provider="xero", refresh_token="R9", tenant_id="t-2"))

    stored = tokens.get("xero")
    assert stored is not None and (stored.tenant_id, stored.short_code, stored.tenant_name) == (
        "t-2",
        None,
        None,
    )
