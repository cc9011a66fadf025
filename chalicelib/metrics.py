"""Operational metrics in CloudWatch's embedded metric format (EMF), through Powertools Metrics.

Each metric is a JSON line on stdout; in Lambda that is the function's log group, where
CloudWatch turns it into a metric. That needs no `cloudwatch:PutMetricData` permission and no
call on the request path. One namespace, `POWERTOOLS_METRICS_NAMESPACE` (the stack sets
`ZohoXeroSync/<stage>`); unset, as under `make run` and in tests, every function here does
nothing, so local logs stay readable and nothing accumulates in memory.

Dimensions are kept few (each combination is a billed custom metric): every metric carries
Powertools' `service` dimension, and only `Syncs` adds `Outcome` and `Source`. The other
metrics name their subject instead (`XeroCalls`, `ZohoTokenRefreshFailures`).

Metrics without their own dimensions are collected in Powertools' shared metric set and
written once per invocation by `flush_after` (the Chalice middleware app.py registers for
every handler, what Powertools' `log_metrics` does for a plain handler). `Syncs` is written
at once with `single_metric`, because one EMF document has one set of dimensions.

`EMITTED` lists every metric and its dimensions; the template's dashboard and alarms may only
name those (tests/packaging/test_dashboard.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
DISABLED_ENV = "POWERTOOLS_METRICS_DISABLED"

SYNCS = "Syncs"  # one per Account sync that ended; dimensions Outcome and Source
XERO_CALLS = "XeroCalls"  # HTTP requests sent to Xero (identity and API)
XERO_RATE_LIMITED = "XeroRateLimited"  # Xero's 429 answers
ZOHO_CALLS = "ZohoCalls"
ZOHO_RATE_LIMITED = "ZohoRateLimited"
XERO_DAY_REMAINING = "XeroDayCallsRemaining"  # Xero's X-DayLimit-Remaining
XERO_DAY_REMAINING_PERCENT = "XeroDayBudgetRemainingPercent"  # the same, % of XERO_DAY_LIMIT
CLICK_LATENCY = "ClickLatency"  # a Sync to Xero click: its sync (or queuing it), once the webhook is verified
SYNC_QUEUE_AGE = "SyncQueueAge"  # how long a queued sync waited before a worker took it
RUNS_QUEUE_AGE = "RunsQueueAge"
RUN_STEPS = "RunSteps"  # plan steps, batches and rate-limit pauses the run worker finished
RUN_DURATION = "RunDuration"  # start to finish of a bulk run
RUN_ACCOUNTS = "RunAccounts"  # Accounts a finished run went through
XERO_TOKEN_REFRESH_FAILURES = "XeroTokenRefreshFailures"
ZOHO_TOKEN_REFRESH_FAILURES = "ZohoTokenRefreshFailures"

SERVICE_DIMENSION = "service"

# Metric name -> the dimensions it is emitted with (besides `service`).
EMITTED: Mapping[str, tuple[str, ...]] = {
    SYNCS: ("Outcome", "Source"),
    XERO_CALLS: (),
    XERO_RATE_LIMITED: (),
    ZOHO_CALLS: (),
    ZOHO_RATE_LIMITED: (),
    XERO_DAY_REMAINING: (),
    XERO_DAY_REMAINING_PERCENT: (),
    CLICK_LATENCY: (),
    SYNC_QUEUE_AGE: (),
    RUNS_QUEUE_AGE: (),
    RUN_STEPS: (),
    RUN_DURATION: (),
    RUN_ACCOUNTS: (),
    XERO_TOKEN_REFRESH_FAILURES: (),
    ZOHO_TOKEN_REFRESH_FAILURES: (),
}

# HttpService names -> metric name prefixes.
_UPSTREAM = {"Xero": "Xero", "Zoho CRM": "Zoho"}
_TOKEN_FAILURES = {"xero": XERO_TOKEN_REFRESH_FAILURES, "zoho": ZOHO_TOKEN_REFRESH_FAILURES}


def enabled() -> bool:
    disabled = os.environ.get(DISABLED_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get(NAMESPACE_ENV)) and not disabled


def _metrics() -> Any:
    # Powertools keeps the metric set on the class, so every instance adds to the same one;
    # a new instance reads the namespace from the environment as it is now.
    from aws_lambda_powertools.metrics import Metrics

    return Metrics()


def _add(name: str, unit: str, value: float) -> None:
    if enabled():
        _metrics().add_metric(name=name, unit=unit, value=value)


def flush() -> None:
    """Write what this invocation collected (one EMF document) and start afresh."""
    if not enabled():
        return
    metrics = _metrics()
    if metrics.metric_set:  # a handler that measured nothing (/health, a portal page) writes nothing
        metrics.flush_metrics()


def flush_after(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware: flush the invocation's metrics when the handler returns or raises."""
    try:
        return get_response(event)
    finally:
        flush()


# --- what the service measures ------------------------------------------------


def sync_finished(outcome: str, source: str, count: int = 1) -> None:
    """Accounts whose sync ended with `outcome` (created ... failed), started by `source`."""
    if not enabled() or count <= 0:
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=SYNCS, unit=MetricUnit.Count, value=count, namespace=os.environ[NAMESPACE_ENV]
    ) as metric:
        metric.add_dimension("Outcome", outcome)
        metric.add_dimension("Source", source)


def upstream_answer(service: str, status_code: int | None) -> None:
    """One request sent to Xero or Zoho (`status_code` None: it never got an answer)."""
    prefix = _UPSTREAM.get(service)
    if prefix is None:
        return
    _add(f"{prefix}Calls", "Count", 1)
    if status_code == 429:
        _add(f"{prefix}RateLimited", "Count", 1)


def xero_day_remaining(remaining: int, day_limit: int) -> None:
    """Xero's count of calls left today, also as a percentage of the limit we keep to."""
    _add(XERO_DAY_REMAINING, "Count", remaining)
    if day_limit > 0:
        _add(XERO_DAY_REMAINING_PERCENT, "Percent", round(min(100.0, 100.0 * remaining / day_limit), 2))


def click_answered(seconds: float) -> None:
    _add(CLICK_LATENCY, "Milliseconds", round(seconds * 1000, 1))


def queue_age(queue: str, attributes: Mapping[str, Any], now: float | None = None) -> None:
    """How long an SQS message waited, from its `SentTimestamp` attribute (epoch milliseconds)."""
    try:
        sent = int(attributes["SentTimestamp"]) / 1000
    except (KeyError, TypeError, ValueError):
        return
    age = max(0.0, (time.time() if now is None else now) - sent)
    _add(RUNS_QUEUE_AGE if queue == "runs" else SYNC_QUEUE_AGE, "Seconds", round(age, 3))


def run_step_done() -> None:
    _add(RUN_STEPS, "Count", 1)


def run_finished(duration_seconds: float, accounts: int) -> None:
    _add(RUN_DURATION, "Seconds", round(max(0.0, duration_seconds), 1))
    _add(RUN_ACCOUNTS, "Count", accounts)


def token_refresh_failed(provider: str) -> None:
    name = _TOKEN_FAILURES.get(provider)
    if name is not None:
        _add(name, "Count", 1)
