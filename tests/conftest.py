"""Fixtures every test directory may use: dummy AWS credentials and an embedded table.

``table`` gives a moto-backed DynamoDB table created from template.yaml (the same
resource that deploys), ``dynamodb`` its low-level client, ``store`` a PostStore on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples every run, so a submission's result does not
# depend on luck; on a developer's machine they keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

REGION = "us-east-1"
TABLE = "responsegap-test"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials, and no profile or endpoint override that could reach a real account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    """Everything boto3 does inside the test goes to moto, in this process."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(dynamodb: Any) -> str:
    from responsegap.store.schema import create_table

    create_table(dynamodb, TABLE)
    return TABLE


@pytest.fixture
def store(dynamodb: Any, table: str) -> Any:
    """A PostStore with a fixed clock (2026-01-01T00:00:00Z) and a sleep that does not wait."""
    from responsegap.store.dynamo import PostStore

    return PostStore(table, dynamodb, clock=lambda: 1_767_225_600, sleep=lambda _s: None)
