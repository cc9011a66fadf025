"""Least privilege: the stage policies grant exactly what the shipped code calls, on the stack's resources.

The AWS calls are found by reading the code that goes into the Lambda package (app.py
and chalicelib/ without the operator CLI) for boto3 operation names of the services
it uses. A new call without a policy line fails here, not with AccessDenied in production;
a policy line no code needs fails too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from deploy.package import OPERATOR_ONLY, ROOT, stages
from tests.packaging.conftest import Package, unwrap

SERVICES = ("dynamodb", "sqs", "secretsmanager", "ses")
# An operation of an AWS client, called or passed on: `self._client.get_item(`, `self._client.put_item,`,
# `self.sqs.send_message(`, `boto3.client("x").op(`.
# (Receivers are named after their client, so Jinja's `env.get_template(` is not SES.)
AWS_CALL = re.compile(r"(?:\b\w*client|\bsqs|\bses|\bdynamodb|boto3\.client\([^)]*\))\.(\w+)\b")
# Only the local stack calls these (chalicelib/store/schema.py creates the table for `make run`);
# deployed, CloudFormation creates the table and the queue URLs come from the environment.
LOCAL_ONLY = {
    "dynamodb:CreateTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "sqs:GetQueueUrl",
}
# Operations whose IAM action has another name.
IAM_ACTION = {
    "sqs:SendMessageBatch": ["sqs:SendMessage"],
    "sqs:DeleteMessageBatch": ["sqs:DeleteMessage"],
    "sqs:ChangeMessageVisibilityBatch": ["sqs:ChangeMessageVisibility"],
}
# TransactWriteItems has no IAM action of its own: each element is authorised as its operation.
TRANSACT_ELEMENTS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
# What Lambda itself does with the function's role.
LAMBDA_NEEDS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    # The SQS event source polls with the function's role.
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}
# The only grants on "*", because AWS offers nothing narrower: Lambda's active tracing sends
# the X-Ray SDK's segments with the function's role, and X-Ray's PutTraceSegments and
# PutTelemetryRecords have no resource-level permissions and no condition keys. Metrics need
# no grant at all: they are EMF lines in the function's own log (chalicelib/metrics.py),
# so there is no cloudwatch:PutMetricData to bind to a namespace.
ACCOUNT_WIDE = {"XRayTraces": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}}


def _shipped_sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        if path.relative_to(ROOT / "chalicelib").parts[0] not in OPERATOR_ONLY:
            files.append(path)
    return files


def _operations() -> dict[str, str]:
    """boto3 method name -> "service:Operation" for the services the code uses."""
    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            names[xform_name(operation)] = f"{service}:{operation}"
    return names


def _needed_by_code() -> dict[str, list[str]]:
    """IAM action -> files whose code needs it."""
    operations = _operations()
    needed: dict[str, list[str]] = {}
    for path in _shipped_sources():
        source = path.read_text()
        actions: set[str] = set()
        for name in set(AWS_CALL.findall(source)) & set(operations):
            action = operations[name]
            if action == "dynamodb:TransactWriteItems":
                actions |= {
                    iam for key, iam in TRANSACT_ELEMENTS.items() if re.search(rf'"{key}"\s*:', source)
                }
            else:
                actions |= set(IAM_ACTION.get(action, [action]))
        for action in actions - LOCAL_ONLY:
            needed.setdefault(action, []).append(str(path.relative_to(ROOT)))
    return needed


def _policy(stage: str) -> dict[str, Any]:
    return json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())


def _statements(stage: str) -> list[dict[str, Any]]:
    return [unwrap(statement) for statement in _policy(stage)["Statement"]]


def _granted(stage: str) -> set[str]:
    return {action for statement in _statements(stage) for action in statement["Action"]}


@pytest.mark.parametrize("stage", stages())
def test_every_aws_call_in_the_code_is_granted(stage: str) -> None:
    missing = {action: files for action, files in _needed_by_code().items() if action not in _granted(stage)}
    assert not missing, f".chalice/policy-{stage}.json does not allow what the code calls: {missing}"


@pytest.mark.parametrize("stage", stages())
def test_nothing_is_granted_that_no_code_needs(stage: str) -> None:
    unused = _granted(stage) - set(_needed_by_code()) - LAMBDA_NEEDS - set().union(*ACCOUNT_WIDE.values())
    assert not unused, f".chalice/policy-{stage}.json grants actions nothing calls: {sorted(unused)}"


@pytest.mark.parametrize("stage", stages())
def test_no_wildcards(stage: str) -> None:
    for statement in _statements(stage):
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a], statement["Sid"]
        if statement["Sid"] in ACCOUNT_WIDE:
            assert set(statement["Action"]) == ACCOUNT_WIDE[statement["Sid"]]
            assert statement["Resource"] == "*" and "Condition" not in statement
            continue
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for resource in resources:
            # Resources are the stack's own, by reference: never a pattern.
            assert isinstance(resource, dict), f"{statement['Sid']}: {resource!r} is not a reference"
            assert "*" not in json.dumps(resource), statement["Sid"]


def test_config_turns_the_generated_policy_off() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    for stage, settings in config["stages"].items():
        assert settings["iam_policy_file"] == f"policy-{stage}.json"


def _references(value: Any) -> set[str]:
    """Logical ids and parameters a policy refers to (Ref, GetAtt, ${X} / ${X.Arn} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            elif key == "Fn::Sub":
                text, local = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
                for name in re.findall(r"\$\{([\w:]+)(?:\.\w+)?\}", text):
                    if name not in local:
                        found.add(name)
                found |= _references(local)
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def test_every_role_gets_the_stage_policy_and_it_names_stack_resources(built: Package) -> None:
    template_names = set(built.resources) | set(built.template["Parameters"])
    roles = built.of_type("AWS::IAM::Role")
    assert len(roles) == len(built.functions)
    for name, role in roles.items():
        (policy,) = role["Properties"]["Policies"]
        assert policy["PolicyDocument"] == _policy("dev"), name
    references = {r for r in _references(_policy("dev")) if not r.startswith("AWS::")}
    assert references and references <= template_names
    conditions = {s["Fn::If"][0] for s in _policy("dev")["Statement"] if "Fn::If" in s}
    assert conditions <= set(built.template["Conditions"])


@pytest.mark.parametrize("stage", stages())
def test_the_only_account_wide_grant_is_xray_and_tracing_is_on(stage: str) -> None:
    account_wide = {s["Sid"] for s in _statements(stage) if s["Resource"] == "*"}
    assert account_wide == set(ACCOUNT_WIDE)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["xray"] is True  # the grant exists for Lambda's active tracing only
