"""Alert queue -> one brand's overdue-post alert run per message (responsegap.pipeline.alert)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.pipeline.alert import AlertDeps, process_alert_batch
from responsegap.pipeline.observability import logger, metrics, tracer

SETTINGS = Settings.from_env()
DEPS = AlertDeps.from_settings(SETTINGS)


# Each record sets its SQS message id as the correlation id (see process_alert_batch).
@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_alert_batch(event, context, DEPS)
