"""Bulk runs end to end: the admin API, the runs queue driven through the real `run_worker`
handler, and the Zoho and Xero stand-ins. Each test asserts what an operator sees: the run's
state, counts and messages, the contacts in Xero, the write-back fields on the Zoho Accounts
and the calls the stand-ins logged.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
import httpx
import pytest

from sandbox.seed_data import XERO_CONTACTS, ZOHO_ACCOUNTS, account_id, contact_id
from sandbox.stack import LocalStack, QueueWorker

CONTACTS = "/api.xro/2.0/Contacts"
FINISHED = ("completed", "completed_with_errors", "failed")

# What a full sync of the seed does (sandbox/seed_data.py: one Account per rule).
TICKED = [a["id"] for a in ZOHO_ACCOUNTS if a["Add_to_Xero"]]
CREATED = [a["id"] for a in ZOHO_ACCOUNTS if str(a["expect"]).startswith("created")]
UPDATED = [a["id"] for a in ZOHO_ACCOUNTS if str(a["expect"]).startswith("updated")]
REJECTED = [a["id"] for a in ZOHO_ACCOUNTS if a["Add_to_Xero"] and str(a["expect"]).startswith("rejected")]
VALID = CREATED + UPDATED
SEEDED_NUMBERS = {c["ContactNumber"] for c in XERO_CONTACTS if c.get("ContactNumber")}


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {os.environ['ADMIN_TOKEN']}"}


@pytest.fixture
def runs_queue(live: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[QueueWorker]:
    """An empty runs queue and a worker playing Lambda's event source (one message at a time).

    Waits for rate limits go back on the queue with no delay, so a paused run can be resumed
    in the test without waiting; settings are read at call time, so the container follows."""
    monkeypatch.setenv("RUN_MAX_DELAY_SECONDS", "0")
    _empty(os.environ["RUNS_QUEUE_URL"])
    yield QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="run_worker", max_messages=1)
    _empty(os.environ["RUNS_QUEUE_URL"])


@pytest.fixture
def start(client: httpx.Client, admin: dict[str, str]) -> Callable[..., httpx.Response]:
    def post(window: Any = "all", **extra: Any) -> httpx.Response:
        return client.post("/sync/runs", json={"window": window, **extra}, headers=admin)

    return post


@pytest.fixture
def status(client: httpx.Client, admin: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    def get(run_id: str) -> dict[str, Any]:
        response = client.get(f"/sync/runs/{run_id}", headers=admin)
        assert response.status_code == 200, response.text
        return response.json()

    return get


@pytest.fixture
def drive(runs_queue: QueueWorker) -> Callable[..., dict[str, Any]]:
    """Feed the runs queue to `run_worker` until the run finishes (or `until` holds)."""
    from chalicelib.wiring import container

    def run(
        run_id: str, until: Callable[[Any], bool] | None = None, max_seconds: float = 30.0
    ) -> dict[str, Any]:
        done = until or (lambda r: r.state.value in FINISHED)
        ends = time.monotonic() + max_seconds
        while time.monotonic() < ends:
            current = container().runs.get(run_id)
            if current is not None and done(current):
                return current.to_public()
            if not runs_queue.poll_once():
                time.sleep(0.1)  # a message retried by SQS comes back after its visibility timeout
        current = container().runs.get(run_id)
        pytest.fail(f"run {run_id} did not get there in {max_seconds} s: {current and current.to_public()}")

    return run


@pytest.fixture
def run_all(start: Callable[..., httpx.Response], drive: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def go(window: Any = "all", **extra: Any) -> dict[str, Any]:
        response = start(window, **extra)
        assert response.status_code == 202, response.text
        return drive(response.json()["run_id"])

    return go


def _empty(queue_url: str) -> None:
    sqs = boto3.client("sqs")
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _posts(live: LocalStack) -> int:
    return sum(1 for c in live.xero.calls() if c["method"] == "POST" and c["path"].startswith(CONTACTS))


def _xero_writes(live: LocalStack) -> int:
    return sum(
        1 for c in live.xero.calls() if c["method"] in ("POST", "PUT") and c["path"].startswith(CONTACTS)
    )


def _zoho_puts(live: LocalStack) -> int:
    return sum(1 for c in live.zoho.calls() if c["method"] == "PUT")


def _by_number(live: LocalStack) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for contact in live.xero.contacts():
        if contact.get("ContactNumber"):
            found.setdefault(contact["ContactNumber"], []).append(contact)
    return found


def _account(live: LocalStack, record_id: str) -> dict[str, Any]:
    record = live.zoho.get("Accounts", record_id)
    assert record is not None
    return record


# --- 1. a full sync from an empty Xero ----------------------------------------------------


def test_full_sync_creates_one_contact_per_valid_account_in_one_post_per_50(
    live: LocalStack, run_all: Callable[..., dict[str, Any]], status: Callable[[str], dict[str, Any]]
) -> None:
    run = run_all("all")

    assert run["state"] == "completed_with_errors"
    assert run["counts"]["selected"] == len(TICKED)
    assert run["counts"]["created"] == len(CREATED)
    assert run["counts"]["updated"] == len(UPDATED)
    assert run["counts"]["rejected"] == len(REJECTED)
    assert run["counts"]["failed"] == 0
    assert f"{len(CREATED)} created, {len(UPDATED)} updated" in run["message"]

    numbers = _by_number(live)
    for record_id in VALID:
        assert len(numbers.get(record_id, [])) == 1, record_id
        account = _account(live, record_id)
        assert account["Xero_ID"] == numbers[record_id][0]["ContactID"]
        assert account["Xero_Sync_Status"] == "Synced", account
        assert not account["Xero_Sync_Error"]
    for record_id in REJECTED:
        account = _account(live, record_id)
        archived = record_id == account_id(13)  # its Xero contact is archived: the Account says so
        assert account["Xero_Sync_Status"] == ("Archived in Xero" if archived else "Rejected"), account
        assert account["Xero_Sync_Error"], record_id
    assert "Account Name is empty. Fill it in" in str(_account(live, account_id(3))["Xero_Sync_Error"])

    changed = len(CREATED) + len(UPDATED)
    assert _posts(live) == math.ceil(changed / 50)

    problems = status(run["run_id"])["problems"]
    assert sorted(p["account_id"] for p in problems) == sorted(REJECTED)
    assert all(p["result"] == "rejected" and p["message"] for p in problems)


# --- 2. nothing changed -------------------------------------------------------------------


def test_second_full_sync_changes_nothing_and_writes_nowhere(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    run_all("all")
    contacts_before = live.xero.contacts()
    live.xero.clear_calls()
    live.zoho.clear_calls()

    run = run_all("all")

    assert run["counts"]["selected"] == len(TICKED)
    assert run["counts"]["unchanged"] == len(VALID)
    assert run["counts"]["created"] == run["counts"]["updated"] == run["counts"]["failed"] == 0
    assert run["counts"]["rejected"] == len(REJECTED)  # still wrong in Zoho, still reported
    assert _xero_writes(live) == 0
    assert _zoho_puts(live) == 0
    assert live.xero.contacts() == contacts_before


# --- 3. dry run ---------------------------------------------------------------------------


def test_dry_run_reports_what_would_happen_and_writes_nothing(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    contacts_before = live.xero.contacts()
    accounts_before = {i: _account(live, i) for i in TICKED}

    dry = run_all("all", dry_run=True)

    assert dry["dry_run"] is True
    assert dry["counts"]["created"] == len(CREATED)
    assert dry["counts"]["updated"] == len(UPDATED)
    assert dry["counts"]["rejected"] == len(REJECTED)
    assert dry["message"].startswith("Dry run, nothing was written")
    assert _xero_writes(live) == 0
    assert _zoho_puts(live) == 0
    assert live.xero.contacts() == contacts_before
    assert {i: _account(live, i) for i in TICKED} == accounts_before

    real = run_all("all")  # no state was written: the real run still has everything to do
    assert real["counts"]["created"] == len(CREATED)
    assert real["counts"]["updated"] == len(UPDATED)


# --- 4. windows ---------------------------------------------------------------------------


def _edit_one_account_and_one_contact(live: LocalStack) -> tuple[str, str]:
    """A user edits Account 1 and a Contact of Account 2 (the seed is a month old)."""
    live.zoho.edit("Accounts", account_id(1), {"Phone": "+61 2 9000 7777"}, automation=False)
    live.zoho.edit("Contacts", contact_id(2), {"Email": "bruno.new@bluemountain.example"}, automation=False)
    return account_id(1), account_id(2)


def test_days_window_selects_only_accounts_modified_in_it(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    quiet = run_all({"days": 3})
    assert quiet["state"] == "completed"
    assert quiet["counts"]["selected"] == 0
    assert _posts(live) == 0

    edited, contact_edited = _edit_one_account_and_one_contact(live)
    run = run_all({"days": 3})

    assert run["state"] == "completed"
    assert run["counts"]["selected"] == 2
    assert run["counts"]["created"] == 2
    numbers = _by_number(live)
    assert set(numbers) - SEEDED_NUMBERS == {edited, contact_edited}
    assert "9000 7777" in str(numbers[edited][0]["Phones"])
    assert numbers[contact_edited][0]["EmailAddress"] == "bruno.new@bluemountain.example"


def test_since_last_run_selects_what_changed_after_the_last_run(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    first = run_all({"days": 1})
    assert first["counts"]["selected"] == 0

    edited, contact_edited = _edit_one_account_and_one_contact(live)
    run = run_all("since_last_run")

    assert run["since"] is not None
    assert run["counts"]["selected"] == 2
    assert run["counts"]["created"] == 2
    assert set(_by_number(live)) - SEEDED_NUMBERS == {edited, contact_edited}


@pytest.mark.parametrize(
    ("window", "says"),
    [({"days": 0}, "1 to 30"), ({"days": 31}, "1 to 30"), ({"days": "x"}, "1 to 30"), ("weekly", "1 to 30")],
)
def test_invalid_window_is_refused_in_plain_words_and_starts_nothing(
    client: httpx.Client,
    admin: dict[str, str],
    start: Callable[..., httpx.Response],
    runs_queue: QueueWorker,
    window: Any,
    says: str,
) -> None:
    response = start(window)

    assert response.status_code == 400
    body = response.json()
    assert says in body["message"]
    assert "Traceback" not in body["message"]
    assert client.get("/sync/runs", headers=admin).json()["runs"] == []
    assert runs_queue.poll_once() == 0


# --- 5. one run at a time -----------------------------------------------------------------


def test_second_run_while_one_is_running_gets_409_with_its_id(
    start: Callable[..., httpx.Response], drive: Callable[..., dict[str, Any]]
) -> None:
    first = start("all")
    assert first.status_code == 202
    running = first.json()["run_id"]

    second = start({"days": 2})

    assert second.status_code == 409
    assert second.json()["run_id"] == running
    assert running in second.json()["message"]
    assert drive(running)["state"] == "completed_with_errors"
    assert start({"days": 2}).status_code == 202  # free again once it ended


def test_retry_while_another_run_is_running_gets_409_with_the_running_id(
    client: httpx.Client,
    admin: dict[str, str],
    start: Callable[..., httpx.Response],
    run_all: Callable[..., dict[str, Any]],
) -> None:
    finished = run_all("all")
    running = start({"days": 2}).json()["run_id"]

    response = client.post(f"/sync/runs/{finished['run_id']}/retry", json={}, headers=admin)

    assert response.status_code == 409
    assert response.json()["run_id"] == running


# --- 6. retry -----------------------------------------------------------------------------


def test_retry_reruns_exactly_the_rejected_accounts(
    live: LocalStack,
    client: httpx.Client,
    admin: dict[str, str],
    run_all: Callable[..., dict[str, Any]],
    drive: Callable[..., dict[str, Any]],
    status: Callable[[str], dict[str, Any]],
) -> None:
    first = run_all("all")
    nameless = account_id(3)
    live.zoho.edit("Accounts", nameless, {"Account_Name": "Now Named Pty Ltd"}, automation=False)
    live.xero.clear_calls()

    response = client.post(f"/sync/runs/{first['run_id']}/retry", json={}, headers=admin)
    assert response.status_code == 202, response.text
    run = drive(response.json()["run_id"])

    assert run["retry_of"] == first["run_id"]
    assert run["counts"]["selected"] == len(REJECTED)
    assert run["counts"]["created"] == 1
    assert run["counts"]["rejected"] == len(REJECTED) - 1
    assert run["counts"]["unchanged"] == run["counts"]["updated"] == 0  # valid ones were not selected
    assert len(_by_number(live).get(nameless, [])) == 1
    assert _account(live, nameless)["Xero_ID"]
    listed = client.get(f"/sync/runs/{run['run_id']}/problems?all=true", headers=admin).json()["accounts"]
    assert sorted(a["account_id"] for a in listed) == sorted(REJECTED)


def test_retry_of_a_run_without_problems_is_refused(
    client: httpx.Client, admin: dict[str, str], run_all: Callable[..., dict[str, Any]]
) -> None:
    clean = run_all({"days": 1})
    assert clean["state"] == "completed"

    response = client.post(f"/sync/runs/{clean['run_id']}/retry", json={}, headers=admin)

    assert response.status_code == 400
    assert "nothing to retry" in response.json()["message"]
    assert client.post("/sync/runs/no-such-run/retry", json={}, headers=admin).status_code == 404


def test_retry_of_a_dry_run_is_a_dry_run_and_writes_nothing(
    live: LocalStack,
    client: httpx.Client,
    admin: dict[str, str],
    run_all: Callable[..., dict[str, Any]],
    drive: Callable[..., dict[str, Any]],
) -> None:
    dry = run_all("all", dry_run=True)
    nameless = account_id(3)
    live.zoho.edit("Accounts", nameless, {"Account_Name": "Now Named Pty Ltd"}, automation=False)
    accounts_before = {i: _account(live, i) for i in REJECTED}
    live.xero.clear_calls()
    live.zoho.clear_calls()

    response = client.post(f"/sync/runs/{dry['run_id']}/retry", json={}, headers=admin)
    assert response.status_code == 202, response.text
    assert response.json()["dry_run"] is True
    run = drive(response.json()["run_id"])

    assert (run["dry_run"], run["retry_of"], run["origin"]) == (True, dry["run_id"], "Retry via API")
    assert run["counts"]["selected"] == len(REJECTED)
    assert run["counts"]["created"] == 1  # would create the Account that now has a name
    assert run["message"].startswith("Dry run, nothing was written")
    assert _xero_writes(live) == 0
    assert _zoho_puts(live) == 0
    assert live.xero.contact(nameless) is None
    assert {i: _account(live, i) for i in REJECTED} == accounts_before


def test_a_real_runs_retry_can_be_asked_for_as_a_dry_run(
    live: LocalStack,
    client: httpx.Client,
    admin: dict[str, str],
    run_all: Callable[..., dict[str, Any]],
    drive: Callable[..., dict[str, Any]],
) -> None:
    first = run_all("all")
    live.zoho.edit("Accounts", account_id(3), {"Account_Name": "Now Named Pty Ltd"}, automation=False)
    live.xero.clear_calls()

    refused = client.post(f"/sync/runs/{first['run_id']}/retry", json={"dry_run": "yes"}, headers=admin)
    response = client.post(f"/sync/runs/{first['run_id']}/retry", json={"dry_run": True}, headers=admin)
    run = drive(response.json()["run_id"])

    assert refused.status_code == 400 and "dry_run" in refused.json()["message"]
    assert run["dry_run"] is True and run["counts"]["created"] == 1
    assert _xero_writes(live) == 0


# --- labels: where a run came from, how long it took ----------------------------------------


def test_a_run_says_where_it_was_started_and_how_long_it_took(
    client: httpx.Client,
    admin: dict[str, str],
    start: Callable[..., httpx.Response],
    drive: Callable[..., dict[str, Any]],
) -> None:
    run = drive(start("all").json()["run_id"])
    listed = client.get("/sync/runs", headers=admin).json()["runs"][0]

    assert (run["trigger"], run["origin"]) == ("api", "API")
    assert listed["origin"] == "API"
    # To the millisecond, so the duration is right to a tenth of a second (not whole seconds).
    started, finished = (datetime.fromisoformat(run[k]) for k in ("started_at", "finished_at"))
    assert "." in run["started_at"] and "." in run["finished_at"]
    assert run["duration_seconds"] == round((finished - started).total_seconds(), 1)


# --- 9. the admin token -------------------------------------------------------------------

ROUTES = [
    ("POST", "/sync/runs"),
    ("GET", "/sync/runs"),
    ("GET", "/sync/runs/some-run"),
    ("GET", "/sync/runs/some-run/problems"),
    ("POST", "/sync/runs/some-run/retry"),
]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic local-admin-token", "Bearer"])
def test_every_runs_route_needs_the_admin_token(
    client: httpx.Client, admin: dict[str, str], runs_queue: QueueWorker, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    if authorization and authorization.startswith("Basic"):
        headers = {"Authorization": "Basic " + os.environ["ADMIN_TOKEN"]}
    for method, path in ROUTES:
        body = {"window": "all"} if method == "POST" else None
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert "admin token" in response.json()["message"]
        assert os.environ["ADMIN_TOKEN"] not in response.text
    assert client.get("/sync/runs", headers=admin).json()["runs"] == []
    assert runs_queue.poll_once() == 0


# --- 7. Xero's daily limit pauses a run, and it resumes ------------------------------------


def _forget_our_budget() -> None:
    """The day window resets: drop our per-organisation budget item (pk BUDGET#<tenant>)."""
    from chalicelib.settings import get_settings

    table = get_settings().TABLE_NAME
    dynamodb = boto3.client("dynamodb")
    items = dynamodb.scan(TableName=table, ProjectionExpression="pk, sk")["Items"]
    for item in items:
        if item["pk"]["S"].startswith("BUDGET#"):
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def _all_accounts(client: httpx.Client, admin: dict[str, str], run_id: str) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        query = "all=true&limit=100" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/sync/runs/{run_id}/problems?{query}", headers=admin).json()
        found += body["accounts"]
        cursor = body["next_cursor"]
        if not cursor:
            return found


@pytest.fixture
def day_later(live: LocalStack) -> Iterator[Callable[[], None]]:
    """Moves the Xero stand-in's clock a day on (and back afterwards: other tests share it)."""
    moved = []

    def move() -> None:
        live.xero.clock.advance(86400)
        moved.append(86400)

    yield move
    live.xero.clock.advance(-sum(moved))


@pytest.mark.parametrize("whose_limit", ["our budget", "xero's 429"])
def test_daily_limit_pauses_the_run_and_it_resumes_when_the_day_resets(
    live: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    client: httpx.Client,
    admin: dict[str, str],
    start: Callable[..., httpx.Response],
    drive: Callable[..., dict[str, Any]],
    status: Callable[[str], dict[str, Any]],
    day_later: Callable[[], None],
    whose_limit: str,
) -> None:
    live.zoho.generate(60, seed=7)  # with the seed: two batches of 50
    # Room for the contacts index and one batch, then the day is over: either our shared budget
    # (configured for a Starter-tier app) says so, or Xero answers 429 X-Rate-Limit-Problem: day.
    if whose_limit == "our budget":
        monkeypatch.setenv("XERO_DAY_LIMIT", "2")
    else:
        live.xero.configure(day_limit=2)
    run_id = start("all").json()["run_id"]

    paused = drive(run_id, until=lambda r: r.state.value == "waiting")
    seen = status(run_id)

    assert seen["state"] == "waiting"
    assert seen["resume_at"]
    assert "daily limit" in seen["message"] and "nothing is lost" in seen["message"]
    assert seen["counts"]["failed"] == 0
    assert not [p for p in seen["problems"] if p["result"] == "failed"]
    assert paused["progress"]["batches_done"] < paused["progress"]["batches_total"]

    # A day later: Xero's window and ours have reset.
    day_later()
    _forget_our_budget()
    monkeypatch.delenv("XERO_DAY_LIMIT", raising=False)
    run = drive(run_id)

    assert run["state"] == "completed_with_errors"  # the seed's rejected Accounts
    assert run["counts"]["failed"] == 0
    counts = run["counts"]
    assert counts["created"] + counts["updated"] + counts["rejected"] == counts["selected"]
    assert run["progress"]["batches_done"] == run["progress"]["batches_total"] == 2
    numbers = _by_number(live)
    synced = [a for a in _all_accounts(client, admin, run_id) if a["result"] in ("created", "updated")]
    assert len(synced) == counts["created"] + counts["updated"]
    assert all(len(numbers.get(a["account_id"], [])) == 1 for a in synced)


# --- 8. partial failures ------------------------------------------------------------------


@pytest.mark.parametrize(
    "failures",
    [1, 3],
    ids=["retried in the worker", "retried by the queue"],  # 3 = every in-process attempt fails
)
def test_xero_500_on_a_batch_post_is_retried_without_losing_or_duplicating(
    live: LocalStack, run_all: Callable[..., dict[str, Any]], failures: int
) -> None:
    from sandbox.common import Fault

    live.xero.faults.add(Fault(count=failures, status=500, method="POST", path_prefix=CONTACTS))

    run = run_all("all")

    assert run["state"] == "completed_with_errors"
    assert run["counts"]["created"] == len(CREATED)
    assert run["counts"]["updated"] == len(UPDATED)
    assert run["counts"]["failed"] == 0
    assert _posts(live) == failures + 1
    numbers = _by_number(live)
    assert all(len(numbers.get(i, [])) == 1 for i in VALID)
    assert len(live.xero.contacts()) == len(XERO_CONTACTS) + len(CREATED)
    assert all(_account(live, i)["Xero_ID"] for i in VALID)


def test_one_contact_xero_refuses_does_not_fail_the_rest_of_its_batch(
    live: LocalStack,
    start: Callable[..., httpx.Response],
    drive: Callable[..., dict[str, Any]],
    status: Callable[[str], dict[str, Any]],
) -> None:
    run_id = start("all").json()["run_id"]
    drive(run_id, until=lambda r: r.planned)
    # Someone adds a same-name contact in Xero after the run indexed Xero: only the POST can tell.
    taken = account_id(12)
    live.xero.put_contact({"Name": "Island Coffee Roasters", "ContactNumber": "CUST-0099"})

    run = drive(run_id)

    assert run["counts"]["created"] == len(CREATED) - 1
    assert run["counts"]["updated"] == len(UPDATED)
    assert run["counts"]["rejected"] == len(REJECTED) + 1
    assert run["counts"]["failed"] == 0
    assert _posts(live) == 1
    problem = next(p for p in status(run_id)["problems"] if p["account_id"] == taken)
    assert problem["result"] == "rejected"
    assert "already has a different contact named “Island Coffee Roasters”" in problem["message"]
    assert _account(live, taken)["Xero_Sync_Error"]
    numbers = _by_number(live)
    assert taken not in numbers
    assert all(len(numbers.get(i, [])) == 1 for i in VALID if i != taken)


# --- more than one batch ------------------------------------------------------------------


def test_full_sync_of_more_than_50_accounts_posts_once_per_batch(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    live.zoho.generate(90, seed=3)

    run = run_all("all")

    counts = run["counts"]
    changed = counts["created"] + counts["updated"]
    assert changed > 50
    assert counts["failed"] == 0
    assert counts["created"] + counts["updated"] + counts["rejected"] == counts["selected"]
    assert run["progress"]["batches_total"] == math.ceil(counts["selected"] / 50)
    # Batches are 50 *selected* Accounts; the rejected ones are dropped before the POST, so a
    # run posts once per batch with a change: ceil(selected / 50), not ceil(changed / 50).
    assert _posts(live) == run["progress"]["batches_total"]
    assert _zoho_puts(live) == run["progress"]["batches_total"]  # one write-back per batch
    assert len(live.xero.contacts()) == len(XERO_CONTACTS) + counts["created"]
    assert run["calls"]["xero"] >= _posts(live)


def test_an_unchanged_rerun_keeps_its_unchanged_accounts_on_its_batches_not_an_item_each(
    live: LocalStack, client: httpx.Client, admin: dict[str, str], run_all: Callable[..., dict[str, Any]]
) -> None:
    """Issue 11: a rerun wrote (and kept for 400 days) one item per unchanged Account; it now
    writes O(batches), and the run still lists every Account with its outcome."""
    live.zoho.generate(90, seed=3)
    run_all("all")

    run = run_all("since_last_run")  # the scheduled window: our write-backs list them all again

    counts = run["counts"]
    assert counts["unchanged"] > 50 and counts["created"] == counts["updated"] == counts["failed"] == 0
    kinds = _run_item_kinds(run["run_id"])
    assert kinds.get("RUN_ACCOUNT", 0) == counts["rejected"]  # the problems, which the portal lists
    assert kinds["RUN_BATCH"] == run["progress"]["batches_total"] < counts["unchanged"] / 25
    listed = _all_accounts(client, admin, run["run_id"])
    assert len(listed) == len({a["account_id"] for a in listed}) == counts["selected"]
    unchanged = [a for a in listed if a["result"] == "unchanged"]
    assert len(unchanged) == counts["unchanged"]
    assert all(a["xero_contact_id"] and a["message"] and a["account_name"] for a in unchanged)


def _run_item_kinds(run_id: str) -> dict[str, int]:
    from collections import Counter

    from chalicelib.settings import get_settings

    items = boto3.client("dynamodb").query(
        TableName=get_settings().TABLE_NAME,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RUN#{run_id}"}},
        ProjectionExpression="entity",
    )["Items"]
    return dict(Counter(i["entity"]["S"] for i in items))


# --- since last run, our own write-backs and dry runs ---------------------------------------


def test_since_last_run_after_a_full_sync_costs_nothing_despite_our_write_backs(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    run_all("all")  # its write-backs moved every synced Account's Modified_Time
    live.xero.clear_calls()
    live.zoho.clear_calls()

    run = run_all("since_last_run")

    assert run["counts"]["created"] == run["counts"]["updated"] == run["counts"]["failed"] == 0
    assert _xero_writes(live) == 0
    assert _zoho_puts(live) == 0


def test_dry_run_does_not_count_as_the_last_run(run_all: Callable[..., dict[str, Any]]) -> None:
    from datetime import datetime, timedelta

    real = run_all({"days": 1})
    run_all("all", dry_run=True)

    run = run_all("since_last_run")

    overlap = timedelta(seconds=300)  # RUN_OVERLAP_SECONDS' default
    expected = datetime.fromisoformat(real["until"]) - overlap
    assert datetime.fromisoformat(run["since"]) == expected


# --- a batch that keeps failing -----------------------------------------------------------


def test_batch_that_keeps_failing_is_reported_then_retry_and_next_run_pick_it_up(
    live: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    client: httpx.Client,
    admin: dict[str, str],
    run_all: Callable[..., dict[str, Any]],
    drive: Callable[..., dict[str, Any]],
    status: Callable[[str], dict[str, Any]],
) -> None:
    from sandbox.common import Fault

    monkeypatch.setenv("MAX_QUEUE_RECEIVES", "2")  # the second delivery is the last attempt
    live.xero.faults.add(Fault(count=1000, status=500, method="POST", path_prefix=CONTACTS))

    broken = run_all("all")
    seen = status(broken["run_id"])

    assert broken["state"] == "completed_with_errors"
    assert broken["counts"]["failed"] + broken["counts"]["rejected"] == len(TICKED)
    failed = [p for p in seen["problems"] if p["result"] == "failed"]
    assert set(VALID) <= {p["account_id"] for p in failed}
    assert all("Retry failed" in p["message"] for p in failed)
    assert [c for c in live.xero.contacts() if c.get("ContactNumber") in VALID] == []

    live.xero.faults.clear()  # Xero is back
    response = client.post(f"/sync/runs/{broken['run_id']}/retry", json={}, headers=admin)
    retried = drive(response.json()["run_id"])

    assert retried["counts"]["selected"] == len(VALID) + len(REJECTED)
    assert retried["counts"]["created"] == len(CREATED)
    assert retried["counts"]["updated"] == len(UPDATED)
    assert retried["counts"]["failed"] == 0
    assert all(len(_by_number(live).get(i, [])) == 1 for i in VALID)


def test_an_account_both_changed_and_carried_over_counts_once_even_when_unchanged(
    live: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    click: Callable[..., httpx.Response],
    run_all: Callable[..., dict[str, Any]],
) -> None:
    """The next since-last-run run lists last run's failures twice: changed in the window (our
    failure write-backs changed them) and carried over. One fixed meanwhile by its button is
    unchanged in both listings, which leave no item of their own: it still counts once."""
    from sandbox.common import Fault

    monkeypatch.setenv("MAX_QUEUE_RECEIVES", "2")
    live.xero.faults.add(Fault(count=1000, status=500, method="POST", path_prefix=CONTACTS))
    assert run_all("all")["counts"]["failed"] == len(VALID)
    live.xero.faults.clear()
    fixed = CREATED[0]
    assert click(fixed).status_code == 200

    run = run_all("since_last_run")

    counts = run["counts"]
    assert counts["selected"] == len(TICKED)
    assert counts["unchanged"] == 1
    assert counts["created"] + counts["updated"] == len(VALID) - 1
    assert counts["rejected"] == len(REJECTED) and counts["failed"] == 0
    assert all(len(_by_number(live).get(i, [])) == 1 for i in VALID)


def test_rejections_survive_a_batch_whose_xero_post_keeps_failing(
    live: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    run_all: Callable[..., dict[str, Any]],
    status: Callable[[str], dict[str, Any]],
) -> None:
    from sandbox.common import Fault

    monkeypatch.setenv("MAX_QUEUE_RECEIVES", "2")
    live.xero.faults.add(Fault(count=1000, status=500, method="POST", path_prefix=CONTACTS))

    run = run_all("all")

    assert run["counts"]["rejected"] == len(REJECTED)
    assert run["counts"]["failed"] == len(VALID)
    rejected = {p["account_id"]: p for p in status(run["run_id"])["problems"] if p["result"] == "rejected"}
    assert set(rejected) == set(REJECTED)
    assert "Xero is temporarily unavailable" not in rejected[account_id(3)]["message"]
    failed = [p for p in status(run["run_id"])["problems"] if p["result"] == "failed"]
    assert all("Retry failed" in p["message"] and "We will try again" not in p["message"] for p in failed)


def test_accounts_of_a_batch_that_keeps_failing_show_why_in_zoho(
    live: LocalStack, monkeypatch: pytest.MonkeyPatch, run_all: Callable[..., dict[str, Any]]
) -> None:
    from sandbox.common import Fault

    monkeypatch.setenv("MAX_QUEUE_RECEIVES", "2")
    live.xero.faults.add(Fault(count=1000, status=500, method="POST", path_prefix=CONTACTS))

    run_all("all")

    assert all(_account(live, i)["Xero_Sync_Error"] for i in TICKED)


# --- the runs queue's partial-batch answer --------------------------------------------------


def _receive_one() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    return sqs.receive_message(
        QueueUrl=os.environ["RUNS_QUEUE_URL"], MaxNumberOfMessages=1, AttributeNames=["All"]
    )["Messages"]


def test_run_worker_hands_a_batch_xero_keeps_refusing_back_to_the_queue(
    live: LocalStack, start: Callable[..., httpx.Response], drive: Callable[..., dict[str, Any]]
) -> None:
    """SQS only redelivers what the answer lists: a batch that failed must be in it, by id."""
    import app
    from sandbox.common import Fault
    from sandbox.stack import LocalLambdaContext, _lambda_event

    run_id = start("all").json()["run_id"]
    drive(run_id, until=lambda r: r.planned)
    live.xero.faults.add(Fault(count=1000, status=500, method="POST", path_prefix=CONTACTS))
    received = _receive_one()

    answer = app.run_worker(_lambda_event(received), LocalLambdaContext())

    assert answer["batchItemFailures"] == [{"itemIdentifier": received[0]["MessageId"]}]
    assert len(live.xero.contacts()) == len(XERO_CONTACTS)  # nothing half-written to retry over


def test_run_worker_consumes_an_unreadable_message_instead_of_retrying_it_forever(
    live: LocalStack, runs_queue: QueueWorker
) -> None:
    import app
    from sandbox.stack import LocalLambdaContext, _lambda_event

    boto3.client("sqs").send_message(QueueUrl=os.environ["RUNS_QUEUE_URL"], MessageBody="not a run message")
    received = _receive_one()

    answer = app.run_worker(_lambda_event(received), LocalLambdaContext())

    assert answer["batchItemFailures"] == []


def test_a_run_clears_in_xero_what_was_emptied_in_zoho(
    live: LocalStack, run_all: Callable[..., dict[str, Any]]
) -> None:
    """A bulk run sends the fields emptied in Zoho since the last sync, as a click does (the map
    leaves empty values out, and Xero keeps what a request leaves out)."""
    run_all("all")
    acme = account_id(1)
    [before] = _by_number(live)[acme]
    assert _phone(before, "DEFAULT") and _phone(before, "FAX")
    live.zoho.edit("Accounts", acme, {"Phone": None, "Fax": None}, automation=False)

    run = run_all("all")

    assert run["counts"]["updated"] == 1
    [after] = _by_number(live)[acme]
    assert _phone(after, "DEFAULT") == "" and _phone(after, "FAX") == ""
    assert after["EmailAddress"] == before["EmailAddress"]  # the rest untouched
    assert run_all("all")["counts"]["updated"] == 0  # nothing left to clear


def _phone(contact: dict[str, Any], kind: str) -> str:
    return next((p.get("PhoneNumber", "") for p in contact.get("Phones", []) if p["PhoneType"] == kind), "")
