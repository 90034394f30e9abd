"""Recheck: close open posts that got an answer, ask the platform about the rest, expire old ones.

Fan-out goes through the poll queue as ``{"kind": "recheck", ...}`` messages rather than a
queue of its own: a recheck needs exactly what a poll needs (the profile's connector,
credentials and rate-limit state), so it shares the poll function's IAM role, concurrency
and DLQ, and a recheck and a poll of one profile are throttled by the same ``retry_at``.

The scheduled part only lists the directory (one Query) and sends one message per enabled
profile; the worker's first step is the sparse ``open_posts`` GSI Query, which is empty and
cheap for profiles with nothing open, and runs in parallel instead of in one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from responsegap.config import Settings
from responsegap.connectors.base import ConnectorError, RateLimited
from responsegap.domain.matching import match
from responsegap.domain.model import Post
from responsegap.pipeline.common import make_store, open_post_ids, require, resolve_profile
from responsegap.pipeline.events import ProfileJob, ScheduledRun
from responsegap.pipeline.observability import (
    RECHECKS_DISPATCHED,
    REPLIES_MATCHED,
    UNANSWERED_OVER_SLA,
    MetricUnit,
    logger,
    metrics,
    tracer,
)
from responsegap.pipeline.poll import PollDeps, ask_for_alerts
from responsegap.pipeline.ports import StorePort
from responsegap.pipeline.queues import Outgoing, QueueSender


@dataclass(frozen=True, slots=True)
class RecheckSummary:
    open_before: int = 0
    answered: int = 0
    expired: int = 0
    replies_requested: int = 0
    replies_found: int = 0
    still_open: int = 0
    over_sla: int = 0


@dataclass(frozen=True, slots=True)
class RecheckDispatchDeps:
    store: StorePort
    poll_queue: QueueSender

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: Any = None, sqs: Any = None
    ) -> RecheckDispatchDeps:
        import boto3

        return cls(
            store=make_store(settings, dynamodb),
            poll_queue=QueueSender(
                sqs or boto3.client("sqs"), require(settings.poll_queue_url, "POLL_QUEUE_URL")
            ),
        )


@tracer.capture_method
def dispatch_rechecks(run: ScheduledRun, deps: RecheckDispatchDeps) -> dict[str, int]:
    entries = [entry for entry in deps.store.directory() if entry.enabled]
    messages = [
        Outgoing(
            ProfileJob(
                profile_key=entry.profile_key,
                brand_id=entry.brand_id,
                kind="recheck",
                dispatched_at=run.scheduled_time,
            ).to_json()
        )
        for entry in entries
    ]
    # A recheck message that is not sent is simply done by the next run: nothing to undo.
    failed = deps.poll_queue.send_all(messages)
    metrics.add_metric(name=RECHECKS_DISPATCHED, unit=MetricUnit.Count, value=len(entries) - len(failed))
    logger.info("recheck round dispatched", profiles=len(entries), failed=len(failed))
    return {"profiles": len(entries), "sent": len(entries) - len(failed), "failed": len(failed)}


@tracer.capture_method
def recheck_profile(job: ProfileJob, deps: PollDeps, now: int) -> RecheckSummary:
    resolved = resolve_profile(deps.store, job.brand_id, job.profile_key)
    if resolved is None:
        return RecheckSummary()
    brand, profile = resolved
    key = profile.key
    open_posts = {post.post_id: post for post in deps.store.open_posts(key)}
    if not open_posts:
        return RecheckSummary()
    window = deps.reply_window_seconds
    oldest = min(post.created_at for post in open_posts.values())
    # One Query: every post of the profile from the oldest open one to now holds all answers.
    known: dict[tuple[str, str], Post] = {p.key: p for p in deps.store.posts_between(key, oldest, now + 1)}
    for post in open_posts.values():
        known.setdefault(post.key, post)

    answered = _close_answered(deps, key, brand, known, open_posts, now)
    expired = 0
    for post_id, post in sorted(open_posts.items(), key=lambda item: item[1].created_at):
        if now - post.created_at > window:
            deps.store.close_open(key, post, "expired")
            del open_posts[post_id]
            expired += 1

    requested = found = 0
    state = deps.store.load_state(key)
    if open_posts and not (state.retry_at and state.retry_at > now):
        requested, new_posts = _ask_platform(deps, profile, key, open_posts, now)
        if new_posts:
            opened = open_post_ids(new_posts, brand, now, window, deps.brand_accounts())
            saved = deps.store.save_posts(key, new_posts, open_post_ids=opened)
            found = len(new_posts)
            # Posts found in threads only now may be overdue already: the alert step looks.
            ask_for_alerts(deps, brand, key, saved.new + saved.updated)
            for post in new_posts:
                known[post.key] = post
            answered += _close_answered(deps, key, brand, known, open_posts, now)

    over_sla = sum(1 for post in open_posts.values() if now - post.created_at > profile.sla_seconds)
    metrics.add_metric(name=REPLIES_MATCHED, unit=MetricUnit.Count, value=answered)
    metrics.add_metric(name=UNANSWERED_OVER_SLA, unit=MetricUnit.Count, value=over_sla)
    summary = RecheckSummary(
        open_before=len(open_posts) + answered + expired,
        answered=answered,
        expired=expired,
        replies_requested=requested,
        replies_found=found,
        still_open=len(open_posts),
        over_sla=over_sla,
    )
    logger.info("recheck done", **{k: getattr(summary, k) for k in summary.__slots__})
    return summary


def _close_answered(
    deps: PollDeps,
    key: str,
    brand: Any,
    known: dict[tuple[str, str], Post],
    open_posts: dict[str, Post],
    now: int,
) -> int:
    outcomes = match(known.values(), [brand], as_of=now, others=deps.brand_accounts())
    closed = 0
    for outcome in outcomes:
        post_id = outcome.post.post_id
        # Only a person's answer closes a post: after an auto-acknowledgement the customer is
        # still waiting, and its overdue alert must still go out (METRICS "Overdue posts").
        answered = outcome.first_human_response is not None
        if answered and outcome.brand_id == brand.brand_id and post_id in open_posts:
            deps.store.close_open(key, open_posts.pop(post_id), "answered")
            closed += 1
    return closed


def _ask_platform(
    deps: PollDeps, profile: Any, key: str, open_posts: dict[str, Post], now: int
) -> tuple[int, list[Post]]:
    """Replies below the still-open posts, oldest first, at most ``recheck_request_cap`` calls."""
    connector = deps.connector_for(profile)
    requested = 0
    found: list[Post] = []
    for post in sorted(open_posts.values(), key=lambda p: (p.created_at, p.post_id)):
        if requested >= deps.recheck_request_cap:
            break
        requested += 1
        try:
            found.extend(connector.fetch_replies(post).posts)
        except RateLimited as limited:
            # Same throttle as the poll: the next poll or recheck waits for it.
            deps.store.set_retry_at(key, limited.retry_at)
            logger.info("recheck rate limited; rest waits for the next run", retry_at=limited.retry_at)
            break
        except ConnectorError as error:
            # A recheck is best effort: the next run asks again; failing would only retry it now.
            logger.warning("recheck could not fetch replies", error=str(error))
            break
    return requested, found
