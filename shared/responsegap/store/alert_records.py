"""The alert step's reads and writes of the one table (layout in docs/alerts.md).

Alert marks live on the post item itself, so the claim, the delivery record and the open
marker are judged by one conditional write:

- ``alert_claim`` / ``alert_claim_until``: a run has taken the post for delivery until then;
- ``alert_sent``: the targets that were told (a string set); ``alerted_at``: when the first
  one was, i.e. when the post counts as alerted; ``alert_due_at``: when it became due.

And in the brand's alert partition ``ALERTS#{brand_id}``:

- ``WATCH#{profile_key}#{post sk}``: an alerted post whose human answer is still to be
  reported as "answered after the alert" (deleted once every target was told, or when the
  post expires unanswered);
- ``LOG#{alerted_at:010d}#{profile_key}#{post_id}``: the history of every alert;
- ``STATE``: when the last run started (a trigger sent before it is already covered) and how
  many deliveries in a row failed per target.

Reads are Query or GetItem only. Composed over a :class:`PostStore` (its client, counters
and retention), which keeps its own methods for posts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from responsegap.domain.model import Post
from responsegap.store.dynamo import OPEN_INDEX, PostStore
from responsegap.store.items import (
    POST_PROJECTION_NAMES,
    items_to_posts,
    open_pk,
    post_sk,
    profile_pk,
)

_MARKS = ("alert_claim", "alert_claim_until", "alert_sent", "alerted_at", "alert_due_at")
_OPEN_NAMES = {**POST_PROJECTION_NAMES, **{f"#m{n}": name for n, name in enumerate(_MARKS)}}
_OPEN_PROJECTION = ", ".join(_OPEN_NAMES)


def alerts_pk(brand_id: str) -> str:
    return f"ALERTS#{brand_id}"


@dataclass(frozen=True, slots=True)
class Marks:
    claim: str | None = None
    claim_until: int = 0
    sent_to: frozenset[str] = frozenset()
    alerted_at: int | None = None

    def claimed_by_other(self, token: str, now: int) -> bool:
        return self.claim is not None and self.claim != token and self.claim_until > now


@dataclass(frozen=True, slots=True)
class OpenPost:
    post: Post
    marks: Marks


@dataclass(frozen=True, slots=True)
class Watch:
    """An alerted post waiting for its "answered after the alert" note to be delivered."""

    brand_id: str
    profile_key: str
    post_id: str
    created_at: int
    alerted_at: int
    log_sk: str
    url: str | None = None
    answered_found_at: int | None = None
    marks: Marks = field(default_factory=Marks)

    @property
    def sk(self) -> str:
        return watch_sk(self.profile_key, self.created_at, self.post_id)


@dataclass(frozen=True, slots=True)
class FirstAlert:
    """What the history keeps of a post's first alert."""

    brand_id: str
    profile_key: str
    overdue_at: int
    due_at: int
    out_of_hours: bool
    urgent_term: str | None
    held: bool


@dataclass(frozen=True, slots=True)
class RunState:
    last_run_started_at: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    # The earliest moment a post of the brand can become due without a new post being
    # stored (0: unknown, check). Until then a poll that stored nothing needs no run.
    next_check_at: int = 0


def watch_sk(profile_key: str, created_at: int, post_id: str) -> str:
    return f"WATCH#{profile_key}#{post_sk(created_at, post_id)}"


def log_sk(alerted_at: int, profile_key: str, post_id: str) -> str:
    return f"LOG#{alerted_at:010d}#{profile_key}#{post_id}"


def _marks(item: dict[str, Any]) -> Marks:
    return Marks(
        claim=item["alert_claim"]["S"] if "alert_claim" in item else None,
        claim_until=int(item["alert_claim_until"]["N"]) if "alert_claim_until" in item else 0,
        sent_to=frozenset(item["alert_sent"]["SS"]) if "alert_sent" in item else frozenset(),
        alerted_at=int(item["alerted_at"]["N"]) if "alerted_at" in item else None,
    )


def _run_state(item: dict[str, Any]) -> RunState:
    failures = {k: int(v["N"]) for k, v in item.get("failures", {"M": {}})["M"].items()}
    started = int(item["last_run_started_at"]["N"]) if "last_run_started_at" in item else 0
    next_check = int(item["next_check_at"]["N"]) if "next_check_at" in item else 0
    return RunState(started, failures, next_check)


def _is_conditional(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class AlertStore:
    def __init__(self, posts: PostStore, *, reply_window_seconds: int = 72 * 3600) -> None:
        self.posts = posts
        self.reply_window_seconds = reply_window_seconds

    # ------------------------------------------------------------------ posts
    def open_posts(self, profile_key: str) -> list[OpenPost]:
        """The profile's unanswered posts with their alert marks: one Query of the sparse index."""
        items = list(
            self.posts._query(
                IndexName=OPEN_INDEX,
                KeyConditionExpression="open_pk = :pk",
                ExpressionAttributeValues={":pk": {"S": open_pk(profile_key)}},
                ProjectionExpression=_OPEN_PROJECTION,
                ExpressionAttributeNames=_OPEN_NAMES,
            )
        )
        return [OpenPost(post, _marks(item)) for post, item in zip(items_to_posts(items), items, strict=True)]

    def _post_key(self, profile_key: str, post: Post) -> dict[str, Any]:
        return {"pk": {"S": profile_pk(profile_key)}, "sk": {"S": post_sk(post.created_at, post.post_id)}}

    def claim(self, profile_key: str, post: Post, token: str, now: int, until: int, due_at: int) -> bool:
        """Take an open post for delivery; False when another live run holds it or it was answered.

        A run retried with the same token takes its own claim back; a claim nobody completes
        lapses at ``until`` and the next run may take it.
        """
        return self.posts._conditional(
            "update_item",
            Key=self._post_key(profile_key, post),
            UpdateExpression="SET alert_claim = :t, alert_claim_until = :u, alert_due_at = :d",
            ConditionExpression=(
                "attribute_exists(open_pk) AND (attribute_not_exists(alert_claim_until) "
                "OR alert_claim_until < :now OR alert_claim = :t)"
            ),
            ExpressionAttributeValues={
                ":t": {"S": token},
                ":u": {"N": str(until)},
                ":now": {"N": str(now)},
                ":d": {"N": str(due_at)},
            },
        )

    def release(self, profile_key: str, post: Post, token: str) -> bool:
        """Give a claim back without marking anything (every delivery failed): the next run retries."""
        return self.posts._conditional(
            "update_item",
            Key=self._post_key(profile_key, post),
            UpdateExpression="REMOVE alert_claim, alert_claim_until",
            ConditionExpression="alert_claim = :t",
            ExpressionAttributeValues={":t": {"S": token}},
        )

    def mark_sent(
        self,
        profile_key: str,
        post: Post,
        token: str,
        targets: Sequence[str],
        now: int,
        first: FirstAlert | None,
    ) -> bool:
        """Record that ``targets`` were told and release the claim; the first time, also start the
        post's watch and history (one transaction, so an alerted post always has both).

        Returns False when the claim had been lost (the delivery still happened and is recorded).
        """
        update = {
            "Key": self._post_key(profile_key, post),
            "UpdateExpression": (
                "ADD alert_sent :s SET alerted_at = if_not_exists(alerted_at, :now) "
                "REMOVE alert_claim, alert_claim_until"
            ),
            "ConditionExpression": "alert_claim = :t",
            "ExpressionAttributeValues": {
                ":s": {"SS": sorted(set(targets))},
                ":now": {"N": str(now)},
                ":t": {"S": token},
            },
        }
        table = self.posts.table_name
        try:
            if first is None:
                self.posts._write("update_item", **update)
            else:
                items = self._first_alert_items(profile_key, post, targets, now, first)
                self.posts.client.transact_write_items(
                    TransactItems=[
                        {"Update": {"TableName": table, **update}},
                        *({"Put": {"TableName": table, **item}} for item in items),
                    ]
                )
                self.posts.stats.writes += 1 + len(items)
            return True
        except ClientError as error:
            if not _is_conditional(error):
                raise
        # The claim lapsed while we delivered (a run longer than the lease): keep the record
        # of who was told anyway, so nobody is told again by a later run.
        update.pop("ConditionExpression")
        update["UpdateExpression"] = "ADD alert_sent :s SET alerted_at = if_not_exists(alerted_at, :now)"
        update["ExpressionAttributeValues"].pop(":t")
        self.posts._write("update_item", **update)
        if first is not None:
            for item in self._first_alert_items(profile_key, post, targets, now, first):
                self.posts._conditional("put_item", **item)
        return False

    def _first_alert_items(
        self, profile_key: str, post: Post, targets: Sequence[str], now: int, first: FirstAlert
    ) -> list[dict[str, Any]]:
        pk = {"S": alerts_pk(first.brand_id)}
        history = log_sk(now, profile_key, post.post_id)
        common: dict[str, Any] = {
            "profile_key": {"S": profile_key},
            "post_id": {"S": post.post_id},
            "created_at": {"N": str(post.created_at)},
            "alerted_at": {"N": str(now)},
        }
        if post.url:
            common["url"] = {"S": post.url}
        watch = {
            "pk": pk,
            "sk": {"S": watch_sk(profile_key, post.created_at, post.post_id)},
            **common,
            "log_sk": {"S": history},
            # A post unanswered past the reply window is expired by recheck; the watch goes too.
            "expires_at": {"N": str(post.created_at + self.reply_window_seconds + 86400)},
        }
        log = {
            "pk": pk,
            "sk": {"S": history},
            **common,
            "brand_id": {"S": first.brand_id},
            "overdue_at": {"N": str(first.overdue_at)},
            "due_at": {"N": str(first.due_at)},
            "out_of_hours": {"BOOL": first.out_of_hours},
            "held": {"BOOL": first.held},
            "targets": {"SS": sorted(set(targets))},
            "answered_after_alert": {"BOOL": False},
            "expires_at": {"N": str(now + self.posts.retention_seconds)},
        }
        if first.urgent_term:
            log["urgent_term"] = {"S": first.urgent_term}
        condition = "attribute_not_exists(pk)"
        return [
            {"Item": watch, "ConditionExpression": condition},
            {"Item": log, "ConditionExpression": condition},
        ]

    def post_status(self, profile_key: str, created_at: int, post_id: str) -> str | None:
        """``open``, ``answered``, ``expired``, or None when the post is gone (TTL)."""
        item = self.posts._get(profile_pk(profile_key), post_sk(created_at, post_id))
        if item is None:
            return None
        if "open_pk" in item:
            return "open"
        return item.get("status", {}).get("S")

    # ------------------------------------------------------------------ watches
    def watches(self, brand_id: str) -> list[Watch]:
        out = []
        for item in self.posts._partition(alerts_pk(brand_id), "WATCH#"):
            out.append(
                Watch(
                    brand_id=brand_id,
                    profile_key=item["profile_key"]["S"],
                    post_id=item["post_id"]["S"],
                    created_at=int(item["created_at"]["N"]),
                    alerted_at=int(item["alerted_at"]["N"]),
                    log_sk=item["log_sk"]["S"],
                    url=item["url"]["S"] if "url" in item else None,
                    answered_found_at=int(item["answered_found_at"]["N"])
                    if "answered_found_at" in item
                    else None,
                    marks=_marks(item),
                )
            )
        return out

    def _watch_key(self, watch: Watch) -> dict[str, Any]:
        return {"pk": {"S": alerts_pk(watch.brand_id)}, "sk": {"S": watch.sk}}

    def found_answered(self, watch: Watch, now: int) -> None:
        """A person answered an alerted post: kept in the watch (to report) and the history."""
        self.posts._conditional(
            "update_item",
            Key=self._watch_key(watch),
            UpdateExpression="SET answered_found_at = :now",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(answered_found_at)",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
        self.posts._write(
            "update_item",
            Key={"pk": {"S": alerts_pk(watch.brand_id)}, "sk": {"S": watch.log_sk}},
            UpdateExpression=(
                "SET answered_after_alert = :yes, answered_found_at = if_not_exists(answered_found_at, :now)"
            ),
            ExpressionAttributeValues={":yes": {"BOOL": True}, ":now": {"N": str(now)}},
        )

    def claim_watch(self, watch: Watch, token: str, now: int, until: int) -> bool:
        return self.posts._conditional(
            "update_item",
            Key=self._watch_key(watch),
            UpdateExpression="SET alert_claim = :t, alert_claim_until = :u",
            ConditionExpression=(
                "attribute_exists(pk) AND (attribute_not_exists(alert_claim_until) "
                "OR alert_claim_until < :now OR alert_claim = :t)"
            ),
            ExpressionAttributeValues={":t": {"S": token}, ":u": {"N": str(until)}, ":now": {"N": str(now)}},
        )

    def mark_watch_sent(
        self, watch: Watch, token: str, targets: Sequence[str], all_targets: Iterable[str]
    ) -> None:
        """Record who got the note; the watch ends once every current target has it."""
        told = set(watch.marks.sent_to) | set(targets)
        if told >= set(all_targets):
            self.posts._conditional(
                "delete_item", Key=self._watch_key(watch), ConditionExpression="attribute_exists(pk)"
            )
            return
        if not targets:
            self.posts._conditional(
                "update_item",
                Key=self._watch_key(watch),
                UpdateExpression="REMOVE alert_claim, alert_claim_until",
                ConditionExpression="alert_claim = :t",
                ExpressionAttributeValues={":t": {"S": token}},
            )
            return
        self.posts._conditional(
            "update_item",
            Key=self._watch_key(watch),
            UpdateExpression="ADD alert_sent :s REMOVE alert_claim, alert_claim_until",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":s": {"SS": sorted(set(targets))}},
        )

    def end_watch(self, watch: Watch, reason: str) -> None:
        """The post expired unanswered (or is gone): nothing will be reported about it."""
        self.posts._conditional(
            "delete_item", Key=self._watch_key(watch), ConditionExpression="attribute_exists(pk)"
        )
        self.posts._write(
            "update_item",
            Key={"pk": {"S": alerts_pk(watch.brand_id)}, "sk": {"S": watch.log_sk}},
            UpdateExpression="SET closed = :r",
            ExpressionAttributeValues={":r": {"S": reason}},
        )

    # ------------------------------------------------------------------ run state
    def run_state(self, brand_id: str) -> RunState:
        return _run_state(self.posts._get(alerts_pk(brand_id), "STATE") or {})

    def start_run(self, brand_id: str, now: int, covers_after: int | None = None) -> RunState | None:
        """Record that a run of the brand starts ``now``; returns the state before it.

        With ``covers_after``, only if no run started after that moment (a run that did has
        already seen what the asking poll stored): None then, and nothing is written.
        """
        values: dict[str, Any] = {":now": {"N": str(now)}}
        request: dict[str, Any] = {}
        if covers_after is not None:
            request["ConditionExpression"] = (
                "attribute_not_exists(last_run_started_at) OR last_run_started_at <= :after"
            )
            values[":after"] = {"N": str(covers_after)}
        try:
            response = self.posts._write(
                "update_item",
                Key={"pk": {"S": alerts_pk(brand_id)}, "sk": {"S": "STATE"}},
                UpdateExpression="SET last_run_started_at = :now",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                **request,
            )
        except ClientError as error:
            if _is_conditional(error):
                return None
            raise
        return _run_state(response.get("Attributes") or {})

    def finish_run(
        self, brand_id: str, started_at: int, next_check_at: int, failures: dict[str, int]
    ) -> None:
        """Consecutive failed deliveries per target (0 after a success), and when a run is next
        needed; left alone when a later run has started since (its view is newer)."""
        self.posts._conditional(
            "update_item",
            Key={"pk": {"S": alerts_pk(brand_id)}, "sk": {"S": "STATE"}},
            UpdateExpression="SET failures = :f, next_check_at = :n",
            ConditionExpression="attribute_not_exists(last_run_started_at) OR last_run_started_at <= :s",
            ExpressionAttributeValues={
                ":f": {"M": {k: {"N": str(v)} for k, v in sorted(failures.items())}},
                ":n": {"N": str(next_check_at)},
                ":s": {"N": str(started_at)},
            },
        )

    # ------------------------------------------------------------------ history
    def history(self, brand_id: str, start: int = 0, end: int = 2**31) -> list[dict[str, Any]]:
        """Alerts first sent in ``[start, end)``, oldest first, as plain values: one Query."""
        rows = []
        items = self.posts._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": alerts_pk(brand_id)},
                ":lo": {"S": f"LOG#{max(start, 0):010d}"},
                ":hi": {"S": f"LOG#{max(end - 1, 0):010d}~"},
            },
        )
        for item in items:
            row: dict[str, Any] = {}
            for name, value in item.items():
                if name in ("pk", "sk", "expires_at"):
                    continue
                ((kind, raw),) = value.items()
                row[name] = int(raw) if kind == "N" else sorted(raw) if kind == "SS" else raw
            rows.append(row)
        return rows
