"""Read the CloudWatch embedded-metric-format documents our handlers print (chalicelib/metrics.py).

CloudWatch turns each EMF line of a Lambda's log into metrics; these helpers read the same lines
from captured stdout, so tests assert what CloudWatch would receive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

NAMESPACE = "ZohoXeroSync/test"
SERVICE = "zoho-xero-sync"


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Metrics enabled as in the stack (a namespace set), starting from an empty metric set."""
    from aws_lambda_powertools.metrics import Metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    Metrics().clear_metrics()
    yield
    Metrics().clear_metrics()


def documents(output: str) -> list[dict[str, Any]]:
    """Every EMF document in `output` (other lines, e.g. JSON logs, are skipped)."""
    found = []
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "_aws" in data:
            found.append(data)
    return found


def _declared(document: dict[str, Any]) -> Iterator[tuple[str, str, str, list[str]]]:
    for directive in document["_aws"]["CloudWatchMetrics"]:
        dimensions = [name for group in directive["Dimensions"] for name in group]
        for metric in directive["Metrics"]:
            yield directive["Namespace"], metric["Name"], metric.get("Unit", ""), dimensions


def values(docs: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """All values of metric `name` whose document carries exactly `dimensions` (+ service)."""
    wanted = {"service": SERVICE, **dimensions}
    found: list[float] = []
    for document in docs:
        for namespace, metric, _unit, names in _declared(document):
            if namespace != NAMESPACE or metric != name:
                continue
            if {n: document.get(n) for n in names} != wanted:
                continue
            value = document[name]
            found.extend(value if isinstance(value, list) else [value])
    return found


def unit_of(docs: list[dict[str, Any]], name: str) -> str:
    units = {unit for document in docs for _, metric, unit, _ in _declared(document) if metric == name}
    assert len(units) == 1, units
    return units.pop()
