"""Dispatch: every scheduler tick, one poll message per profile that is due.

A profile is claimed by moving its directory slot (``next_poll_at``) forward with a
condition on the old value; only the dispatcher whose update wins sends the message. So a
retried or overlapping dispatch in the same round sends nothing twice, and no profile is
skipped: a send that fails after its retries hands the slot back for the next round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from responsegap.config import Settings
from responsegap.pipeline.common import make_store, require
from responsegap.pipeline.events import ProfileJob, ScheduledRun
from responsegap.pipeline.observability import PROFILES_DISPATCHED, MetricUnit, logger, metrics, tracer
from responsegap.pipeline.ports import StorePort
from responsegap.pipeline.queues import Outgoing, QueueSender


@dataclass(frozen=True, slots=True)
class DispatchSummary:
    due: int
    claimed: int
    sent: int
    failed: int

    def as_dict(self) -> dict[str, int]:
        return {"due": self.due, "claimed": self.claimed, "sent": self.sent, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class DispatchDeps:
    store: StorePort
    poll_queue: QueueSender

    @classmethod
    def from_settings(cls, settings: Settings, *, dynamodb: Any = None, sqs: Any = None) -> DispatchDeps:
        import boto3

        return cls(
            store=make_store(settings, dynamodb),
            poll_queue=QueueSender(
                sqs or boto3.client("sqs"), require(settings.poll_queue_url, "POLL_QUEUE_URL")
            ),
        )


@tracer.capture_method
def dispatch_due_profiles(run: ScheduledRun, deps: DispatchDeps) -> DispatchSummary:
    now = run.scheduled_time
    due = [entry for entry in deps.store.due_profiles(now) if entry.enabled]
    claimed: list[tuple[Any, int]] = []
    for entry in due:
        next_poll_at = now + int(entry.poll_interval_seconds)
        if deps.store.mark_dispatched(entry.profile_key, next_poll_at, entry.next_poll_at):
            claimed.append((entry, next_poll_at))
        else:
            # Another dispatch (a retry of this round, or an overlapping one) got it first.
            logger.debug("profile already dispatched", profile_key=entry.profile_key)
    messages = [
        Outgoing(
            ProfileJob(
                profile_key=entry.profile_key,
                brand_id=entry.brand_id,
                kind="poll",
                next_poll_at=next_poll_at,
                dispatched_at=now,
            ).to_json()
        )
        for entry, next_poll_at in claimed
    ]
    failed = deps.poll_queue.send_all(messages)
    for index in failed:
        entry, next_poll_at = claimed[index]
        # Give the slot back so the next round picks the profile up again.
        deps.store.mark_dispatched(entry.profile_key, entry.next_poll_at, next_poll_at)
        logger.error(
            "poll message not sent; profile handed back to the next round", profile_key=entry.profile_key
        )
    summary = DispatchSummary(
        due=len(due), claimed=len(claimed), sent=len(claimed) - len(failed), failed=len(failed)
    )
    metrics.add_metric(name=PROFILES_DISPATCHED, unit=MetricUnit.Count, value=summary.sent)
    logger.info("dispatch round done", scheduled_time=now, attempt=run.attempt, **summary.as_dict())
    return summary
