"""Xero's fixed calls (`/connections`, `/Organisation`) are asked once and kept with the token set,
so a run in a fresh process (a cold Lambda) spends its Xero calls on contacts only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from chalicelib.deadline import Deadline
from sandbox.stack import LocalStack
from tests.integration.test_runs import admin, drive, runs_queue, start  # noqa: F401

FIXED = ("GET /Connections", "GET /api.xro/2.0/Organisation", "POST /connect/token")


def _fixed_calls(live: LocalStack) -> dict[str, int]:
    counts = live.xero.call_counts()
    return {name: counts[name] for name in FIXED if counts.get(name)}


def _cold_process() -> None:
    """What a new Lambda process starts with: no container, no in-memory caches."""
    from chalicelib import wiring

    wiring._container.cache_clear()


def test_a_run_in_a_fresh_process_makes_no_fixed_xero_calls(
    live: LocalStack,
    start: Callable[..., httpx.Response],  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    live.zoho.generate(30, seed=5)
    first = drive(start("all").json()["run_id"])
    assert first["counts"]["created"] > 0
    _cold_process()
    live.xero.clear_calls()
    live.zoho.generate(30, seed=6)  # new Accounts: the run creates contacts and links to them

    again = drive(start("all").json()["run_id"])

    assert again["counts"]["created"] > 0
    assert _fixed_calls(live) == {}
    assert again["calls"]["xero"] == sum(live.xero.call_counts().values())


def test_the_short_code_and_organisation_name_are_kept_with_the_token_set(live: LocalStack) -> None:
    from chalicelib.wiring import container

    short_code = container().xero.organisation_short_code(Deadline(10))
    assert short_code
    _cold_process()
    live.xero.clear_calls()

    stored = container().tokens.get("xero")
    assert stored is not None and stored.short_code == short_code
    assert container().xero.organisation_short_code(Deadline(10)) == short_code
    assert container().organisations(stored.tenant_id or "") == stored.tenant_name
    assert stored.tenant_name
    assert _fixed_calls(live) == {}
