"""Powertools singletons shared by every handler and pipeline module.

Service name, log level and sampling come from the ``POWERTOOLS_*`` environment variables
the template sets in Globals; the metric namespace is fixed here so dashboards and alarms
can rely on it even when a function is invoked locally without the template's variables.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "responsegap"

logger: Logger = Logger()
tracer: Tracer = Tracer()
metrics: Metrics = Metrics(namespace=NAMESPACE)

# Metric names are part of the dashboard (infra/dashboard.json): keep them in one place.
POSTS_INGESTED = "PostsIngested"
REPLIES_MATCHED = "RepliesMatched"
POLLS_FAILED = "PollsFailed"
RATE_LIMITED = "RateLimited"
UNANSWERED_OVER_SLA = "UnansweredOverSla"
PROFILES_DISPATCHED = "ProfilesDispatched"
REPORTS_SENT = "ReportsSent"
REPORT_JOBS_QUEUED = "ReportJobsQueued"
RECHECKS_DISPATCHED = "RechecksDispatched"

__all__ = [
    "NAMESPACE",
    "POLLS_FAILED",
    "POSTS_INGESTED",
    "PROFILES_DISPATCHED",
    "RATE_LIMITED",
    "RECHECKS_DISPATCHED",
    "REPLIES_MATCHED",
    "REPORTS_SENT",
    "REPORT_JOBS_QUEUED",
    "UNANSWERED_OVER_SLA",
    "MetricUnit",
    "logger",
    "metrics",
    "tracer",
]
