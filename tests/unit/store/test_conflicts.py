"""Held conflicts (store/conflicts.py): the portal lists them all, an Account reads only its own."""

from __future__ import annotations

from typing import Any

from chalicelib.store.conflicts import ConflictRepository, HeldConflict


def held(account_id: str, key: str, zoho: str = "Z", xero: str = "X") -> HeldConflict:
    return HeldConflict(account_id, key, key, zoho, xero, None, "c-1", "Acme", "2026-12-01T10:00:00Z")


def test_conflicts_are_listed_and_an_accounts_own_are_read_by_its_id(ddb: Any, table: str) -> None:
    repo = ConflictRepository(ddb, table)
    repo.put(held("123", "Name"))
    repo.put(held("123", "AccountNumber"))
    repo.put(held("1234", "Name"))  # an id that starts like the other one
    assert {c.key for c in repo.for_account("123")} == {"Name", "AccountNumber"}
    assert [(c.account_id, c.key) for c in repo.for_account("1234")] == [("1234", "Name")]
    assert len(repo.all()) == 3


def test_a_new_hold_of_a_field_replaces_the_old_and_a_settled_one_goes(ddb: Any, table: str) -> None:
    repo = ConflictRepository(ddb, table)
    repo.put(held("123", "Name", zoho="Acme Zoho"))
    repo.put(held("123", "Name", zoho="Acme Zoho 2"))
    assert [c.zoho for c in repo.for_account("123")] == ["Acme Zoho 2"]
    assert repo.get("123", "Name") == held("123", "Name", zoho="Acme Zoho 2")
    repo.delete("123", "Name")
    assert repo.get("123", "Name") is None and repo.all() == []
