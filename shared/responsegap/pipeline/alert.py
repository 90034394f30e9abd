"""Alert: after a poll stores what it found, tell the brand's people about overdue posts.

Driven by what poll stores (docs/alerts.md says why): each successful poll of a profile
whose brand has alert targets sends ``AlertJob`` to a FIFO queue grouped by brand, so one
brand's runs never overlap while brands run in parallel. A run:

1. finds each profile's unanswered posts through the sparse ``open_posts`` index (a Query);
2. keeps those that are due (overdue and confirmed by a poll that started after they became
   overdue, or urgent), not held by a quiet period, not yet told to every target;
3. reads the profile's posts since the oldest of them (one Query) and closes, as answered,
   the ones a person has answered (an automated reply does not count);
4. claims each remaining post with a conditional write (a post claimed by a live run is
   skipped; a claim nobody completes lapses after ``claim_seconds``);
5. sends one digest per target: the new alerts and the "answered after the alert" notes;
6. marks each post with the targets that were told (first time: a watch and a history item
   in the same transaction), and gives back the claims of posts nobody could be told about.

If the function dies between 5 and 6, the claims lapse and the next run sends those posts
again: a duplicate alert, never a lost one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from responsegap.alerts.digest import AnsweredNote, DeliveryOutcome, Digest, DigestPost, excerpt, safe_url
from responsegap.config import Settings
from responsegap.domain.alerts import Assessment, assess, is_due, is_quiet, quiet_ends_at, was_held
from responsegap.domain.matching import match
from responsegap.domain.model import Brand, Post, Profile
from responsegap.pipeline.common import require
from responsegap.pipeline.events import AlertJob
from responsegap.pipeline.observability import (
    ALERT_DELIVERIES_FAILED,
    ALERT_TARGETS_FAILING,
    ALERTS_SENT,
    ANSWERED_AFTER_ALERT,
    OVERDUE_TO_ALERT_SECONDS,
    MetricUnit,
    logger,
    metrics,
    tracer,
)

FAILING_STREAK = 3  # consecutive failed deliveries after which a target counts as failing
# An alerted post is checked for a human answer among the posts stored since the previous run
# (less this margin, for replies stored late); older threads are recheck's to close.
WATCH_LOOKBACK_SECONDS = 3600
NEVER = 2**31 - 1


class AlertTrigger:
    """What poll uses to ask for an alert run of a brand (FIFO queue, grouped by brand)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def poll_stored(self, brand_id: str, profile_key: str, sent_at: int, changed_posts: int = -1) -> None:
        job = AlertJob(
            brand_id=brand_id, profile_key=profile_key, sent_at=sent_at, changed_posts=changed_posts
        )
        body = job.to_json()
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageGroupId=brand_id,
            # A poll redelivered within SQS's five-minute window sends the same body: one message.
            MessageDeduplicationId=hashlib.sha256(body.encode("utf-8")).hexdigest()[:64],
        )


@dataclass
class AlertDeps:
    store: Any  # PostStore: get_brand, load_state, posts_between, close_open
    alerts: Any  # store.alert_records.AlertStore
    deliverer: Any  # alerts.delivery.Deliverer: deliver(target, digest) -> DeliveryOutcome
    claim_seconds: int = 300
    clock: Callable[[], float] = field(default=time.time)
    # A brand's configuration is read again after this many seconds (a warm container runs
    # a brand every poll round; a changed target or rule applies within a minute).
    brand_max_age: float = 60.0
    _brands: dict[str, tuple[float, Brand]] = field(default_factory=dict, repr=False)

    def brand(self, brand_id: str) -> Brand:
        """The brand's configuration, cached ``brand_max_age`` seconds of wall time."""
        seen = self._brands.get(brand_id)
        if seen is not None and time.monotonic() - seen[0] < self.brand_max_age:
            return seen[1]
        brand = self.store.get_brand(brand_id)
        self._brands[brand_id] = (time.monotonic(), brand)
        return brand

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: Any = None, sns: Any = None, ssm: Any = None
    ) -> AlertDeps:
        import boto3

        from responsegap.alerts.delivery import Deliverer, WebhookUrls
        from responsegap.store.alert_records import AlertStore
        from responsegap.store.dynamo import PostStore

        store = PostStore(
            settings.table_name, dynamodb or boto3.client("dynamodb"), retention_days=settings.retention_days
        )
        urls = WebhookUrls(settings.credentials_path, allow_local=settings.allow_local_endpoints, ssm=ssm)
        return cls(
            store=store,
            alerts=AlertStore(store, reply_window_seconds=settings.reply_window_hours * 3600),
            deliverer=Deliverer(
                urls=urls, sns=sns, topic_arn=require(settings.alert_topic_arn, "ALERT_TOPIC_ARN")
            ),
            claim_seconds=settings.alert_claim_seconds,
        )


@dataclass
class AlertRunSummary:
    brand_id: str
    skipped: str = ""
    open_seen: int = 0
    due: int = 0
    held: int = 0
    answered_before_alert: int = 0
    claimed: int = 0
    alerted: int = 0
    answered_after_alert: int = 0
    notes_sent: int = 0
    released: int = 0
    notes_pending: int = 0
    results: dict[str, bool] = field(default_factory=dict)  # target -> delivered this run
    latencies: list[int] = field(default_factory=list)  # due -> alert, seconds, of posts not held
    deliveries: list[DeliveryOutcome] = field(default_factory=list)
    failing_targets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("deliveries", "latencies", "results")}
        out["deliveries"] = [
            {"target": d.target, "kind": d.kind, "ok": d.ok, "attempts": d.attempts, "detail": d.detail}
            for d in self.deliveries
        ]
        return out


@dataclass(frozen=True, slots=True)
class _Claimed:
    profile: Profile
    post: Post
    sent_to: frozenset[str]
    first_alert: bool
    assessment: Assessment
    held: bool


def process_alert_batch(event: dict[str, Any], context: LambdaContext, deps: AlertDeps) -> dict[str, Any]:
    """The alert queue's batch (FIFO: one brand's messages in order, never two at once)."""
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    started: dict[str, int] = {}  # brand -> start of its run in this invocation

    def handle(record: SQSRecord) -> None:
        logger.set_correlation_id(record.message_id)
        job = AlertJob.from_json(record.body)
        logger.append_keys(brand_id=job.brand_id)
        if started.get(job.brand_id, -1) > job.sent_at:
            return  # a run of this batch started after the poll stored: it saw everything
        now = int(deps.clock())
        try:
            brand = deps.brand(job.brand_id)
        except LookupError:
            logger.warning("brand no longer exists; alert job dropped")
            return
        if job.changed_posts == 0 and now < deps.alerts.run_state(job.brand_id).next_check_at:
            return  # the poll stored nothing, and no post of the brand can be due yet
        state = deps.alerts.start_run(job.brand_id, now, covers_after=job.sent_at)
        if state is None:
            return  # a run that started after the poll stored (an earlier batch) saw everything
        started[job.brand_id] = now
        run_brand_alerts(brand, deps, now, token=f"{job.brand_id}:{record.message_id}", state=state)

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)


@tracer.capture_method
def run_brand_alerts(
    brand: Brand, deps: AlertDeps, now: int, *, token: str, state: Any = None
) -> AlertRunSummary:
    """One run of the brand's alert step (see the module docstring); safe to repeat or overlap."""
    summary = AlertRunSummary(brand.brand_id)
    alerts = brand.alerts
    if alerts is None or not alerts.targets:
        summary.skipped = "no alert targets"
        return summary
    if state is None:  # called directly, not through the queue
        state = deps.alerts.start_run(brand.brand_id, now)
    watch_since = state.last_run_started_at - WATCH_LOOKBACK_SECONDS
    names = [t.name for t in alerts.targets]
    until = now + deps.claim_seconds
    claimed: list[_Claimed] = []
    next_check = NEVER  # see RunState.next_check_at
    still_open: set[tuple[str, str]] = set()
    answered_now: set[tuple[str, str]] = set()
    for profile in brand.profiles:
        if not profile.enabled:
            continue
        rules = alerts.rules_for(profile.key)
        opened = deps.alerts.open_posts(profile.key)
        summary.open_seen += len(opened)
        if not opened:
            continue
        quiet = is_quiet(now, profile, rules)
        due = []
        confirmed: int | None = None
        for item in opened:
            if set(names) <= item.marks.sent_to:
                continue
            assessment = assess(item.post, profile, rules, alerts.urgent_terms)
            if assessment.due_at > now:
                next_check = min(next_check, assessment.due_at)
                continue
            if confirmed is None:  # read only when some post may be due
                confirmed = deps.store.load_state(profile.key).last_success_at or 0
            if not is_due(assessment, confirmed):
                next_check = now  # due once a poll confirms it: the next poll's job runs
                continue
            if item.marks.claimed_by_other(token, now):
                next_check = min(next_check, item.marks.claim_until)
                continue
            if quiet and not (assessment.urgent_term and alerts.urgent_during_quiet):
                summary.held += 1
                next_check = min(next_check, quiet_ends_at(now, profile, rules))
                continue
            due.append((item, assessment))
        summary.due += len(due)
        relevant = {i.post.post_id: i.post for i, _ in due}
        watched = {i.post.post_id: i.post for i in opened if i.marks.alerted_at is not None}
        relevant.update(watched)
        # Due posts: any answer since they were made. Alerted ones: answers stored since the
        # last run (recheck reads their whole threads).
        start = min(
            [p.created_at for p in relevant.values() if p.post_id not in watched]
            + [max(watch_since, min((p.created_at for p in watched.values()), default=now))]
        )
        human = _answered_by_a_person(deps, profile.key, brand, list(relevant.values()), start, now)
        for post_id in human:
            deps.store.close_open(profile.key, relevant[post_id], "answered")
            answered_now.add((profile.key, post_id))
        summary.answered_before_alert += sum(1 for i, _ in due if i.post.post_id in human)
        still_open |= {(profile.key, i.post.post_id) for i in opened if i.post.post_id not in human}
        for item, assessment in due:
            if item.post.post_id in human:
                continue
            if deps.alerts.claim(profile.key, item.post, token, now, until, assessment.due_at):
                claimed.append(
                    _Claimed(
                        profile,
                        item.post,
                        item.marks.sent_to,
                        item.marks.alerted_at is None,
                        assessment,
                        was_held(assessment, now, profile, rules),
                    )
                )
    summary.claimed = len(claimed)
    notes = _answered_notes(brand, deps, now, token, until, still_open, answered_now, names, summary)
    failures = dict(state.failures)
    if claimed or notes:
        failures = _deliver(brand, deps, now, token, claimed, notes, failures, summary)
        _mark(brand, deps, now, token, claimed, notes, names, summary)
        if summary.released or summary.notes_pending:
            next_check = now  # the next poll's job retries
        _report(summary)
    deps.alerts.finish_run(brand.brand_id, now, next_check, failures)
    return summary


def _answered_by_a_person(
    deps: AlertDeps, key: str, brand: Brand, posts: Sequence[Post], start: int, now: int
) -> set[str]:
    """Which of ``posts`` have a human first response among the profile's posts of
    ``[start, now]`` (METRICS: overdue means no human response)."""
    if not posts:
        return set()
    known = {p.key: p for p in deps.store.posts_between(key, start, now + 1)}
    for post in posts:
        known.setdefault(post.key, post)
    wanted = {p.post_id for p in posts}
    return {
        outcome.post.post_id
        for outcome in match(known.values(), [brand], as_of=now)
        if outcome.brand_id == brand.brand_id
        and outcome.first_human_response is not None
        and outcome.post.post_id in wanted
    }


def _answered_notes(
    brand: Brand,
    deps: AlertDeps,
    now: int,
    token: str,
    until: int,
    still_open: set[tuple[str, str]],
    answered_now: set[tuple[str, str]],
    names: list[str],
    summary: AlertRunSummary,
) -> list[Any]:
    """Alerted posts a person has since answered, claimed for this run's digests."""
    notes = []
    for watch in deps.alerts.watches(brand.brand_id):
        key = (watch.profile_key, watch.post_id)
        if key in still_open:
            continue
        if watch.answered_found_at is None:
            status = "answered" if key in answered_now else deps.alerts.post_status(*_post_ref(watch))
            if status == "open":
                continue  # the index has not caught up, or its profile is not polled now
            if status != "answered":
                deps.alerts.end_watch(watch, status or "gone")
                continue
            deps.alerts.found_answered(watch, now)
            watch = replace(watch, answered_found_at=now)
            summary.answered_after_alert += 1
        if set(names) <= watch.marks.sent_to:
            deps.alerts.mark_watch_sent(watch, token, [], names)
            continue
        if not watch.marks.claimed_by_other(token, now) and deps.alerts.claim_watch(watch, token, now, until):
            notes.append(watch)
    return notes


def _post_ref(watch: Any) -> tuple[str, int, str]:
    return watch.profile_key, watch.created_at, watch.post_id


def _deliver(
    brand: Brand,
    deps: AlertDeps,
    now: int,
    token: str,
    claimed: list[_Claimed],
    notes: list[Any],
    failures: dict[str, int],
    summary: AlertRunSummary,
) -> dict[str, int]:
    """Send the digests; returns the failed deliveries in a row per target."""
    assert brand.alerts is not None
    profiles = {p.key: p for p in brand.profiles}
    # Urgent first, then the longest wait.
    ordered = sorted(
        claimed, key=lambda c: (c.assessment.urgent_term is None, c.post.created_at, c.post.post_id)
    )
    streaks = dict(failures)
    for target in brand.alerts.targets:
        posts = tuple(_digest_post(c, now) for c in ordered if target.name not in c.sent_to)
        answered = tuple(_note(w, profiles) for w in notes if target.name not in w.marks.sent_to)
        if not posts and not answered:
            continue
        digest = Digest(
            brand_id=brand.brand_id,
            brand_name=brand.name,
            timezone=brand.timezone,
            generated_at=now,
            posts=posts,
            answered=answered,
            digest_id=hashlib.sha256(f"{token}#{target.name}".encode()).hexdigest()[:32],
        )
        outcome = deps.deliverer.deliver(target, digest)
        summary.deliveries.append(outcome)
        summary.results[target.name] = outcome.ok
        streaks[target.name] = 0 if outcome.ok else streaks.get(target.name, 0) + 1
        log = logger.info if outcome.ok else logger.warning
        log(
            "alert digest delivered" if outcome.ok else "alert digest NOT delivered; the next run retries",
            target=target.name,
            target_kind=target.kind,
            posts=len(posts),
            answered_notes=len(answered),
            attempts=outcome.attempts,
            detail=outcome.detail,
            failures_in_a_row=streaks[target.name],
        )
    streaks = {
        name: count for name, count in streaks.items() if name in {t.name for t in brand.alerts.targets}
    }
    summary.failing_targets = sorted(name for name, count in streaks.items() if count >= FAILING_STREAK)
    return streaks


def _digest_post(claimed: _Claimed, now: int) -> DigestPost:
    post, profile = claimed.post, claimed.profile
    return DigestPost(
        profile_key=profile.key,
        platform=profile.platform,
        handle=profile.handle,
        post_id=post.post_id,
        url=safe_url(post.url),
        created_at=post.created_at,
        waited_seconds=max(0, now - post.created_at),
        out_of_hours=claimed.assessment.out_of_hours,
        excerpt=excerpt(post.text),
        urgent_term=claimed.assessment.urgent_term,
        held=claimed.held,
    )


def _note(watch: Any, profiles: dict[str, Profile]) -> AnsweredNote:
    platform, _, handle = watch.profile_key.partition("#")
    return AnsweredNote(
        profile_key=watch.profile_key,
        platform=platform,
        handle=handle,
        post_id=watch.post_id,
        url=safe_url(watch.url),
        alerted_at=watch.alerted_at,
        answered_found_at=watch.answered_found_at or 0,
    )


def _mark(
    brand: Brand,
    deps: AlertDeps,
    now: int,
    token: str,
    claimed: list[_Claimed],
    notes: list[Any],
    names: list[str],
    summary: AlertRunSummary,
) -> None:
    from responsegap.store.alert_records import FirstAlert

    results = summary.results
    for item in claimed:
        told = [name for name in names if results.get(name) and name not in item.sent_to]
        if not told:
            # Nobody was told: the post stays not alerted, and the next run tries again.
            deps.alerts.release(item.profile.key, item.post, token)
            summary.released += 1
            continue
        first = None
        if item.first_alert:
            a = item.assessment
            first = FirstAlert(
                brand.brand_id,
                item.profile.key,
                a.overdue_at,
                a.due_at,
                a.out_of_hours,
                a.urgent_term,
                item.held,
            )
        deps.alerts.mark_sent(item.profile.key, item.post, token, told, now, first)
        if first is not None:
            summary.alerted += 1
            if not item.held:
                summary.latencies.append(max(0, now - item.assessment.due_at))
    for watch in notes:
        told = [name for name in names if results.get(name) and name not in watch.marks.sent_to]
        deps.alerts.mark_watch_sent(watch, token, told, names)
        summary.notes_sent += bool(told)
        summary.notes_pending += not set(names) <= set(watch.marks.sent_to) | set(told)


def _report(summary: AlertRunSummary) -> None:
    metrics.add_metric(name=ALERTS_SENT, unit=MetricUnit.Count, value=summary.alerted)
    metrics.add_metric(name=ANSWERED_AFTER_ALERT, unit=MetricUnit.Count, value=summary.answered_after_alert)
    for seconds in summary.latencies[:100]:  # EMF keeps up to 100 values per metric and record
        metrics.add_metric(name=OVERDUE_TO_ALERT_SECONDS, unit=MetricUnit.Seconds, value=seconds)
    failed = sum(1 for d in summary.deliveries if not d.ok)
    metrics.add_metric(name=ALERT_DELIVERIES_FAILED, unit=MetricUnit.Count, value=failed)
    metrics.add_metric(name=ALERT_TARGETS_FAILING, unit=MetricUnit.Count, value=len(summary.failing_targets))
    logger.info("alert run done", **summary.as_dict())
