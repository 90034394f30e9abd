"""A deployed responsegap stack, seen from a laptop: its outputs as the settings' variables.

``responsegap report --stack NAME`` and ``responsegap profiles --stack NAME`` use this, so
the same CLI that runs on the embedded AWS works against a real account.
"""

from __future__ import annotations

from typing import Any

from responsegap.domain.model import ConfigError

# CloudFormation output -> the environment variable Settings reads.
OUTPUT_VARIABLES = {
    "TableName": "TABLE_NAME",
    "PollQueueUrl": "POLL_QUEUE_URL",
    "ReportQueueUrl": "REPORT_QUEUE_URL",
    "ArchiveBucketName": "ARCHIVE_BUCKET",
    "SenderEmail": "SENDER_EMAIL",
    "AlertTopicArn": "ALERT_TOPIC_ARN",
    "AlertQueueUrl": "ALERT_QUEUE_URL",
}


def stack_environment(cloudformation: Any, stack: str) -> dict[str, str]:
    """The variables named by the stack's outputs; the table at least must be there."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception as error:  # botocore ClientError: no such stack, or no access to it
        raise ConfigError(f"stack {stack!r}: {error}") from error
    outputs = {
        o.get("OutputKey"): o.get("OutputValue") for o in (stacks[0].get("Outputs", []) if stacks else [])
    }
    found = {variable: str(outputs[key]) for key, variable in OUTPUT_VARIABLES.items() if outputs.get(key)}
    if "TABLE_NAME" not in found:
        raise ConfigError(f"stack {stack!r} has no TableName output; is it a responsegap stack?")
    return found


def use_stack(stack: str, region: str | None = None) -> None:
    """Put the stack's outputs into the environment (variables already set win), for a command
    about to read ``Settings.from_env()`` against a deployed stack."""
    import os

    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    for variable, value in stack_environment(cloudformation, stack).items():
        os.environ.setdefault(variable, value)
