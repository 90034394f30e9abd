"""Least privilege, checked on what CloudFormation will actually get: the translated template.

The SAM template is transformed with aws-sam-translator (policy templates expanded, roles
generated) with a fixed managed-policy map instead of a call to IAM. Then every function
role is read statement by statement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
DATA_SERVICES = ("dynamodb", "sqs", "s3", "ssm", "ses", "secretsmanager", "kms")
# Managed policies a function role may carry: logs and traces only, no data access.
ALLOWED_MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


class ManagedPolicies:
    """Stands in for the IAM ListPolicies call the translator would make."""

    def load(self) -> dict[str, str]:
        return {
            "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        }


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for name in ("CodeUri", "ContentUri"):  # what `sam package` replaces local paths with
            if name in properties:
                properties[name] = "s3://artifacts/code.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return transform(template, {"SenderEmail": "reports@example.com"}, ManagedPolicies())


def function_roles(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = translated["Resources"]
    roles = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        roles[name] = resources[role]["Properties"]
    return roles


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in role.get("Policies", []):
        body = policy["PolicyDocument"]["Statement"]
        out.extend(body if isinstance(body, list) else [body])
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_actions(role: dict[str, Any]) -> set[str]:
    return {a for s in statements(role) if s.get("Effect") == "Allow" for a in as_list(s["Action"])}


def resource_text(role: dict[str, Any], action: str) -> str:
    return json.dumps([s["Resource"] for s in statements(role) if action in as_list(s["Action"])])


def test_every_function_has_its_own_generated_role(translated: dict[str, Any]) -> None:
    roles = function_roles(translated)
    assert set(roles) == {
        "DispatchFunction",
        "PollFunction",
        "RecheckFunction",
        "ReportDispatchFunction",
        "ReportFunction",
        "AlertFunction",
    }


def test_no_wildcard_actions_or_resources_on_data(translated: dict[str, Any]) -> None:
    problems = []
    for function, role in function_roles(translated).items():
        for arn in role.get("ManagedPolicyArns", []):
            if arn not in ALLOWED_MANAGED:
                problems.append(f"{function}: managed policy {arn}")
        for statement in statements(role):
            actions = as_list(statement["Action"])
            resources = as_list(statement["Resource"])
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{function}: wildcard action {action}")
            data_actions = [a for a in actions if a.split(":")[0] in DATA_SERVICES]
            if data_actions and "*" in resources:
                problems.append(f"{function}: {data_actions} on Resource '*'")
    assert problems == []


def test_each_function_gets_only_what_it_uses(translated: dict[str, Any]) -> None:
    roles = function_roles(translated)
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    # Read-only table access for the functions that only fan out.
    for name in ("RecheckFunction", "ReportDispatchFunction"):
        assert not allowed_actions(roles[name]) & writes, name
    # Platform credentials: only the poll function; email and archive: only the report function.
    for name, role in roles.items():
        actions = allowed_actions(role)
        assert ("ssm:GetParameter" in actions) == (name in ("PollFunction", "AlertFunction")), name
        assert ("sns:Publish" in actions) == (name == "AlertFunction"), name
        assert ("ses:SendRawEmail" in actions) == (name == "ReportFunction"), name
        assert ("s3:PutObject" in actions) == (name == "ReportFunction"), name
    # Queues: each sender can reach only its own queue.
    assert "PollQueue" in resource_text(roles["DispatchFunction"], "sqs:SendMessage*")
    assert "ReportQueue" not in resource_text(roles["DispatchFunction"], "sqs:SendMessage*")
    assert "ReportQueue" in resource_text(roles["ReportDispatchFunction"], "sqs:SendMessage*")
    assert "PollQueue" in resource_text(roles["PollFunction"], "sqs:ReceiveMessage")
    assert "ReportQueue" in resource_text(roles["ReportFunction"], "sqs:ReceiveMessage")
    assert "AlertQueue" in resource_text(roles["PollFunction"], "sqs:SendMessage*")
    assert "AlertQueue" in resource_text(roles["AlertFunction"], "sqs:ReceiveMessage")
    assert "AlertTopic" in resource_text(roles["AlertFunction"], "sns:Publish")


def test_scoped_resources(translated: dict[str, Any]) -> None:
    roles = function_roles(translated)
    poll = roles["PollFunction"]
    assert "parameter${CredentialsPath}*" in resource_text(poll, "ssm:GetParameter")
    # The alert function reads webhook URLs under alerts/ only, not the platform credentials.
    assert "parameter${CredentialsPath}alerts/*" in resource_text(roles["AlertFunction"], "ssm:GetParameter")
    (kms,) = [s for s in statements(poll) if "kms:Decrypt" in as_list(s["Action"])]
    assert "kms:ViaService" in kms["Condition"]["StringEquals"]
    report = roles["ReportFunction"]
    (ses,) = [s for s in statements(report) if "ses:SendRawEmail" in as_list(s["Action"])]
    assert ":identity/" in json.dumps(ses["Resource"])
    assert ses["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "SenderEmail"}
    for role in roles.values():
        for statement in statements(role):
            if any(a.startswith("dynamodb:") for a in as_list(statement["Action"])):
                assert '"Ref": "Table"' in json.dumps(statement["Resource"])


def test_queue_triggers_report_partial_failures(translated: dict[str, Any]) -> None:
    mappings = [
        r["Properties"]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    assert len(mappings) == 3
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
