"""--stack: a deployed stack's outputs become the settings' variables."""

from __future__ import annotations

import pytest

from responsegap.domain.model import ConfigError
from responsegap.stack import stack_environment


class FakeCloudFormation:
    def __init__(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error

    def describe_stacks(self, StackName):
        if self.error:
            raise self.error
        return {"Stacks": [{"StackName": StackName, "Outputs": self.outputs}]}


def test_outputs_become_variables():
    outputs = [
        {"OutputKey": "TableName", "OutputValue": "rg-Table-1"},
        {"OutputKey": "ArchiveBucketName", "OutputValue": "rg-archive"},
        {"OutputKey": "DashboardUrl", "OutputValue": "https://console"},
    ]
    assert stack_environment(FakeCloudFormation(outputs), "rg") == {
        "TABLE_NAME": "rg-Table-1",
        "ARCHIVE_BUCKET": "rg-archive",
    }


def test_a_stack_without_a_table_or_that_does_not_exist_is_named():
    with pytest.raises(ConfigError, match="'other' has no TableName"):
        stack_environment(FakeCloudFormation([]), "other")
    with pytest.raises(ConfigError, match="'gone'"):
        stack_environment(FakeCloudFormation(error=RuntimeError("Stack with id gone does not exist")), "gone")
