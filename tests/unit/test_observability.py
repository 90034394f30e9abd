"""pipeline/observability.py: the AWS SDK never logs a secret, and the tracer patches only what is used.

With the root logger at DEBUG (Lambda's ApplicationLogLevel=DEBUG), botocore would log the body
of every response, among them the decrypted SecureString of an SSM ``GetParameter``: a
platform token. The SDK loggers are pinned at INFO (or the root's level when higher).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from responsegap.pipeline import observability
from responsegap.pipeline.observability import SDK_LOGGERS, quiet_sdk_loggers

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tok-4f1e9c2b7a-SECURESTRING-VALUE"
PARAMETER = "/responsegap/x/acmehelp"
CHILDREN = (
    "botocore.parsers",
    "botocore.endpoint",
    "botocore.auth",
    "botocore.hooks",
    "urllib3.connectionpool",
)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        # The message as formatted, and every attribute (args, extra keys) in case a handler
        # with another formatter (Powertools' JSON one) would print them.
        return "\n".join(
            f"{r.name} {r.levelname} {r.getMessage()} {json.dumps(r.__dict__, default=repr)}"
            for r in self.records
        )


@pytest.fixture
def debug_root() -> Iterator[_Collect]:
    """The root logger at DEBUG with a handler that keeps every record; all levels put back after."""
    root = logging.getLogger()
    names = (*SDK_LOGGERS, *CHILDREN)
    saved = {name: (logging.getLogger(name).level, list(logging.getLogger(name).filters)) for name in names}
    saved_root = root.level
    collect = _Collect()
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        yield collect
    finally:
        root.removeHandler(collect)
        root.setLevel(saved_root)
        for name, (level, filters) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.filters[:] = filters


def get_secure_string() -> str:
    import boto3
    from moto import mock_aws

    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=json.dumps({"bearer_token": SECRET}))
        value = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]
    assert SECRET in value  # the call did return the secret...
    return value


def sdk_records(collect: _Collect) -> list[logging.LogRecord]:
    return [r for r in collect.records if r.name.split(".")[0] in SDK_LOGGERS]


@pytest.mark.usefixtures("aws_env")
def test_with_the_root_logger_at_debug_a_secure_string_is_not_logged(debug_root: _Collect) -> None:
    quiet_sdk_loggers()  # as on import, now that the root is at DEBUG
    logging.getLogger("test-observability-control").debug("the handler sees DEBUG records")
    get_secure_string()
    assert any(r.levelno == logging.DEBUG for r in debug_root.records)  # the capture works at DEBUG
    assert SECRET not in debug_root.text()  # ...and the secret is nowhere in the logs
    assert all(r.levelno >= logging.INFO for r in sdk_records(debug_root))


@pytest.mark.usefixtures("aws_env")
def test_without_the_pin_the_same_call_does_log_the_secret(debug_root: _Collect) -> None:
    """The check above can fail: with the SDK loggers left to the root's DEBUG, botocore logs the body."""
    for name in (*SDK_LOGGERS, *CHILDREN):
        logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger(name).filters.clear()
    get_secure_string()
    assert SECRET in "\n".join(r.getMessage() for r in sdk_records(debug_root))


@pytest.mark.usefixtures("aws_env")
def test_even_the_sdk_loggers_set_to_debug_explicitly_do_not_log_bodies(debug_root: _Collect) -> None:
    """boto3.set_stream_logger() or a debugging session sets botocore itself to DEBUG: bodies stay out."""
    quiet_sdk_loggers()
    for name in (*SDK_LOGGERS, *CHILDREN):
        logging.getLogger(name).setLevel(logging.DEBUG)
    get_secure_string()
    assert SECRET not in debug_root.text()


def test_the_pin_is_info_under_a_debug_root_and_follows_a_higher_root(debug_root: _Collect) -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)  # as before anything pinned them
    quiet_sdk_loggers()
    for name in (*SDK_LOGGERS, *CHILDREN):
        assert logging.getLogger(name).getEffectiveLevel() == logging.INFO, name
    logging.getLogger("botocore").setLevel(logging.WARNING)
    quiet_sdk_loggers()  # never lowers a level someone raised
    assert logging.getLogger("botocore").level == logging.WARNING
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)  # the Lambda runtime's default
    quiet_sdk_loggers()
    for name in SDK_LOGGERS:  # not lowered to INFO: no SDK chatter a WARNING root would not show
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    quiet_sdk_loggers()  # idempotent: one filter per wire logger
    assert logging.getLogger("botocore.parsers").filters.count(observability._WIRE_FILTER) == 1


def test_powertools_loggers_at_debug_do_not_lower_the_sdk_loggers(
    debug_root: _Collect, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools import Logger

    quiet_sdk_loggers()
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    Logger(service="responsegap-observability-test")
    Logger(service="responsegap-observability-test-2", level="DEBUG")
    for name in (*SDK_LOGGERS, *CHILDREN):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO, name


_IN_LAMBDA = """
import json, sys
from responsegap.pipeline import observability
before = {"sqlite3": "sqlite3" in sys.modules, "requests": "requests" in sys.modules}
import requests
print(json.dumps({
    "disabled": observability.tracer.disabled,
    "before": before,
    "requests_traced": type(requests.Session.request).__name__,
    "botocore_traced": type(__import__("botocore.client").client.BaseClient._make_api_call).__name__,
}))
"""


def test_in_lambda_the_tracer_patches_botocore_at_init_and_requests_on_import() -> None:
    """Not patch_all: no sqlite3 (nor a dozen probes) at init; requests traced once imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env |= {
        "LAMBDA_TASK_ROOT": "/var/task",  # what makes Powertools' tracer active, as in Lambda
        "AWS_LAMBDA_FUNCTION_NAME": "responsegap-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "responsegap",
        "PYTHONPATH": str(ROOT / "shared"),
    }
    done = subprocess.run(
        [sys.executable, "-c", _IN_LAMBDA], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["disabled"] is False
    assert seen["before"] == {"sqlite3": False, "requests": False}
    assert seen["requests_traced"] == "BoundFunctionWrapper"  # wrapt: the X-Ray SDK's patch
    assert seen["botocore_traced"] == "BoundFunctionWrapper"
