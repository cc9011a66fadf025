"""The metrics CloudWatch would get from a deployed stack, from the real handlers on the sandbox.

Clicks go through Chalice's local gateway, queued work through `sync_worker` and `run_worker`
as Lambda's event source would call them; the EMF lines they print are read back (tests/emf.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox.stack import LocalStack
from tests.emf import documents, metrics_on, values
from tests.integration.conftest import WEBHOOK_TOKEN
from tests.integration.sandbox_api import acct
from tests.integration.test_from_xero import ACME, deliver, edit_in_xero, xero_key
from tests.integration.test_runs import (
    CREATED,
    REJECTED,
    UPDATED,
    admin,
    drive,
    run_all,
    runs_queue,
    start,
)

__all__ = ["admin", "deliver", "drive", "metrics_on", "run_all", "runs_queue", "start", "xero_key"]


def test_a_click_counts_its_outcome_its_latency_and_its_calls(
    metrics_on: None, click: Callable[..., httpx.Response], capsys: pytest.CaptureFixture[str]
) -> None:
    assert click(acct(1)).json()["action"] == "created"
    assert click(acct(1)).json()["action"] == "unchanged"
    assert click(acct(3)).status_code == 422  # no Account Name: rejected

    docs = documents(capsys.readouterr().out)
    assert values(docs, "Syncs", Outcome="created", Source="button") == [1]
    assert values(docs, "Syncs", Outcome="unchanged", Source="button") == [1]
    assert values(docs, "Syncs", Outcome="rejected", Source="button") == [1]
    latencies = values(docs, "ClickLatency")
    assert len(latencies) == 3 and all(0 < ms < 25_000 for ms in latencies)
    assert sum(values(docs, "XeroCalls")) >= 2  # the created click wrote to Xero
    assert sum(values(docs, "ZohoCalls")) >= 6  # every click re-reads the Account and its Contacts
    assert values(docs, "XeroRateLimited") == []
    remaining = values(docs, "XeroDayBudgetRemainingPercent")
    assert remaining and all(0 <= p <= 100 for p in remaining)


def test_a_workflow_save_is_counted_when_the_queue_worker_syncs_it(
    metrics_on: None,
    live: LocalStack,
    client: httpx.Client,
    drain: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Xero's event for our own write would be a second message, held back when the suite has
    # spent Xero's minute; this test counts the save's own message.
    live.xero.configure(webhook_background_delivery=False)
    answer = client.post(
        "/webhooks/zoho",
        json={"account_id": acct(1), "source": "workflow"},
        headers={"X-Webhook-Token": WEBHOOK_TOKEN},
    )
    assert answer.status_code == 202
    assert drain() >= 1  # a leftover event of an earlier test may be drained as well

    docs = documents(capsys.readouterr().out)
    assert values(docs, "Syncs", Outcome="created", Source="workflow") == [1]
    assert values(docs, "ClickLatency") == []  # a save is not a click
    ages = values(docs, "SyncQueueAge")  # one per message: the save's first
    assert ages and 0 <= min(ages) < 60


def test_a_run_counts_each_account_once_with_its_duration(
    metrics_on: None, run_all: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_all()
    assert run["state"] == "completed_with_errors"

    docs = documents(capsys.readouterr().out)
    assert sum(values(docs, "Syncs", Outcome="created", Source="run")) == len(CREATED)
    assert sum(values(docs, "Syncs", Outcome="updated", Source="run")) == len(UPDATED)
    assert sum(values(docs, "Syncs", Outcome="rejected", Source="run")) == len(REJECTED)
    assert values(docs, "Syncs", Outcome="created", Source="button") == []
    assert values(docs, "RunAccounts") == [len(CREATED) + len(UPDATED) + len(REJECTED)]
    (duration,) = values(docs, "RunDuration")
    assert 0 <= duration < 60
    assert sum(values(docs, "RunSteps")) >= 2  # at least one plan step and one batch
    assert len(values(docs, "RunsQueueAge")) == sum(values(docs, "RunSteps"))


def test_a_dry_run_counts_no_syncs(
    metrics_on: None, run_all: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    run_all(dry_run=True)

    docs = documents(capsys.readouterr().out)
    assert [d for d in docs if "Syncs" in d] == []
    assert len(values(docs, "RunAccounts")) == 1


def test_a_change_made_in_xero_is_counted_with_source_xero(
    metrics_on: None,
    live: Any,
    click: Callable[..., httpx.Response],
    deliver: Callable[..., httpx.Response],
    drain: Callable[..., int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    contact_id = click(ACME).json()["xero_contact_id"]
    deliver(contact_id)  # Xero's event for our own write
    drain()
    edit_in_xero(live, contact_id, Phones=[{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0103"}])
    deliver(contact_id)
    drain()

    docs = documents(capsys.readouterr().out)
    assert values(docs, "Syncs", Outcome="unchanged", Source="xero") == [1]
    assert values(docs, "Syncs", Outcome="updated", Source="xero") == [1]
