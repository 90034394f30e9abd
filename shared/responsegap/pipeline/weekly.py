"""Weekly reports: an hourly dispatch finds brands at their local report hour; a worker
composes, archives and emails each brand's week exactly once.

Exactly once: the worker's unit of work is wrapped in Powertools idempotency, keyed on
(kind, brand, week) and persisted in the stack's table (``pk``/``sk``, partition
``IDEMPOTENCY#report``). A redelivered job, a second dispatch in a repeated local hour (DST
fall-back) or a catch-up hour returns the stored result instead of sending again. Inside the
unit, the email is the LAST step: archive and snapshot writes are overwrites and may repeat;
a failure before the send deletes the in-progress record and the retry starts over.

Leaders' roll-up: a separate ``rollup`` job, sent by the same hourly dispatch at a fixed UTC
slot (default Tuesday 06:00 UTC, when the Monday reports of every timezone are out). It
composes each brand's week again from the table (read-only) and sends one email, also
idempotent per week. No coordination between brand jobs is needed: simple, and a brand whose
report failed still appears in the roll-up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.domain.business_hours import local_weekday_hour
from responsegap.domain.model import Brand
from responsegap.domain.periods import previous_week, week_of
from responsegap.pipeline.common import make_store, require
from responsegap.pipeline.events import ReportJob, ScheduledRun
from responsegap.pipeline.observability import (
    REPORT_JOBS_QUEUED,
    REPORTS_SENT,
    MetricUnit,
    logger,
    metrics,
    tracer,
)
from responsegap.pipeline.queues import Outgoing, QueueSender

IDEMPOTENCY_PK = "IDEMPOTENCY#report"
# Long enough that a retry from the DLQ days later still finds the record; TTL (expires_at)
# removes it afterwards.
IDEMPOTENCY_SECONDS = 35 * 86400
# A report hour skipped by a DST spring-forward is caught in the next hour; the repeat in an
# ordinary week is absorbed by idempotency.
CATCH_UP_HOURS = 2
ROLLUP_WEEKDAY = int(os.environ.get("ROLLUP_WEEKDAY", "1"))  # Tuesday
ROLLUP_HOUR_UTC = int(os.environ.get("ROLLUP_HOUR_UTC", "6"))


def report_persistence(table_name: str, client: Any = None) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=IDEMPOTENCY_PK,
        expiry_attr="expires_at",  # the table's TTL attribute
        boto3_client=client,
    )


@dataclass
class ReportDeps:
    store: Any  # PostStore: get_brand, list_brands, put_snapshot, posts_between, ...
    persistence: BasePersistenceLayer
    mailer: Any  # report.mailer.SesMailer: send(message, sender, recipients)
    archive: Any  # report.archive.ReportArchive: put(brand_id, week, files)
    sender: str
    leaders: tuple[str, ...] = ()
    compose: Callable[..., Any] | None = None
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: Any = None, ses: Any = None, s3: Any = None
    ) -> ReportDeps:
        import boto3

        from responsegap.report.archive import ReportArchive
        from responsegap.report.mailer import SesMailer

        dynamodb = dynamodb or boto3.client("dynamodb")
        return cls(
            store=make_store(settings, dynamodb),
            persistence=report_persistence(settings.table_name, dynamodb),
            mailer=SesMailer(ses),
            archive=ReportArchive(require(settings.archive_bucket, "ARCHIVE_BUCKET"), s3),
            sender=require(settings.sender, "SENDER_EMAIL"),
            leaders=settings.leaders,
        )


# ------------------------------------------------------------------------------ dispatch


def due_report_jobs(brands: Sequence[Brand], now: int, *, leaders: bool) -> list[ReportJob]:
    """Brands whose local clock is at their report weekday and hour: the week just ended."""
    jobs = []
    for brand in brands:
        weekday, hour = local_weekday_hour(now, brand.timezone)
        if weekday == brand.report_weekday and 0 <= hour - brand.report_hour < CATCH_UP_HOURS:
            week = previous_week(week_of(now, brand.timezone))
            jobs.append(ReportJob(week=week, as_of=now, kind="brand", brand_id=brand.brand_id))
    weekday, hour = local_weekday_hour(now, "UTC")
    if leaders and weekday == ROLLUP_WEEKDAY and hour == ROLLUP_HOUR_UTC:
        jobs.append(ReportJob(week=previous_week(week_of(now, "UTC")), as_of=now, kind="rollup"))
    return jobs


@dataclass(frozen=True, slots=True)
class ReportDispatchDeps:
    store: Any  # PostStore: list_brands
    report_queue: QueueSender
    leaders: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: Any = None, sqs: Any = None
    ) -> ReportDispatchDeps:
        import boto3

        return cls(
            store=make_store(settings, dynamodb),
            report_queue=QueueSender(
                sqs or boto3.client("sqs"), require(settings.report_queue_url, "REPORT_QUEUE_URL")
            ),
            leaders=settings.leaders,
        )


@tracer.capture_method
def dispatch_reports(run: ScheduledRun, deps: ReportDispatchDeps) -> dict[str, int]:
    jobs = due_report_jobs(deps.store.list_brands(), run.scheduled_time, leaders=bool(deps.leaders))
    failed = deps.report_queue.send_all([Outgoing(job.to_json()) for job in jobs])
    if failed:
        # Raising makes Scheduler retry the run; jobs already sent are absorbed by idempotency.
        raise RuntimeError(f"{len(failed)} report jobs could not be queued")
    metrics.add_metric(name=REPORT_JOBS_QUEUED, unit=MetricUnit.Count, value=len(jobs))
    logger.info("report jobs queued", jobs=len(jobs), weeks=sorted({j.week for j in jobs}))
    return {"jobs": len(jobs)}


# ------------------------------------------------------------------------------ worker


def process_report_batch(event: dict[str, Any], context: LambdaContext, deps: ReportDeps) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle(record: SQSRecord) -> dict[str, Any]:
        logger.set_correlation_id(record.message_id)
        return send_weekly_report(ReportJob.from_json(record.body), deps, context)

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


def send_weekly_report(
    job: ReportJob, deps: ReportDeps, context: LambdaContext | None = None
) -> dict[str, Any]:
    """Run the job once per (kind, brand, week), whatever the number of deliveries."""
    config = IdempotencyConfig(
        event_key_jmespath="[kind, brand_id, week]",
        expires_after_seconds=IDEMPOTENCY_SECONDS,
        raise_on_no_idempotency_key=True,
    )
    if context is not None:
        config.register_lambda_context(context)  # in-progress records expire with the invocation

    def unit(job: dict[str, Any]) -> dict[str, Any]:
        parsed = ReportJob(week=job["week"], as_of=job["as_of"], kind=job["kind"], brand_id=job["brand_id"])
        return _rollup(parsed, deps) if parsed.kind == "rollup" else _brand_report(parsed, deps)

    # The wrapped function's name is part of the idempotency key: keep it stable.
    unit.__name__ = unit.__qualname__ = "send_weekly_report"
    guarded = idempotent_function(
        data_keyword_argument="job", persistence_store=deps.persistence, config=config
    )(unit)
    payload = {**job.idempotency_data, "as_of": job.as_of or int(deps.clock())}
    result = guarded(job=payload)
    logger.info("report job done", **{k: v for k, v in result.items() if isinstance(v, str | int)})
    return result


def _compose(deps: ReportDeps) -> Callable[..., Any]:
    if deps.compose is not None:
        return deps.compose
    from responsegap.report.compose import compose_weekly_report

    return compose_weekly_report


@tracer.capture_method
def _brand_report(job: ReportJob, deps: ReportDeps) -> dict[str, Any]:
    from responsegap.report.artefacts import build_artefacts, describe
    from responsegap.report.compose import week_figures_snapshot
    from responsegap.report.mime import build_message

    try:
        brand = deps.store.get_brand(job.brand_id)
    except LookupError:
        logger.warning("brand removed before its report", brand_id=job.brand_id)
        return {"status": "skipped", "brand_id": job.brand_id, "week": job.week}
    report = _compose(deps)(deps.store, brand, job.week, job.as_of)
    # Rendered once: the archive and the email carry the same bytes.
    artefacts = build_artefacts(report, archive_location=_archive_location(deps.archive, report))
    deps.archive.put(brand.brand_id, job.week, artefacts.archive_files())
    deps.store.put_snapshot(brand.brand_id, job.week, week_figures_snapshot(report))
    if not brand.recipients:
        logger.warning("brand has no recipients; report archived, not emailed", brand_id=brand.brand_id)
        return {"status": "archived", "brand_id": brand.brand_id, "week": job.week}
    message = build_message(report, deps.sender, list(brand.recipients), artefacts=artefacts)
    logger.info("report email built", brand_id=brand.brand_id, **describe(artefacts))
    deps.mailer.send(message, deps.sender, list(brand.recipients))  # last: nothing after it can fail the unit
    metrics.add_metric(name=REPORTS_SENT, unit=MetricUnit.Count, value=1)
    return {
        "status": "sent",
        "brand_id": brand.brand_id,
        "week": job.week,
        "recipients": len(brand.recipients),
    }


@tracer.capture_method
def _rollup(job: ReportJob, deps: ReportDeps) -> dict[str, Any]:
    from responsegap.report.compose import compose_rollup
    from responsegap.report.mime import build_rollup_message

    if not deps.leaders:
        return {"status": "skipped", "week": job.week}
    compose = _compose(deps)
    brands = deps.store.list_brands()
    if not brands:
        return {"status": "skipped", "week": job.week}
    # A generator: the roll-up keeps what it needs of each brand's week and lets it go.
    rollup = compose_rollup(compose(deps.store, brand, job.week, job.as_of) for brand in brands)
    message = build_rollup_message(rollup, deps.sender, list(deps.leaders))
    deps.mailer.send(message, deps.sender, list(deps.leaders))
    metrics.add_metric(name=REPORTS_SENT, unit=MetricUnit.Count, value=1)
    return {"status": "sent", "week": job.week, "brands": len(rollup.rows), "recipients": len(deps.leaders)}


def archive_files(report: Any, artefacts: Any = None) -> dict[str, bytes | str]:
    """HTML, CSV (always the complete one) and JSON of a brand's week: the bytes the email carries.

    Pass the ``report.artefacts.ReportArtefacts`` already built to avoid rendering again.
    """
    from responsegap.report.artefacts import build_artefacts

    return (artefacts if artefacts is not None else build_artefacts(report)).archive_files()


def _archive_location(archive: Any, report: Any) -> str | None:
    """``s3://bucket/key`` of the complete CSV, as the email names it when it is too big to attach."""
    from responsegap.report.artefacts import attachment_name

    key_of = getattr(archive, "key", None)
    if not callable(key_of):
        return None
    key = key_of(report.brand.brand_id, report.week, attachment_name(report, "csv"))
    bucket = getattr(archive, "bucket", None)
    return f"s3://{bucket}/{key}" if isinstance(bucket, str) and bucket else str(key)
