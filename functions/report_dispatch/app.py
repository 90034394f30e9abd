"""Hourly scheduler -> one report job per brand at its local report hour (responsegap.pipeline.weekly)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.pipeline.events import ScheduledRun
from responsegap.pipeline.observability import logger, metrics, tracer
from responsegap.pipeline.weekly import ReportDispatchDeps, dispatch_reports

SETTINGS = Settings.from_env()
DEPS = ReportDispatchDeps.from_settings(SETTINGS)


@logger.inject_lambda_context(correlation_id_path="execution_id")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return dispatch_reports(ScheduledRun.from_event(event), DEPS)
