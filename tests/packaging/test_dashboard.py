"""Operating it in AWS: the dashboard shows only metrics that exist, alarms point at the runbook,
and tracing is on from API Gateway through every function.

"Exists" means: emitted by the code (chalicelib/metrics.py EMITTED, checked against the real
EMF output in tests/unit/core/test_metrics.py), made by one of the template's log metric
filters, or published by AWS for one of the stack's own queues and functions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.metrics import EMITTED, SERVICE_DIMENSION
from chalicelib.observability import SERVICE
from deploy.package import ROOT
from tests.packaging.conftest import Package

OUR_NAMESPACE = "ZohoXeroSync/${Stage}"
GRAPHED_NAMESPACE = "ZohoXeroSync/<Stage>"  # the same, as _dashboard writes references
RUNBOOK = ROOT / "docs" / "operations.md"
REFERENCE = re.compile(r"\$\{([\w:]+)(?:\.(\w+))?\}")
SELECT = re.compile(
    r'SELECT \w+\((\w+)\) FROM SCHEMA\("([^"]+)"((?:, *\w+)*)\)(?: GROUP BY (\w+))?', re.IGNORECASE
)
# What AWS publishes, and which of the stack's resources each dimension must name.
AWS_METRICS = {
    "AWS/SQS": (
        "QueueName",
        "AWS::SQS::Queue",
        {
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateAgeOfOldestMessage",
        },
    ),
    "AWS/Lambda": ("FunctionName", "AWS::Serverless::Function", {"Errors", "Throttles", "Duration"}),
}


def _dashboard(built: Package) -> tuple[dict[str, Any], set[tuple[str, str | None]]]:
    """The dashboard body with every ${...} replaced by "<Name.Attr>", and those references."""
    (dashboard,) = built.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(REFERENCE.findall(body))
    text = REFERENCE.sub(lambda m: "<" + m.group(0)[2:-1] + ">", body)
    return json.loads(text), {(name, attr or None) for name, attr in references}


def _metric_filters(built: Package) -> dict[str, set[str]]:
    """Metric name -> dimension names, for the template's log metric filters."""
    found: dict[str, set[str]] = {}
    for metric_filter in built.of_type("AWS::Logs::MetricFilter").values():
        for transformation in metric_filter["Properties"]["MetricTransformations"]:
            found[transformation["MetricName"]] = {d["Key"] for d in transformation.get("Dimensions", [])}
    return found


def _our_metric_exists(built: Package, name: str, dimensions: set[str]) -> bool:
    if name in EMITTED:
        return dimensions == {SERVICE_DIMENSION, *EMITTED[name]}
    return _metric_filters(built).get(name) == dimensions


def _graphed(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, {dimension: value}) of every metric on every widget."""
    graphed = []
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], dict):  # a Metrics Insights query
                match = SELECT.fullmatch(line[0]["expression"])
                assert match, line[0]["expression"]
                metric, namespace, schema, group_by = match.groups()
                dimensions = {d.strip() for d in schema.split(",") if d.strip()}
                assert group_by is None or group_by in dimensions
                graphed.append((namespace, metric, dict.fromkeys(dimensions, "*")))
                continue
            plain = [part for part in line if not isinstance(part, dict)]
            assert "." not in plain, "write every metric out in full, so this test can read it"
            namespace, metric, *pairs = plain
            graphed.append((namespace, metric, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return graphed


def test_every_reference_in_the_dashboard_is_the_stacks_own(built: Package) -> None:
    _, references = _dashboard(built)
    names = set(built.resources) | set(built.template["Parameters"])
    assert {name for name, _ in references if not name.startswith("AWS::")} <= names


def test_every_metric_on_the_dashboard_is_one_that_exists(built: Package) -> None:
    body, _ = _dashboard(built)
    graphed = _graphed(body)
    assert graphed
    for namespace, metric, dimensions in graphed:
        if namespace == GRAPHED_NAMESPACE:
            assert _our_metric_exists(built, metric, set(dimensions)), (metric, dimensions)
            if SERVICE_DIMENSION in dimensions and dimensions[SERVICE_DIMENSION] != "*":
                assert dimensions[SERVICE_DIMENSION] == SERVICE
            continue
        dimension, resource_type, published = AWS_METRICS[namespace]
        assert metric in published, (namespace, metric)
        (value,) = [v for k, v in dimensions.items() if k == dimension]
        resource = value.strip("<>").split(".")[0]
        assert built.resources[resource]["Type"] == resource_type, (metric, value)


def test_every_metric_the_code_emits_is_on_the_dashboard(built: Package) -> None:
    body, _ = _dashboard(built)
    shown = {metric for namespace, metric, _ in _graphed(body) if namespace == GRAPHED_NAMESPACE}
    assert set(EMITTED) <= shown


def test_the_dashboard_shows_every_queue_and_every_alarm(built: Package) -> None:
    body, _ = _dashboard(built)
    queues = {
        value.strip("<>").split(".")[0]
        for namespace, _, dimensions in _graphed(body)
        if namespace == "AWS/SQS"
        for value in dimensions.values()
    }
    assert queues == set(built.of_type("AWS::SQS::Queue"))
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {a.strip("<>") for a in alarm_widget["properties"]["alarms"]}
    assert shown == {f"{name}.Arn" for name in built.of_type("AWS::CloudWatch::Alarm")}


def test_alarms_on_our_metrics_watch_metrics_that_exist(built: Package) -> None:
    for name, alarm in built.of_type("AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        if properties["Namespace"] != {"Fn::Sub": OUR_NAMESPACE}:
            continue
        dimensions = {d["Name"] for d in properties["Dimensions"]}
        assert _our_metric_exists(built, properties["MetricName"], dimensions), name
        for d in properties["Dimensions"]:
            if d["Name"] == SERVICE_DIMENSION:
                assert d["Value"] == SERVICE, name


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", markdown, re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def test_every_alarm_names_its_section_of_the_runbook(built: Package) -> None:
    anchors = _anchors(RUNBOOK.read_text())
    for name, alarm in built.of_type("AWS::CloudWatch::Alarm").items():
        description = alarm["Properties"]["AlarmDescription"]
        sections = re.findall(r"docs/operations\.md#([\w-]+)", description)
        assert sections, f"{name}: the description names no runbook section"
        assert set(sections) <= anchors, f"{name}: docs/operations.md has no section {sections}"


def test_the_alarms_a_user_would_notice_exist(built: Package) -> None:
    alarms = {
        a["Properties"]["AlarmName"]["Fn::Sub"]: a["Properties"]
        for a in built.of_type("AWS::CloudWatch::Alarm").values()
    }
    prefix = "zoho-xero-sync-${Stage}-"
    budget = alarms[prefix + "xero-daily-budget-low"]
    assert (budget["MetricName"], budget["Threshold"], budget["ComparisonOperator"]) == (
        "XeroDayBudgetRemainingPercent",
        10,
        "LessThanThreshold",
    )
    backlog = alarms[prefix + "sync-queue-backlog"]
    assert backlog["MetricName"] == "ApproximateAgeOfOldestMessage" and backlog["Threshold"] == 15 * 60
    assert backlog["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["SyncQueue", "QueueName"]}
    stuck = alarms[prefix + "run-stuck"]
    assert stuck["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["RunsQueue", "QueueName"]}
    # Longer than a rate-limit pause can hold a message back (RUN_MAX_DELAY_SECONDS <= 900).
    assert stuck["Threshold"] > 900
    for provider in ("xero", "zoho"):
        failing = alarms[prefix + f"{provider}-token-refresh-failing"]
        assert failing["MetricName"] == f"{provider.capitalize()}TokenRefreshFailures"


def test_tracing_is_active_from_api_gateway_through_every_function(built: Package) -> None:
    (api,) = built.of_type("AWS::Serverless::Api").values()
    assert api["Properties"]["TracingEnabled"] is True
    for name, function in built.functions.items():
        assert function["Properties"]["Tracing"] == "Active", name


def test_every_function_writes_metrics_to_the_stacks_namespace(built: Package) -> None:
    variables = built.template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {"Fn::Sub": OUR_NAMESPACE}
    for function in built.functions.values():
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "POWERTOOLS_METRICS_NAMESPACE" not in own
        assert own.get("POWERTOOLS_SERVICE_NAME", SERVICE) == SERVICE
    assert "POWERTOOLS_TRACE_DISABLED" not in json.dumps(built.template)


def test_the_runbook_is_linked_from_the_readme() -> None:
    assert "(docs/operations.md)" in Path(ROOT / "README.md").read_text()
