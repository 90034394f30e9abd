"""Sending to SQS: batches of ten, failed entries retried with jittered backoff.

``SendMessageBatch`` can succeed as a call and still fail some entries (throttling, an
internal error); those are resent, and whatever still fails after the last attempt is
returned so the caller can undo what it promised (dispatch rolls the profile's slot back).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_BATCH = 10
MAX_DELAY_SECONDS = 900  # the most SQS can hold a message back


@dataclass(frozen=True, slots=True)
class Outgoing:
    body: str
    delay_seconds: int = 0


class QueueSender:
    def __init__(
        self,
        client: Any,
        queue_url: str,
        *,
        max_attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not queue_url:
            raise ValueError("queue_url is empty: is POLL_QUEUE_URL / REPORT_QUEUE_URL set?")
        self.client = client
        self.queue_url = queue_url
        self.max_attempts = max_attempts
        self.sleep = sleep

    def send(self, body: str, delay_seconds: int = 0) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)),
        )

    def send_all(self, messages: Sequence[Outgoing]) -> list[int]:
        """Send every message; return the indexes of those that could not be sent."""
        failed: list[int] = []
        for start in range(0, len(messages), MAX_BATCH):
            failed.extend(
                self._send_batch(messages, list(range(start, min(start + MAX_BATCH, len(messages)))))
            )
        return failed

    def _send_batch(self, messages: Sequence[Outgoing], indexes: list[int]) -> list[int]:
        pending = indexes
        for attempt in range(1, self.max_attempts + 1):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": messages[i].body,
                    "DelaySeconds": max(0, min(messages[i].delay_seconds, MAX_DELAY_SECONDS)),
                }
                for i in pending
            ]
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failures = response.get("Failed", [])
            # A sender fault (bad body) will fail the same way again: do not retry it.
            pending = [int(f["Id"]) for f in failures if not f.get("SenderFault")]
            permanent = [int(f["Id"]) for f in failures if f.get("SenderFault")]
            if not pending:
                return permanent
            if attempt < self.max_attempts:
                self.sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter
            else:
                return permanent + pending
        return pending
