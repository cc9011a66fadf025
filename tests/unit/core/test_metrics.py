"""Metrics in CloudWatch's embedded metric format: what a deployed handler prints for CloudWatch.

The EMF lines are read back from stdout (tests/emf.py), as CloudWatch reads them from the log.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from chalicelib import metrics
from chalicelib.deadline import Deadline
from chalicelib.http import HttpService, RetryPolicy
from chalicelib.models.budget import RateLimits
from chalicelib.xero.budget import XeroRateGate
from tests.emf import NAMESPACE, documents, metrics_on, unit_of, values
from tests.scripted_http import Answer, Reply, prepared, reply, response_to, scripted_session

__all__ = ["metrics_on"]


def service(name: str, answers: list[Answer]) -> HttpService:
    session = scripted_session(answers)
    return HttpService(name, session, retry=RetryPolicy(attempts=3, base_delay=0), sleep=lambda _: None)


def invoke(handler: Callable[[], object]) -> object:
    """Run `handler` the way app.py's middleware runs every Lambda handler."""
    return metrics.flush_after(None, lambda _: handler())


def test_without_a_namespace_nothing_is_written_or_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make run` and the tests: no EMF noise in the log, nothing piling up in memory."""
    from aws_lambda_powertools.metrics import Metrics

    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    xero = service("Xero", [reply(200, {})])
    invoke(lambda: (xero.send("GET", "https://x/api"), metrics.sync_finished("created", "button")))

    assert documents(capsys.readouterr().out) == []
    assert not Metrics().metric_set


def test_calls_and_429s_are_counted_per_service_in_one_document_per_invocation(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    xero = service("Xero", [reply(429, **{"Retry-After": "0"}), reply(200)])
    zoho = service("Zoho CRM", [reply(200)])

    def handler() -> None:
        xero.send("POST", "https://x/api.xro/2.0/Contacts")
        zoho.send("GET", "https://z/crm/v8/Accounts/1")

    invoke(handler)

    docs = documents(capsys.readouterr().out)
    assert len(docs) == 1
    assert values(docs, "XeroCalls") == [1, 1]
    assert values(docs, "XeroRateLimited") == [1]
    assert values(docs, "ZohoCalls") == [1]
    assert values(docs, "ZohoRateLimited") == []
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE


def test_a_call_that_never_got_an_answer_still_counts(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: requests.PreparedRequest) -> Reply:
        raise requests.exceptions.ConnectionError("refused", request=request)

    zoho = HttpService("Zoho CRM", scripted_session([refuse] * 3), sleep=lambda _: None)
    with pytest.raises(Exception, match="Could not reach Zoho CRM"):
        invoke(lambda: zoho.send("GET", "https://z/crm/v8/Accounts/1", deadline=Deadline(30)))

    # written although the handler raised: Lambda would have logged it before the error
    assert values(documents(capsys.readouterr().out), "ZohoCalls") == [1, 1, 1]


def test_a_sync_is_counted_with_its_outcome_and_source(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.sync_finished("rejected", "workflow")
    metrics.sync_finished("created", "run", count=37)

    docs = documents(capsys.readouterr().out)
    assert values(docs, "Syncs", Outcome="rejected", Source="workflow") == [1]
    assert values(docs, "Syncs", Outcome="created", Source="run") == [37]
    assert unit_of(docs, "Syncs") == "Count"


def test_xero_daily_budget_is_read_from_xeros_answers(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    class Budget:  # the repository's one method `observe` needs here
        def record_remaining(self, *args: object, **kwargs: object) -> None:
            return None

    gate = XeroRateGate(Budget(), RateLimits(day=1000))  # type: ignore[arg-type]
    request = prepared("GET", "https://x/api.xro/2.0/Contacts", {"xero-tenant-id": "t"})
    invoke(lambda: gate.observe_response(response_to(request, Reply(200, {"X-DayLimit-Remaining": "80"}))))

    docs = documents(capsys.readouterr().out)
    assert values(docs, "XeroDayCallsRemaining") == [80]
    assert values(docs, "XeroDayBudgetRemainingPercent") == [8.0]
    assert unit_of(docs, "XeroDayBudgetRemainingPercent") == "Percent"


def test_queue_age_comes_from_the_messages_sent_timestamp(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler() -> None:
        metrics.queue_age("sync", {"SentTimestamp": "1700000000000"}, now=1700000042.5)
        metrics.queue_age("runs", {"SentTimestamp": "1700000000000"}, now=1700000001.0)
        metrics.queue_age("sync", {})  # no timestamp: nothing to say

    invoke(handler)

    docs = documents(capsys.readouterr().out)
    assert values(docs, "SyncQueueAge") == [42.5]
    assert values(docs, "RunsQueueAge") == [1.0]
    assert unit_of(docs, "SyncQueueAge") == "Seconds"


def test_every_emitted_name_is_declared(metrics_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    """EMITTED is what the dashboard test trusts: each helper writes only names listed there."""

    def handler() -> None:
        metrics.upstream_answer("Xero", 429)
        metrics.upstream_answer("Zoho CRM", 429)
        metrics.xero_day_remaining(10, 100)
        metrics.click_answered(0.25)
        metrics.queue_age("sync", {"SentTimestamp": "0"})
        metrics.queue_age("runs", {"SentTimestamp": "0"})
        metrics.run_step_done()
        metrics.run_finished(12.0, 3)
        metrics.token_refresh_failed("xero")
        metrics.token_refresh_failed("zoho")
        metrics.sync_finished("failed", "portal")

    invoke(handler)

    docs = documents(capsys.readouterr().out)
    written = {
        (metric["Name"], tuple(sorted(n for group in d["Dimensions"] for n in group if n != "service")))
        for doc in docs
        for d in doc["_aws"]["CloudWatchMetrics"]
        for metric in d["Metrics"]
    }
    assert written == {(name, tuple(sorted(dims))) for name, dims in metrics.EMITTED.items()}
    assert values(docs, "ClickLatency") == [250.0]
    assert unit_of(docs, "ClickLatency") == "Milliseconds"


def test_a_handler_that_measured_nothing_writes_nothing(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """/health or a portal page: no empty EMF document and no Powertools warning in the log."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        invoke(lambda: None)

    assert documents(capsys.readouterr().out) == []
    assert caught == []
