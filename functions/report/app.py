"""Report queue -> compose, archive and email one brand's week, once (responsegap.pipeline.weekly)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.pipeline.observability import logger, metrics, tracer
from responsegap.pipeline.weekly import ReportDeps, process_report_batch

SETTINGS = Settings.from_env()
DEPS = ReportDeps.from_settings(SETTINGS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_report_batch(event, context, DEPS)
