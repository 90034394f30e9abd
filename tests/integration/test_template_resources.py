"""What the template promises besides IAM: table keys, queues with DLQs and alarms, a private
bucket, schedules whose input the handlers parse, and the dashboard kept in infra/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from responsegap.pipeline.events import AlertJob, ProfileJob, ReportJob, ScheduledRun

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_table_keys_and_index_are_the_documented_ones(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]["Properties"]
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "open_posts"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["open_pk", "open_sk"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_queue_has_a_dead_letter_queue_with_an_alarm(template: dict[str, Any]) -> None:
    queues = of_type(template, "AWS::SQS::Queue")
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    sources = {name: q for name, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert set(sources) == {"PollQueue", "ReportQueue", "AlertQueue"}
    for queue in sources.values():
        dlq = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq in watched
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_every_function_has_an_error_alarm(template: dict[str, Any]) -> None:
    functions = set(of_type(template, "AWS::Serverless::Function"))
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Errors"
    }
    assert alarmed == functions


def test_archive_bucket_is_private_encrypted_tls_only(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ArchiveBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["LifecycleConfiguration"]["Rules"][0]["Status"] == "Enabled"
    policy = template["Resources"]["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy
    )


def test_schedules_deliver_what_the_handlers_parse(template: dict[str, Any]) -> None:
    filled = {
        "<aws.scheduler.scheduled-time>": "2026-11-23T07:00:00Z",
        "<aws.scheduler.execution-id>": "abc",
        "<aws.scheduler.attempt-number>": "2",
    }
    schedules = []
    for function in of_type(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "ScheduleV2":
                text = event["Properties"]["Input"]
                for placeholder, value in filled.items():
                    text = text.replace(placeholder, value)
                run = ScheduledRun.from_event(json.loads(text))
                assert (run.scheduled_time, run.execution_id, run.attempt) == (1795417200, "abc", 2)
                schedules.append(run.job)
    assert sorted(schedules) == ["dispatch", "recheck", "report_dispatch"]


def test_globals_trace_and_configure_powertools(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert function["Tracing"] == "Active" and function["Runtime"] == "python3.12"
    variables = function["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "responsegap"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "TABLE_NAME"} <= set(variables)
    layer = template["Resources"]["ResponsegapLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    # shared/Makefile builds it: requirements without botocore, compiled for python3.12.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def test_dashboard_body_is_infra_dashboard_json(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    on_disk = (ROOT / "infra" / "dashboard.json").read_text(encoding="utf-8")
    assert json.loads(body) == json.loads(on_disk)
    metrics = {
        m[1]
        for w in json.loads(on_disk)["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    }
    assert {"PostsIngested", "RepliesMatched", "PollsFailed", "RateLimited", "UnansweredOverSla"} <= metrics
    # Alerts: sent, answered after an alert, time from overdue to alert, failing targets.
    assert {"AlertsSent", "AnsweredAfterAlert", "OverdueToAlertSeconds", "AlertTargetsFailing"} <= metrics
    # Every ${...} in the body is a resource or pseudo parameter of the template.
    names = set(template["Resources"]) | {"AWS::Region"}
    for reference in re.findall(r"\$\{([^}]+)\}", on_disk):
        assert reference.split(".")[0] in names, reference


def test_alerts_have_a_topic_a_fifo_queue_grouped_by_brand_and_a_failing_target_alarm(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    queue = resources["AlertQueue"]["Properties"]
    assert queue["FifoQueue"] is True and queue["DelaySeconds"] == {"Ref": "AlertDelaySeconds"}
    assert resources["AlertDeadLetterQueue"]["Properties"]["FifoQueue"] is True
    subscription = resources["AlertTopicEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlertEmail"}
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    alarm = resources["AlertTargetFailingAlarm"]["Properties"]
    assert alarm["MetricName"] == "AlertTargetsFailing" and alarm["Namespace"] == "responsegap"
    poll = resources["PollFunction"]["Properties"]["Environment"]["Variables"]
    assert poll["ALERT_QUEUE_URL"] == {"Ref": "AlertQueue"}
    alert = resources["AlertFunction"]["Properties"]
    # A claim must outlive the run that holds it.
    assert int(alert["Environment"]["Variables"]["ALERT_CLAIM_SECONDS"]) > alert["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * alert["Timeout"]


def test_sample_events_parse() -> None:
    events = ROOT / "events"
    for name in ("scheduler-dispatch.json", "scheduler-recheck.json", "scheduler-report-dispatch.json"):
        ScheduledRun.from_event(json.loads((events / name).read_text(encoding="utf-8")))
    for record in json.loads((events / "sqs-poll.json").read_text(encoding="utf-8"))["Records"]:
        ProfileJob.from_json(record["body"])
    for record in json.loads((events / "sqs-report.json").read_text(encoding="utf-8"))["Records"]:
        ReportJob.from_json(record["body"])
    for record in json.loads((events / "sqs-alert.json").read_text(encoding="utf-8"))["Records"]:
        assert AlertJob.from_json(record["body"]).changed_posts == 2
