"""`xero_to_zoho` runs end to end: the admin API, the runs queue through the real `run_worker`,
both stand-ins. What an operator sees: the run's counts, the Accounts in Zoho, and how few
calls it took (the stand-ins' call logs)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx

from sandbox.stack import LocalStack
from tests.integration.test_runs import admin, drive, run_all, runs_queue, start  # noqa: F401  (fixtures)


def test_an_unknown_direction_is_refused_with_the_two_that_exist(
    start: Callable[..., httpx.Response],  # noqa: F811
    live: LocalStack,
) -> None:
    response = start("all", direction="both_ways")
    assert response.status_code == 400
    assert 'direction must be "zoho_to_xero"' in response.json()["message"]
    assert '"xero_to_zoho"' in response.json()["message"]


def test_changed_xero_contacts_reach_their_accounts_in_few_calls(
    live: LocalStack,
    run_all: Callable[..., dict[str, Any]],  # noqa: F811
) -> None:
    live.xero.reset(seed=False)
    live.zoho.reset(seed=False)
    live.zoho.generate(150, seed=7)
    first = run_all("all")  # Zoho → Xero: the pairs exist and their last synced values are kept
    linked = [c for c in live.xero.contacts() if c.get("ContactNumber")]
    assert first["counts"]["created"] == len(linked) > 100

    live.xero.clock.advance(5)
    for n, contact in enumerate(linked):
        body = {k: v for k, v in contact.items() if k != "UpdatedDateUTC"}
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": f"+64 9 {n:07d}"}]
        live.xero.put_contact(body)
    live.xero.clear_calls()
    live.zoho.clear_calls()

    run = run_all({"days": 1}, direction="xero_to_zoho")

    assert run["direction"] == "xero_to_zoho"
    assert run["counts"]["updated"] == len(linked)
    for n, contact in enumerate(linked):
        assert live.zoho.get("Accounts", contact["ContactNumber"])["Phone"] == f"+64 9 {n:07d}"
    xero_calls = [c for c in live.xero.calls() if c["path"].startswith("/api.xro/")]
    zoho_calls = [c for c in live.zoho.calls() if c["path"].startswith("/crm/")]
    assert len(xero_calls) <= 3, [c["path"] for c in xero_calls]
    assert len(zoho_calls) <= 3 * math.ceil(len(linked) / 50), [c["path"] for c in zoho_calls]

    # A batch SQS delivers again after it wrote (a crash before its outcomes were recorded):
    # it writes nothing twice, and still reports what it did.
    from chalicelib.deadline import Deadline
    from chalicelib.wiring import container

    live.zoho.clear_calls()
    finished = container().runs.get(run["run_id"])
    redelivered = container().xero_runs.sync_batch(
        finished, [c["ContactID"] for c in linked[:50]], Deadline(30), final_attempt=False
    )
    assert {o.result.value for o in redelivered} == {"updated"}
    assert not [c for c in live.zoho.calls() if c["method"] in ("PUT", "POST") and "/coql" not in c["path"]]

    live.zoho.clear_calls()
    again = run_all({"days": 1}, direction="xero_to_zoho")  # nothing changed since: nothing written
    assert again["counts"]["unchanged"] == len(linked)
    assert not [c for c in live.zoho.calls() if c["method"] in ("PUT", "POST") and "/coql" not in c["path"]]


def test_the_schedule_runs_the_direction_its_setting_names(
    live: LocalStack,
    runs_queue: Any,  # noqa: F811
    drive: Callable[..., dict[str, Any]],  # noqa: F811
    monkeypatch: Any,
) -> None:
    from chalicelib.handlers.schedule import scheduled_sync

    monkeypatch.setenv("SYNC_SCHEDULE_DIRECTION", "xero_to_zoho")
    started = scheduled_sync()
    run = drive(started["run_id"])
    assert (run["direction"], run["origin"]) == ("xero_to_zoho", "Schedule")
