"""Powertools singletons shared by every handler and pipeline module.

Service name, log level and sampling come from the ``POWERTOOLS_*`` environment variables
the template sets in Globals; the metric namespace is fixed here so dashboards and alarms
can rely on it even when a function is invoked locally without the template's variables.

Two things here are about what a cold start costs and what a log may contain:

- The tracer patches only what the functions call: botocore (every AWS call) now, and
  ``requests`` (the platform APIs) when a function first imports it. The default,
  ``patch_all``, also imports and patches sqlite3 and probes a dozen database and HTTP
  libraries on every cold start, for nothing.
- The AWS SDK's own loggers are pinned at INFO or above, whatever the root level: at DEBUG
  botocore logs every request and response body, e.g. the decrypted SecureString of an SSM
  ``GetParameter`` (a platform token). Lambda's ApplicationLogLevel=DEBUG sets the root
  logger to DEBUG, so without the pin one setting would write the tokens to CloudWatch.
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "responsegap"

# The SDK's loggers, and the ones of them that write request/response content at DEBUG
# (bodies, signed headers, URLs with query strings).
SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
WIRE_LOGGERS = ("botocore.parsers", "botocore.endpoint", "botocore.auth", "urllib3.connectionpool")
SDK_MIN_LEVEL = logging.INFO


class _DropBelow(logging.Filter):
    """Refuses records under ``level`` even when someone sets the logger itself to DEBUG."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


_WIRE_FILTER = _DropBelow(SDK_MIN_LEVEL)


def quiet_sdk_loggers() -> None:
    """Pin the SDK loggers at INFO, or at the root's level when that is higher.

    Idempotent; called on import. A logger's own level wins over the root's, so the SDK stays
    at INFO with the root at DEBUG, and stays as quiet as before when the root is at WARNING.
    The wire loggers also get a filter: a record is checked against the filters of the logger
    that created it, so even ``logging.getLogger("botocore.parsers").setLevel(DEBUG)`` (or
    ``boto3.set_stream_logger()``) cannot bring the bodies back.
    """
    level = max(SDK_MIN_LEVEL, logging.getLogger().getEffectiveLevel())
    for name in SDK_LOGGERS:
        sdk = logging.getLogger(name)
        if sdk.level < level:  # NOTSET (0) included: it would inherit the root's DEBUG
            sdk.setLevel(level)
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if _WIRE_FILTER not in wire.filters:
            wire.addFilter(_WIRE_FILTER)


quiet_sdk_loggers()

# The template sets POWERTOOLS_SERVICE_NAME; without it (a test or script importing this first)
# the logger would be "service_undefined" for the whole process, not the "responsegap" one.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or NAMESPACE

logger: Logger = Logger(service=SERVICE)
# botocore only at init; requests when it is first imported (see _patch_when_imported).
tracer: Tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics: Metrics = Metrics(namespace=NAMESPACE)


def _patch_when_imported(module: str) -> None:
    """Trace ``module`` without importing it: patched now if loaded, else on its first import."""
    if tracer.disabled:  # outside Lambda (tests, local runs): Tracer.patch would do nothing
        return
    import wrapt  # the X-Ray SDK's own dependency, already loaded by Tracer()

    wrapt.register_post_import_hook(lambda _module: tracer.patch([module]), module)


_patch_when_imported("requests")
# Powertools' Logger() leaves other loggers alone today; pin again in case a version does not.
quiet_sdk_loggers()

# Metric names are part of the dashboard (infra/dashboard.json): keep them in one place.
POSTS_INGESTED = "PostsIngested"
REPLIES_MATCHED = "RepliesMatched"
POLLS_FAILED = "PollsFailed"
# A poll the platform refused because the profile's own account is suspended or not found.
ACCOUNTS_UNAVAILABLE = "AccountsUnavailable"
RATE_LIMITED = "RateLimited"
UNANSWERED_OVER_SLA = "UnansweredOverSla"
PROFILES_DISPATCHED = "ProfilesDispatched"
REPORTS_SENT = "ReportsSent"
REPORT_JOBS_QUEUED = "ReportJobsQueued"
RECHECKS_DISPATCHED = "RechecksDispatched"
# Overdue-post alerts (docs/alerts.md).
ALERTS_SENT = "AlertsSent"
ANSWERED_AFTER_ALERT = "AnsweredAfterAlert"
OVERDUE_TO_ALERT_SECONDS = "OverdueToAlertSeconds"
ALERT_DELIVERIES_FAILED = "AlertDeliveriesFailed"
ALERT_TARGETS_FAILING = "AlertTargetsFailing"

__all__ = [
    "ACCOUNTS_UNAVAILABLE",
    "NAMESPACE",
    "POLLS_FAILED",
    "POSTS_INGESTED",
    "PROFILES_DISPATCHED",
    "RATE_LIMITED",
    "RECHECKS_DISPATCHED",
    "REPLIES_MATCHED",
    "REPORTS_SENT",
    "REPORT_JOBS_QUEUED",
    "SDK_LOGGERS",
    "UNANSWERED_OVER_SLA",
    "MetricUnit",
    "logger",
    "metrics",
    "quiet_sdk_loggers",
    "tracer",
]
