"""The CloudFormation/SAM template `make package` builds: every resource the service needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from chalicelib.settings import SECRET_KEYS, Settings
from chalicelib.store.schema import TABLE_DEFINITION
from deploy.package import schedule_hours
from tests.packaging.conftest import STAGE, Package

HANDLERS = {"app.app", "app.sync_worker", "app.run_worker", "app.scheduled_sync", "app.poll_zoho_deletions"}
# What every handler must be told about the stack (read by chalicelib/settings.py).
RESOURCE_VARIABLES = {
    "TABLE_NAME",
    "SYNC_QUEUE_NAME",
    "SYNC_QUEUE_URL",
    "RUNS_QUEUE_NAME",
    "RUNS_QUEUE_URL",
    "RUNS_DLQ_URL",
    "SECRETS_ID",
    "MAX_QUEUE_RECEIVES",
    "SYNC_SCHEDULE_HOURS",
}


def _environment(built: Package, function: dict[str, Any]) -> dict[str, Any]:
    shared = built.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = function["Properties"].get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def _sqs_events(built: Package) -> dict[str, dict[str, Any]]:
    return {
        f"{name}.{event_name}": event["Properties"]
        for name, function in built.functions.items()
        for event_name, event in (function["Properties"].get("Events") or {}).items()
        if event["Type"] == "SQS"
    }


def _queue_of(reference: Any) -> str:
    """The logical id of the queue an event source points at (`Fn::Sub: ${Queue.Arn}`)."""
    match = (
        re.fullmatch(r"\$\{(\w+)\.Arn\}", reference.get("Fn::Sub", ""))
        if isinstance(reference, dict)
        else None
    )
    assert match, f"event source queue {reference!r} is not one of the stack's queues"
    return match.group(1)


def test_every_handler_is_packaged_as_a_function(built: Package) -> None:
    assert {f["Properties"]["Handler"] for f in built.functions.values()} == HANDLERS
    for name, resource in built.resources.items():
        assert "Type" in resource, f"{name}: the merge template patches a resource Chalice did not generate"


def test_the_table_matches_the_schema_the_code_uses(built: Package) -> None:
    (table,) = built.of_type("AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    for key, expected in TABLE_DEFINITION.items():
        actual = properties[key]
        if key == "AttributeDefinitions":
            actual, expected = sorted(actual, key=str), sorted(expected, key=str)
        assert actual == expected, key
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain"
    assert properties["TableName"] == {"Fn::Sub": "zoho-xero-sync-${Stage}"}


def test_every_queue_handler_reports_partial_batch_failures(built: Package) -> None:
    events = _sqs_events(built)
    assert set(events) == {"SyncWorker.SyncWorkerSqsEventSource", "RunWorker.RunWorkerSqsEventSource"}
    for name, properties in events.items():
        assert properties.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name


def test_event_sources_use_the_stacks_queues_with_dead_letter_queues(built: Package) -> None:
    queues = built.of_type("AWS::SQS::Queue")
    events = _sqs_events(built)
    sync = queues[_queue_of(events["SyncWorker.SyncWorkerSqsEventSource"]["Queue"])]["Properties"]
    runs = queues[_queue_of(events["RunWorker.RunWorkerSqsEventSource"]["Queue"])]["Properties"]
    assert sync["QueueName"] == {"Fn::Sub": "zoho-xero-sync-${Stage}.fifo"} and sync["FifoQueue"] is True
    assert runs["QueueName"] == {"Fn::Sub": "zoho-xero-runs-${Stage}"} and "FifoQueue" not in runs
    receives = Settings().MAX_QUEUE_RECEIVES
    for queue in (sync, runs):
        dead_letter = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dead_letter]["Properties"].get("FifoQueue") == queue.get("FifoQueue")
        assert queue["RedrivePolicy"]["maxReceiveCount"] == receives


def test_run_worker_takes_one_message_at_a_time_five_at_most(built: Package) -> None:
    properties = _sqs_events(built)["RunWorker.RunWorkerSqsEventSource"]
    assert properties["BatchSize"] == 1
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 5}  # Xero: 5 concurrent calls per org


def test_visibility_timeout_is_six_times_the_worker_timeout(built: Package) -> None:
    queues = built.of_type("AWS::SQS::Queue")
    for name, properties in _sqs_events(built).items():
        function = built.functions[name.split(".")[0]]
        queue = queues[_queue_of(properties["Queue"])]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"], name


def test_every_handler_knows_the_stacks_resources(built: Package) -> None:
    settings_fields = set(Settings.model_fields)
    for name, function in built.functions.items():
        environment = _environment(built, function)
        assert set(environment) >= RESOURCE_VARIABLES, name
        unknown = {k for k in environment if k not in settings_fields and not k.startswith("POWERTOOLS_")}
        assert not unknown, f"{name}: variables no setting reads: {unknown}"
        assert environment["MAX_QUEUE_RECEIVES"] == str(Settings().MAX_QUEUE_RECEIVES)


def test_the_schedule_and_its_setting_agree(built: Package) -> None:
    hours = schedule_hours(built.template)
    assert hours == Settings().SYNC_SCHEDULE_HOURS  # packaged without SYNC_SCHEDULE_HOURS: the default
    for function in built.functions.values():
        assert _environment(built, function)["SYNC_SCHEDULE_HOURS"] == str(hours)


def test_the_package_can_only_be_deployed_as_its_stage(built: Package) -> None:
    assert built.template["Parameters"]["Stage"]["AllowedValues"] == [STAGE]


def test_every_function_has_a_log_group_with_retention_and_an_errors_alarm(built: Package) -> None:
    groups = built.of_type("AWS::Logs::LogGroup")
    alarms = built.of_type("AWS::CloudWatch::Alarm").values()
    for name, function in built.functions.items():
        group = groups[function["DependsOn"]]["Properties"]
        assert group["LogGroupName"] == {
            "Fn::Sub": "/aws/lambda/" + function["Properties"]["FunctionName"]["Fn::Sub"]
        }
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        errors = [
            a["Properties"]
            for a in alarms
            if a["Properties"]["MetricName"] == "Errors"
            and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
        ]
        assert len(errors) == 1, name
        assert errors[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_dead_letter_queue_has_a_depth_alarm(built: Package) -> None:
    queues = built.of_type("AWS::SQS::Queue")
    dead_letters = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in built.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Threshold"] == 0
        and a["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert dead_letters == watched == {"SyncDeadLetterQueue", "RunsDeadLetterQueue"}


def test_auth_failures_are_counted_in_every_log_group_and_alarmed_per_provider(built: Package) -> None:
    filters = built.of_type("AWS::Logs::MetricFilter").values()
    counted = {
        f["Properties"]["LogGroupName"]["Ref"]
        for f in filters
        if "auth_failed" in f["Properties"]["FilterPattern"]
    }
    assert counted == {function["DependsOn"] for function in built.functions.values()}
    providers = {
        a["Properties"]["Dimensions"][0]["Value"]
        for a in built.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "AuthFailures"
    }
    assert providers == {"xero", "zoho"}


def test_auth_failure_filter_matches_what_the_service_logs() -> None:
    """The metric filter counts `{"event": "auth_failed", "provider": ...}` log lines."""
    source = Path("chalicelib/oauth.py").read_text()
    assert '"event": "auth_failed"' in source and '"provider": self.provider' in source


def test_api_gateway_is_throttled(built: Package) -> None:
    (api,) = built.of_type("AWS::Serverless::Api").values()
    (setting,) = api["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


def test_the_secret_is_created_without_values(built: Package) -> None:
    (secret,) = built.of_type("AWS::SecretsManager::Secret").values()
    properties = secret["Properties"]
    assert "SecretString" not in properties
    generated = properties["GenerateSecretString"]
    placeholders = json.loads(generated["SecretStringTemplate"])
    assert set(placeholders.values()) == {""}
    assert set(placeholders) | {generated["GenerateStringKey"]} == set(SECRET_KEYS), (
        "the secret's keys must be the ones chalicelib/settings.py reads from it (SECRET_KEYS)"
    )
    for function in built.functions.values():
        assert _environment(built, function)["SECRETS_ID"] == {"Ref": "Secrets"}


def test_cfn_lint_passes(built: Package) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(built.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
