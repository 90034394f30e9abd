"""Scheduler -> one poll message per due profile (responsegap.pipeline.dispatch)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.pipeline.dispatch import DispatchDeps, dispatch_due_profiles
from responsegap.pipeline.events import ScheduledRun
from responsegap.pipeline.observability import logger, metrics, tracer

# Read once per container: a wrong variable fails the cold start with its name.
SETTINGS = Settings.from_env()
DEPS = DispatchDeps.from_settings(SETTINGS)


@logger.inject_lambda_context(correlation_id_path="execution_id")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return dispatch_due_profiles(ScheduledRun.from_event(event), DEPS).as_dict()
