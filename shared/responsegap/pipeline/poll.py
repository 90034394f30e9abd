"""Poll: one profile per queue message, stored idempotently, cursor advanced last.

Order matters for at-least-once delivery: posts are written (conditional writes, so a
re-delivery writes nothing twice), THEN the cursor moves with a condition on its version.
A crash in between leaves the old cursor; the retry fetches the same posts again and the
store skips them. A rate limit never fails the message: it is re-sent with a delay (or,
beyond what SQS can delay, the profile's directory slot moves to the retry time).

An account the platform calls suspended or not found (:class:`AccountUnavailable`) fails the
poll without failing the message: every retry would get the same answer, so retrying would
only walk the message into the dead-letter queue, where a redrive fails again and the alarm
says "poll failed" instead of what happened. The poll is counted in ``PollsFailed`` and
``AccountsUnavailable`` (its own alarm), logged as an error naming the profile, and recorded
as ``account_unavailable`` in the poll log, which the weekly report's data completeness shows.
The cursor stays where it was and dispatch keeps sending the profile at its interval, so the
first poll after the account is back reads everything since the last good one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.config import Settings
from responsegap.connectors.base import AccountUnavailable, RateLimited
from responsegap.domain.model import BrandAccount
from responsegap.domain.periods import iso
from responsegap.pipeline.budget_gate import reserve_poll
from responsegap.pipeline.common import (
    BrandAccountCache,
    ConnectorFactory,
    connector_factory,
    make_store,
    open_post_ids,
    require,
    resolve_profile,
)
from responsegap.pipeline.events import ProfileJob
from responsegap.pipeline.observability import (
    ACCOUNTS_UNAVAILABLE,
    POLLS_FAILED,
    POSTS_INGESTED,
    RATE_LIMITED,
    MetricUnit,
    logger,
    metrics,
    tracer,
)
from responsegap.pipeline.ports import StorePort
from responsegap.pipeline.queues import MAX_DELAY_SECONDS, QueueSender

DEFAULT_RECHECK_REQUEST_CAP = 20


@dataclass
class PollDeps:
    store: StorePort
    poll_queue: QueueSender
    connector_for: ConnectorFactory
    reply_window_seconds: int = 72 * 3600
    recheck_request_cap: int = DEFAULT_RECHECK_REQUEST_CAP
    clock: Callable[[], float] = field(default=time.time)
    accounts: BrandAccountCache | None = None
    alert_trigger: Any = None  # pipeline.alert.AlertTrigger, when the stack has an alert queue
    spend: Any = None  # store.spend.SpendLedger: polls reserve their requests from it first

    def brand_accounts(self) -> list[BrandAccount]:
        """Every brand's accounts (cached per container; see BrandAccountCache)."""
        if self.accounts is None:
            self.accounts = BrandAccountCache(self.store)
        return self.accounts.get()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: Any = None, sqs: Any = None, ssm: Any = None
    ) -> PollDeps:
        import boto3

        from responsegap.connectors.credentials import CredentialStore

        credentials = CredentialStore(settings.credentials_path, max_age=300)
        alert_trigger = None
        if settings.alert_queue_url:
            from responsegap.pipeline.alert import AlertTrigger

            alert_trigger = AlertTrigger(sqs or boto3.client("sqs"), settings.alert_queue_url)
        return cls(
            store=make_store(settings, dynamodb),
            poll_queue=QueueSender(
                sqs or boto3.client("sqs"), require(settings.poll_queue_url, "POLL_QUEUE_URL")
            ),
            connector_for=connector_factory(settings, credentials),
            reply_window_seconds=settings.reply_window_hours * 3600,
            alert_trigger=alert_trigger,
            spend=_spend_record(settings, dynamodb),
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    outcome: str  # ok | rate_limited | skipped | account_unavailable
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    cursor_advanced: bool = False
    retry_at: int | None = None


def process_batch(event: dict[str, Any], context: LambdaContext, deps: PollDeps) -> dict[str, Any]:
    """The poll queue's batch: each record on its own; failed ones reported back to SQS."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle(record: SQSRecord) -> None:
        # The message id is the correlation id: it ties every log line of one poll together
        # and to the SQS console / DLQ entry.
        logger.set_correlation_id(record.message_id)
        job = ProfileJob.from_json(record.body)
        logger.append_keys(profile_key=job.profile_key, job_kind=job.kind)
        now = int(deps.clock())
        if job.kind == "recheck":
            from responsegap.pipeline.recheck import recheck_profile

            recheck_profile(job, deps, now)
        else:
            poll_profile(job, deps, now)

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


@tracer.capture_method
def poll_profile(job: ProfileJob, deps: PollDeps, now: int) -> PollOutcome:
    resolved = resolve_profile(deps.store, job.brand_id, job.profile_key)
    if resolved is None:
        return PollOutcome("skipped")
    brand, profile = resolved
    key = profile.key
    state = deps.store.load_state(key)
    if state.retry_at and state.retry_at > now:
        return defer(job, deps, state.retry_at, now, profile.poll_interval_seconds, "platform asked to wait")
    budget_retry_at = reserve_poll(deps.spend, profile, now)
    if budget_retry_at is not None:
        return defer(
            job, deps, budget_retry_at, now, profile.poll_interval_seconds, "credential budget spent"
        )

    try:
        connector = deps.connector_for(profile)
        result = connector.fetch(dict(state.cursor or {}))
    except RateLimited as limited:
        deps.store.set_retry_at(key, limited.retry_at)
        return defer(job, deps, limited.retry_at, now, profile.poll_interval_seconds, str(limited))
    except AccountUnavailable as unavailable:
        return _account_unavailable(deps, key, now, unavailable)
    except Exception as error:
        _record_failure(deps, key, now, error)
        raise

    try:
        opened = open_post_ids(result.posts, brand, now, deps.reply_window_seconds, deps.brand_accounts())
        saved = deps.store.save_posts(key, result.posts, open_post_ids=opened)
        # Only now may the cursor move: everything it covers is stored.
        advanced = deps.store.save_cursor(key, dict(result.cursor), state.version)
        if not advanced:
            # A concurrent poll (duplicate delivery) moved it first; our writes were idempotent.
            logger.warning("cursor already moved by another poll", expected_version=state.version)
        if state.retry_at:
            deps.store.set_retry_at(key, None)  # the platform let us in again
        deps.store.record_poll(key, now, "ok", posts=saved.new, detail=f"{len(result.posts)} fetched")
    except Exception as error:
        _record_failure(deps, key, now, error)
        raise
    metrics.add_metric(name=POSTS_INGESTED, unit=MetricUnit.Count, value=saved.new)
    ask_for_alerts(deps, brand, key, saved.new + saved.updated)
    logger.info(
        "poll stored",
        fetched=len(result.posts),
        new=saved.new,
        updated=saved.updated,
        duplicates=saved.duplicates,
        opened=len(opened),
        cursor_advanced=advanced,
    )
    return PollOutcome("ok", saved.new, saved.updated, saved.duplicates, advanced)


def ask_for_alerts(deps: PollDeps, brand: Any, key: str, changed: int) -> None:
    """After the posts are stored: the brand's alert step decides whether anything is overdue.

    Never fails the poll: a lost trigger only delays alerts to the next poll of the brand.
    """
    alerts = getattr(brand, "alerts", None)
    if deps.alert_trigger is None or alerts is None or not alerts.targets:
        return
    try:
        deps.alert_trigger.poll_stored(brand.brand_id, key, int(deps.clock()), changed)
    except Exception as error:
        logger.warning(
            "could not ask for an alert run; the next poll asks again", error_type=type(error).__name__
        )


def defer(
    job: ProfileJob, deps: PollDeps, retry_at: int, now: int, interval: int, reason: str
) -> PollOutcome:
    """Come back at ``retry_at`` without failing the message and without losing the profile."""
    wait = max(1, retry_at - now)
    metrics.add_metric(name=RATE_LIMITED, unit=MetricUnit.Count, value=1)
    deps.store.record_poll(
        job.profile_key, now, "rate_limited", detail=f"retry at {iso(retry_at)}: {reason}"[:500]
    )
    if wait <= MAX_DELAY_SECONDS:
        # The delayed copy is the next poll; move the directory slot past it so dispatch does
        # not send a second one meanwhile (conditional: only if dispatch has not moved it).
        if job.next_poll_at:
            deps.store.mark_dispatched(job.profile_key, retry_at + interval, job.next_poll_at)
        deps.poll_queue.send(
            replace(job, delays=job.delays + 1, next_poll_at=retry_at + interval).to_json(), wait
        )
        logger.info("rate limited; message re-sent with a delay", delay_seconds=wait, retry_at=retry_at)
    else:
        # Longer than SQS can delay: retry_at is stored, and the slot moves to it so dispatch
        # sends the profile again when it is due. Without a slot to move (a hand-sent
        # message), keep the message alive with the longest delay instead.
        moved = bool(job.next_poll_at) and deps.store.mark_dispatched(
            job.profile_key, retry_at, job.next_poll_at
        )
        if not moved:
            deps.poll_queue.send(
                replace(job, delays=job.delays + 1, next_poll_at=0).to_json(), MAX_DELAY_SECONDS
            )
        logger.info("rate limited; profile deferred", retry_at=retry_at, slot_moved=moved)
    return PollOutcome("rate_limited", retry_at=retry_at)


def _spend_record(settings: Settings, dynamodb: Any) -> Any:
    import boto3

    from responsegap.store.dynamo import PostStore
    from responsegap.store.spend import SpendRecord

    return SpendRecord(PostStore(settings.table_name, dynamodb or boto3.client("dynamodb")))


def _record_failure(deps: PollDeps, key: str, now: int, error: Exception) -> None:
    metrics.add_metric(name=POLLS_FAILED, unit=MetricUnit.Count, value=1)
    logger.exception("poll failed; SQS will retry the message", error_type=type(error).__name__)
    try:
        deps.store.record_poll(key, now, "failed", detail=f"{type(error).__name__}: {error}"[:500])
    except Exception:  # the store may be what failed; the log line above is enough then
        logger.warning("could not record the failed poll")


def _account_unavailable(deps: PollDeps, key: str, now: int, error: AccountUnavailable) -> PollOutcome:
    """Record a poll the platform refused for the profile's own account; settle the message.

    If the store cannot take the record, that error propagates and SQS retries the message:
    a store fault passes, and the record must not be lost.
    """
    metrics.add_metric(name=POLLS_FAILED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=ACCOUNTS_UNAVAILABLE, unit=MetricUnit.Count, value=1)
    logger.error(
        "account unavailable; poll recorded as failed and not retried",
        account_id=error.account_id,
        reason=error.reason[:300],
    )
    deps.store.record_poll(key, now, "account_unavailable", detail=str(error)[:500])
    return PollOutcome("account_unavailable")
