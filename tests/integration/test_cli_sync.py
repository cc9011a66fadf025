"""`python -m chalicelib.cli sync` against the real app over HTTP, with a run worker draining the runs queue."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalicelib.cli.__main__ import main
from chalicelib.cli.sync import run as run_sync
from sandbox.stack import LocalStack, QueueWorker

TOKEN = "local-admin-token"


@pytest.fixture
def run_worker(live: LocalStack) -> Iterator[QueueWorker]:
    """Plays Lambda for the runs queue (the package's stack starts no workers)."""
    worker = QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="run_worker", max_messages=1)
    worker.start()
    yield worker
    worker.stop()


def cli(live: LocalStack, *argv: str) -> tuple[int, str, str]:
    """Run the command in-process; returns (exit code, stdout, stderr)."""
    import argparse

    from chalicelib.cli import sync

    parser = argparse.ArgumentParser()
    sync.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sync", "--url", live.app_url, "--poll-seconds", "0.2", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_sync(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def cli_without_url(*argv: str) -> tuple[int, str, str]:
    import argparse

    from chalicelib.cli import sync

    parser = argparse.ArgumentParser()
    sync.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sync", "--poll-seconds", "0.2", *argv])
    out, err = io.StringIO(), io.StringIO()
    return run_sync(args, out=out, err=err), out.getvalue(), err.getvalue()


def admin(live: LocalStack) -> httpx.Client:
    return httpx.Client(base_url=live.app_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def test_full_run_shows_progress_summary_and_every_problem(live: LocalStack, run_worker: Any) -> None:
    code, out, err = cli(live, "--all", "--token", TOKEN)

    assert "batches" in err and "completed" in err  # the progress line reached the end
    assert "Xero calls" in out and "Zoho calls" in out and "Zoho credits" in out and "duration" in out
    with admin(live) as api:
        runs = api.get("/sync/runs").json()["runs"]
        run = api.get(f"/sync/runs/{runs[0]['run_id']}").json()
        problems = api.get(f"/sync/runs/{run['run_id']}/problems", params={"limit": 100}).json()["accounts"]
    assert run["trigger"] == "cli"
    assert "started by   CLI\n" in out
    assert run["counts"]["created"] > 0
    assert f"created {run['counts']['created']}" in err
    assert f"created      {run['counts']['created']:>8}" in out
    # The seeded Zoho data holds Accounts each rejection rule catches: the run ends with errors.
    assert run["state"] == "completed_with_errors" and code == 1
    assert problems
    for problem in problems:
        assert problem["account_id"] in out
        assert problem["message"] in out


def test_dry_run_writes_nothing_and_says_so(live: LocalStack, run_worker: Any) -> None:
    before = len(live.xero.contacts())

    code, out, _ = cli(live, "--all", "--dry-run", "--token", TOKEN)

    assert "dry run: nothing was written" in out
    assert code == 1  # the seeded rejections would still be rejected
    assert len(live.xero.contacts()) == before
    assert not [c for c in live.xero.calls() if c["method"] in ("POST", "PUT") and "api.xro" in c["template"]]


def test_a_run_from_xero_to_zoho_is_started_with_direction(live: LocalStack, run_worker: Any) -> None:
    contact = live.xero.put_contact({"Name": "Made In Xero Ltd"})

    code, _, _ = cli(live, "--days", "1", "--direction", "xero_to_zoho", "--token", TOKEN)

    with admin(live) as api:
        run = api.get("/sync/runs").json()["runs"][0]
    assert run["direction"] == "xero_to_zoho"
    assert code in (0, 1)  # the seeded Xero contacts include ones Zoho refuses
    assert [a for a in live.zoho.records("Accounts") if a["Xero_ID"] == contact["ContactID"]]


def test_a_run_both_ways_is_started_with_direction_both(live: LocalStack, run_worker: Any) -> None:
    code, _, _ = cli(live, "--days", "1", "--direction", "both", "--token", TOKEN)

    with admin(live) as api:
        run = api.get("/sync/runs").json()["runs"][0]
    assert run["direction"] == "both"
    assert run["state"] in ("completed", "completed_with_errors")
    assert code in (0, 1)  # the seeded Accounts include ones Xero refuses


def test_an_unknown_direction_is_refused_before_anything_is_sent(live: LocalStack) -> None:
    with pytest.raises(SystemExit):
        cli(live, "--all", "--direction", "sideways", "--token", TOKEN)


def test_wrong_token_is_refused_with_the_apis_message(live: LocalStack) -> None:
    code, _, err = cli(live, "--all", "--token", "not-the-token")

    assert code == 2
    assert "admin token" in err


def test_days_out_of_range_is_refused_in_plain_words(live: LocalStack) -> None:
    code, _, err = cli(live, "--days", "45", "--token", TOKEN)

    assert code == 2
    assert "from 1 to 30" in err


def test_a_second_run_while_one_is_in_progress_gets_the_running_runs_id(live: LocalStack) -> None:
    # No worker: the first run stays in progress.
    code, out, _ = cli(live, "--all", "--no-wait", "--token", TOKEN)
    first = out.strip()
    assert code == 0 and first

    code, _, err = cli(live, "--since-last-run", "--token", TOKEN)

    assert code == 2
    assert first in err and "only one run at a time" in err
    _drain_runs(live)


def test_retry_reruns_the_failed_and_rejected_accounts(live: LocalStack, run_worker: Any) -> None:
    cli(live, "--all", "--token", TOKEN)
    with admin(live) as api:
        first = api.get("/sync/runs").json()["runs"][0]

    code, out, _ = cli(live, "--retry", first["run_id"], "--token", TOKEN)

    assert f"failed and rejected Accounts of run {first['run_id']}" in out
    assert code == 1  # the seeded rejections are still there: nothing a retry can fix


def test_retry_of_a_dry_run_is_a_dry_run_and_says_so(live: LocalStack, run_worker: Any) -> None:
    cli(live, "--all", "--dry-run", "--token", TOKEN)
    with admin(live) as api:
        dry = api.get("/sync/runs").json()["runs"][0]
    before = len(live.xero.contacts())

    code, out, err = cli(live, "--retry", dry["run_id"], "--token", TOKEN)

    assert "(dry run: nothing will be written)" in err
    assert "(dry run: nothing was written)" in out
    assert "started by   Retry via CLI\n" in out
    assert code == 1
    assert len(live.xero.contacts()) == before
    assert not [c for c in live.xero.calls() if c["method"] in ("POST", "PUT") and "api.xro" in c["template"]]


def test_a_service_that_cannot_be_reached_exits_2_and_says_where_it_looked(live: LocalStack) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # Nothing listens on `port` any more.
    code, _, err = cli(live, "--all", "--token", TOKEN, "--url", f"http://127.0.0.1:{port}")

    assert code == 2
    assert f"Could not reach the sync service at http://127.0.0.1:{port} (Connection refused)" in err
    assert "--url or SYNC_SERVICE_URL" in err


def test_the_service_is_found_through_port_when_no_url_is_given(
    live: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNC_SERVICE_URL", raising=False)
    monkeypatch.delenv("SYNC_API_URL", raising=False)
    monkeypatch.setenv("PORT", live.app_url.rsplit(":", 1)[1])
    monkeypatch.setenv("ADMIN_TOKEN", TOKEN)

    code, out, _ = cli_without_url("--all", "--no-wait")

    assert code == 0 and out.strip()
    _drain_runs(live)


def test_sync_service_url_wins_over_port(live: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_SERVICE_URL", live.app_url)
    monkeypatch.setenv("PORT", "1")  # would be refused
    monkeypatch.setenv("ADMIN_TOKEN", TOKEN)

    code, out, _ = cli_without_url("--all", "--no-wait")

    assert code == 0 and out.strip()
    _drain_runs(live)


def test_no_window_is_bad_usage(live: LocalStack) -> None:
    code, _, err = cli(live, "--token", TOKEN)

    assert code == 2 and "--since-last-run" in err


def test_the_dispatcher_knows_the_command(monkeypatch: pytest.MonkeyPatch, live: LocalStack) -> None:
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    assert main(["sync", "--all", "--url", live.app_url]) == 2  # no token anywhere


def test_the_summary_gives_the_runs_duration_to_a_tenth_of_a_second() -> None:
    from chalicelib.cli.sync import _summary

    out = io.StringIO()
    run = {"run_id": "r", "state": "completed", "origin": "Schedule", "duration_seconds": 1.3, "counts": {}}
    _summary(run, [], watched=9.0, out=out)

    assert "  duration         1.3s\n" in out.getvalue()
    assert "  started by   Schedule\n" in out.getvalue()


def _drain_runs(live: LocalStack) -> None:
    worker = QueueWorker(os.environ["RUNS_QUEUE_URL"], poll_seconds=0, handler="run_worker", max_messages=1)
    done = threading.Event()
    with admin(live) as api:
        for _ in range(200):
            worker.poll_once()
            runs = api.get("/sync/runs").json()["runs"]
            if all(r["state"] in ("completed", "completed_with_errors", "failed") for r in runs):
                done.set()
                break
    assert done.is_set()
