"""``PostStore``: every read and write of the one table (layout in docs/architecture.md).

Reads are ``Query`` or ``GetItem`` only, never ``Scan``: the table holds every profile's
posts, and nothing may cost more as other profiles grow. Writes are conditional so that SQS
redelivery and Lambda retries change nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

import boto3
from botocore.exceptions import ClientError

from responsegap.domain.alerts import alerts_from_json, alerts_to_json
from responsegap.domain.corrections import Corrections
from responsegap.domain.model import Brand, BrandAccount, BusinessHours, Post, Profile
from responsegap.store.correction_items import (
    StoredCorrection,
    as_corrections,
    correction_pk,
    correction_sk,
    correction_to_item,
    item_to_correction,
)
from responsegap.store.items import (
    POST_PROJECTION,
    POST_PROJECTION_NAMES,
    Item,
    body_hash,
    content_values,
    items_to_posts,
    open_pk,
    post_sk,
    post_to_item,
    profile_pk,
    sk_lower,
    sk_upper_exclusive,
    stored_form,
    version_rank,
)
from responsegap.store.query_parsing import parse_query_responses_with_json

OPEN_INDEX = "open_posts"
POLL_OUTCOMES = ("ok", "rate_limited", "failed", "skipped", "account_unavailable")
CLOSE_STATUSES = ("answered", "expired")
DIRECTORY_PK = "DIRECTORY"
BATCH_SIZE = 25


class NotFound(LookupError):
    """The brand (or other configured thing) is not in the table."""


class BulkLoadError(RuntimeError):
    """DynamoDB kept refusing part of a batch after every retry."""


class SaveResult(NamedTuple):
    """What one ``save_posts`` call did (a tuple, so ``== (new, updated, duplicates)`` works)."""

    new: int = 0
    updated: int = 0
    duplicates: int = 0


@dataclass(frozen=True, slots=True)
class PollState:
    cursor: dict[str, str]
    version: int
    retry_at: int | None
    last_success_at: int | None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    brand_id: str
    profile_key: str
    poll_interval_seconds: int
    enabled: bool
    next_poll_at: int


@dataclass(slots=True)
class StoreStats:
    """Requests made and capacity consumed, as DynamoDB reports it (``ReturnConsumedCapacity``)."""

    queries: int = 0
    pages: int = 0
    gets: int = 0
    items_read: int = 0
    read_units: float = 0.0
    writes: int = 0
    write_units: float = 0.0
    batch_retries: int = 0

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__slots__}


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _rank(item: Item) -> tuple[str, str]:
    return (item["version_rank"]["S"], item["body_hash"]["S"])


def _replaces(item: Item, stored: Item) -> bool:
    """Whether ``item``'s content would replace ``stored``'s: ``_update_content``'s condition."""
    if item["body_hash"] == stored.get("body_hash"):
        return False
    if "version_rank" not in stored or "body_hash" not in stored:
        return True
    return _rank(stored) < _rank(item)


def _units(consumed: Any) -> float:
    if not consumed:
        return 0.0
    if isinstance(consumed, list):
        return sum(_units(c) for c in consumed)
    return float(consumed.get("CapacityUnits") or 0.0)


@dataclass
class _Batch:
    """Requests of one BatchWriteItem, keyed by (pk, sk) so a key appears once (DynamoDB rejects repeats)."""

    requests: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


class PostStore:
    """The table of one deployment. ``client`` is a boto3 low-level DynamoDB client.

    ``handle_hasher`` (optional) replaces author ids/handles of posts not written by the
    profile itself before they are stored, so customer identities can be kept pseudonymous.
    It must be deterministic: matching compares author ids.
    """

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        retention_days: int = 90,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        handle_hasher: Callable[[str], str] | None = None,
        max_batch_attempts: int = 8,
        backoff_base: float = 0.05,
        backoff_cap: float = 5.0,
    ) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.table_name = table_name
        self.client = client if client is not None else boto3.client("dynamodb")
        parse_query_responses_with_json(self.client)
        self.retention_seconds = retention_days * 86400
        self.clock = clock
        self.sleep = sleep
        self.handle_hasher = handle_hasher
        self.max_batch_attempts = max_batch_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats = StoreStats()
        self._random = random.Random()  # noqa: S311 - jitter, not security

    # ----------------------------------------------------------------- low level
    def _count_write(self, response: dict[str, Any]) -> None:
        self.stats.writes += 1
        self.stats.write_units += _units(response.get("ConsumedCapacity"))

    def _write(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One write request; raises ClientError (conditional failures included), still counted."""
        try:
            response = getattr(self.client, method)(
                TableName=self.table_name, ReturnConsumedCapacity="TOTAL", **kwargs
            )
        except ClientError as error:
            self._count_write(error.response)
            raise
        self._count_write(response)
        return response

    def _conditional(self, method: str, **kwargs: Any) -> bool:
        try:
            self._write(method, **kwargs)
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        """One logical Query, following LastEvaluatedKey page by page."""
        self.stats.queries += 1
        request = {"TableName": self.table_name, "ReturnConsumedCapacity": "TOTAL", **kwargs}
        while True:
            response = self.client.query(**request)
            self.stats.pages += 1
            self.stats.read_units += _units(response.get("ConsumedCapacity"))
            items = response.get("Items", [])
            self.stats.items_read += len(items)
            yield from items
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _get(self, pk: str, sk: str) -> Item | None:
        response = self.client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
            ReturnConsumedCapacity="TOTAL",
        )
        self.stats.gets += 1
        self.stats.read_units += _units(response.get("ConsumedCapacity"))
        item = response.get("Item")
        if item is not None:
            self.stats.items_read += 1
        return item

    def _partition(self, pk: str, begins_with: str | None = None) -> Iterator[Item]:
        if begins_with is None:
            return self._query(
                KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
            )
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": begins_with}},
        )

    # ----------------------------------------------------------------- posts
    def _prepare(self, profile_key: str, post: Post) -> Post:
        post = stored_form(post)
        if self.handle_hasher is None:
            return post
        own_handle = profile_key.partition("#")[2]
        if post.author_handle == own_handle:
            return post
        return dataclasses.replace(
            post,
            author_id=self.handle_hasher(post.author_id),
            author_handle=self.handle_hasher(post.author_handle),
        )

    def _expires_at(self, post: Post) -> int:
        return post.created_at + self.retention_seconds

    def save_posts(
        self, profile_key: str, posts: Sequence[Post], open_post_ids: Collection[str] = ()
    ) -> SaveResult:
        """Store ``posts`` in the profile's partition; redelivering the same posts writes nothing.

        New posts are put only where absent. A post stored with other content (an edit, or a
        stale copy of one) has its content fields replaced only when the new version wins
        METRICS rule 7 (``version_rank``, then ``body_hash``), so the stored version never
        depends on arrival order; its open markers, status and expiry are left alone.
        ``updated`` counts replacements; ``duplicates`` counts posts that changed nothing.
        """
        open_ids = set(open_post_ids)
        new = updated = duplicates = 0
        for original in posts:
            post = self._prepare(profile_key, original)
            item = post_to_item(
                profile_key, post, expires_at=self._expires_at(post), is_open=post.post_id in open_ids
            )
            stored = self._put_if_absent(item)
            if stored is None:
                new += 1
                continue
            # Most re-stored posts are plain duplicates (SQS redelivery, overlapping windows):
            # the refused put returned the stored item, so they cost that one write unit and
            # no update. The update stays conditional: another writer may have moved on.
            if stored and not _replaces(item, stored):
                duplicates += 1
                continue
            if self._update_content(profile_key, post):
                updated += 1
            else:
                duplicates += 1
        return SaveResult(new, updated, duplicates)

    def _put_if_absent(self, item: Item) -> Item | None:
        """Put ``item`` if its key is free: None when it was put, else the stored item (``{}``
        when DynamoDB did not return it)."""
        try:
            self._write(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return error.response.get("Item") or {}
            raise
        return None

    def _update_content(self, profile_key: str, post: Post) -> bool:
        names = {"#h": "body_hash", "#r": "version_rank"}
        values: dict[str, Any] = {":h": {"S": body_hash(post)}, ":r": {"S": version_rank(post)}}
        sets, removes = ["#h = :h", "#r = :r"], []
        for i, (name, value) in enumerate(content_values(post).items()):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                values[f":v{i}"] = value
                sets.append(f"#f{i} = :v{i}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return self._conditional(
            "update_item",
            Key={"pk": {"S": profile_pk(profile_key)}, "sk": {"S": post_sk(post.created_at, post.post_id)}},
            UpdateExpression=expression,
            # Only a version that wins METRICS rule 7 (ties broken by the hash) replaces the
            # stored one, so two versions end up the same whichever arrives last.
            ConditionExpression=(
                "attribute_exists(pk) AND #h <> :h AND "
                "(attribute_not_exists(#r) OR #r < :r OR (#r = :r AND #h < :h))"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def bulk_load(self, profile_key: str, posts: Iterable[Post], open_post_ids: Collection[str] = ()) -> int:
        """Back-fill: unconditional puts in batches of 25; returns the number of items written.

        Meant for loading an archive into an empty partition: unlike ``save_posts`` it
        overwrites what is there (open markers included), which is what a replay wants.
        Two copies of a post within one batch keep the METRICS rule 7 winner; across batches
        the later copy wins (use ``save_posts`` when that matters).
        """
        open_ids = set(open_post_ids)
        batch = _Batch()
        written = 0
        for original in posts:
            post = self._prepare(profile_key, original)
            item = post_to_item(
                profile_key, post, expires_at=self._expires_at(post), is_open=post.post_id in open_ids
            )
            key = (item["pk"]["S"], item["sk"]["S"])
            seen = batch.requests.get(key)
            if seen is None or _rank(item) > _rank(seen["PutRequest"]["Item"]):
                batch.requests[key] = {"PutRequest": {"Item": item}}
            if len(batch.requests) == BATCH_SIZE:
                written += self._flush(batch)
                batch = _Batch()
        if batch.requests:
            written += self._flush(batch)
        return written

    def _flush(self, batch: _Batch) -> int:
        pending = list(batch.requests.values())
        total = len(pending)
        for attempt in range(self.max_batch_attempts):
            response = self.client.batch_write_item(
                RequestItems={self.table_name: pending}, ReturnConsumedCapacity="TOTAL"
            )
            self._count_write(response)
            pending = (response.get("UnprocessedItems") or {}).get(self.table_name, [])
            if not pending:
                return total
            if attempt + 1 < self.max_batch_attempts:
                self.stats.batch_retries += 1
                # Full jitter: spreads retries of many loaders so they do not hit the
                # throttled partition again in step.
                ceiling = min(self.backoff_cap, self.backoff_base * (2**attempt))
                self.sleep(self._random.uniform(0, ceiling))
        raise BulkLoadError(
            f"{len(pending)} of {total} items still unprocessed by DynamoDB after "
            f"{self.max_batch_attempts} attempts (table {self.table_name})"
        )

    def posts_between(self, profile_key: str, start: int, end: int) -> Iterator[Post]:
        """Posts of the profile with ``start <= created_at < end``, oldest first: one Query."""
        if end <= start:
            return iter(())
        items = self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": profile_pk(profile_key)},
                ":lo": {"S": sk_lower(start)},
                ":hi": {"S": sk_upper_exclusive(end)},
            },
            ProjectionExpression=POST_PROJECTION,
            ExpressionAttributeNames=POST_PROJECTION_NAMES,
        )
        return items_to_posts(items)

    def posts_for_week(self, profile_key: str, start: int, end: int) -> Iterator[Post]:
        return self.posts_between(profile_key, start, end)

    def open_posts(self, profile_key: str) -> Iterator[Post]:
        """Customer posts still waiting for an answer (the sparse index holds only those)."""
        items = self._query(
            IndexName=OPEN_INDEX,
            KeyConditionExpression="open_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": open_pk(profile_key)}},
            ProjectionExpression=POST_PROJECTION,
            ExpressionAttributeNames=POST_PROJECTION_NAMES,
        )
        return items_to_posts(items)

    def close_open(self, profile_key: str, post: Post, status: str) -> bool:
        """Take ``post`` off the open index with ``status``; False when it was no longer open."""
        if status not in CLOSE_STATUSES:
            raise ValueError(f"status must be one of {CLOSE_STATUSES}, not {status!r}")
        return self._conditional(
            "update_item",
            Key={"pk": {"S": profile_pk(profile_key)}, "sk": {"S": post_sk(post.created_at, post.post_id)}},
            UpdateExpression="SET #s = :s REMOVE open_pk, open_sk",
            ConditionExpression="attribute_exists(open_pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
        )

    # ----------------------------------------------------------------- poll state
    def load_state(self, profile_key: str) -> PollState:
        item = self._get(profile_pk(profile_key), "STATE")
        if item is None:
            return PollState({}, 0, None, None)
        cursor = {k: v["S"] for k, v in item.get("cursor", {"M": {}})["M"].items()}
        return PollState(
            cursor=cursor,
            version=int(item.get("version", {"N": "0"})["N"]),
            retry_at=int(item["retry_at"]["N"]) if "retry_at" in item else None,
            last_success_at=int(item["last_success_at"]["N"]) if "last_success_at" in item else None,
        )

    def save_cursor(self, profile_key: str, cursor: dict[str, str], expected_version: int) -> bool:
        """Advance the cursor if nobody else did since ``expected_version``; False on conflict.

        Call it only after the posts the cursor covers are stored. A stale writer (a
        redelivered message) loses the condition, so the cursor never goes backwards.
        """
        values: dict[str, Any] = {
            ":c": {"M": {k: {"S": str(v)} for k, v in cursor.items()}},
            ":new": {"N": str(expected_version + 1)},
            ":expected": {"N": str(expected_version)},
            ":now": {"N": str(int(self.clock()))},
        }
        condition = "#v = :expected"
        if expected_version == 0:
            condition = "attribute_not_exists(#v) OR #v = :expected"
        return self._conditional(
            "update_item",
            Key={"pk": {"S": profile_pk(profile_key)}, "sk": {"S": "STATE"}},
            UpdateExpression="SET #c = :c, #v = :new, last_success_at = :now",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#c": "cursor", "#v": "version"},
            ExpressionAttributeValues=values,
        )

    def set_retry_at(self, profile_key: str, retry_at: int | None) -> None:
        """When a rate-limited profile may be polled again (None clears it)."""
        key = {"pk": {"S": profile_pk(profile_key)}, "sk": {"S": "STATE"}}
        if retry_at is None:
            self._write("update_item", Key=key, UpdateExpression="REMOVE retry_at")
        else:
            self._write(
                "update_item",
                Key=key,
                UpdateExpression="SET retry_at = :r",
                ExpressionAttributeValues={":r": {"N": str(int(retry_at))}},
            )

    def record_poll(
        self,
        profile_key: str,
        started_at: int,
        outcome: str,
        posts: int = 0,
        detail: str = "",
        poll_id: str | None = None,
    ) -> None:
        """Log one poll (kept for the retention period). A retried Lambda writes the same item.

        ``poll_id`` defaults to the outcome, so a redelivered poll of the same start second
        overwrites its own record instead of counting twice.
        """
        if outcome not in POLL_OUTCOMES:
            raise ValueError(f"outcome must be one of {POLL_OUTCOMES}, not {outcome!r}")
        started_at = int(started_at)
        item: Item = {
            "pk": {"S": profile_pk(profile_key)},
            "sk": {"S": f"POLL#{started_at:010d}#{poll_id or outcome}"},
            "started_at": {"N": str(started_at)},
            "outcome": {"S": outcome},
            "posts": {"N": str(int(posts))},
            "detail": {"S": detail[:1000]},
            "expires_at": {"N": str(started_at + self.retention_seconds)},
        }
        self._write("put_item", Item=item)
        if outcome == "ok":
            # Only moves forward: an old poll recorded late must not hide a newer success.
            self._conditional(
                "update_item",
                Key={"pk": {"S": profile_pk(profile_key)}, "sk": {"S": "STATE"}},
                UpdateExpression="SET last_success_at = :t",
                ConditionExpression="attribute_not_exists(last_success_at) OR last_success_at < :t",
                ExpressionAttributeValues={":t": {"N": str(started_at)}},
            )

    def polls_between(self, profile_key: str, start: int, end: int) -> list[tuple[int, str]]:
        """(started_at, outcome) of the polls that started in ``[start, end)``, oldest first."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": profile_pk(profile_key)},
                ":lo": {"S": f"POLL#{max(start, 0):010d}"},
                ":hi": {"S": f"POLL#{max(end - 1, 0):010d}~"},
            },
        )
        return [(int(i["started_at"]["N"]), i["outcome"]["S"]) for i in items]

    def completeness(self, profile_key: str, start: int, end: int, interval_seconds: int) -> dict[str, int]:
        """How much polling a period's figures rest on (METRICS.md "Data completeness").

        ``polls_planned`` = ceil((end - start) / interval): a poll at ``start`` and one every
        interval after. ``longest_blind_seconds`` is the longest stretch of ``[start, end)``
        with no successful poll, the stretch from ``start`` to the first success and from the
        last success to ``end`` included. A period still running is measured up to now.
        ``polls_account_unavailable`` counts the failed polls in which the platform said the
        profile's own account is suspended or not found, and ``account_unavailable_at_end``
        is 1 when the period's last poll said so (the account is still gone).
        """
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        end = min(end, max(start, int(self.clock())))
        if end <= start:
            return {
                "polls_planned": 0,
                "polls_succeeded": 0,
                "polls_failed": 0,
                "longest_blind_seconds": 0,
                "polls_account_unavailable": 0,
                "account_unavailable_at_end": 0,
            }
        polls = self.polls_between(profile_key, start, end)
        successes = sorted({t for t, outcome in polls if outcome == "ok"})
        failed = sum(
            1 for _, outcome in polls if outcome in ("failed", "rate_limited", "account_unavailable")
        )
        unavailable = sum(1 for _, outcome in polls if outcome == "account_unavailable")
        edges = [start, *successes, end]
        blind = max(b - a for a, b in pairwise(edges))
        last = polls[-1] if polls else None  # oldest first: the period's latest poll
        return {
            "polls_planned": math.ceil((end - start) / interval_seconds),
            "polls_succeeded": len(successes),
            "polls_failed": failed,
            "longest_blind_seconds": blind,
            "polls_account_unavailable": unavailable,
            "account_unavailable_at_end": int(last is not None and last[1] == "account_unavailable"),
        }

    # ----------------------------------------------------------------- brands
    def put_brand(self, brand: Brand) -> None:
        """Store the brand, its profiles and their directory entries; profiles no longer listed go.

        ``next_poll_at`` of a profile already in the directory is kept, so re-applying the
        configuration does not make every profile due at once.
        """
        pk = f"BRAND#{brand.brand_id}"
        meta: Item = {
            "pk": {"S": pk},
            "sk": {"S": "META"},
            "brand_id": {"S": brand.brand_id},
            "config": {"S": json.dumps(_brand_json(brand), sort_keys=True)},
        }
        self._write("put_item", Item=meta)
        wanted = {p.key for p in brand.profiles}
        for item in list(self._partition(pk, "PROFILE#")):
            key = item["sk"]["S"].removeprefix("PROFILE#")
            if key not in wanted:
                self.remove_profile(brand.brand_id, key)
        for profile in brand.profiles:
            self._write(
                "put_item",
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": f"PROFILE#{profile.key}"},
                    "profile_key": {"S": profile.key},
                    "config": {"S": json.dumps(_profile_json(profile), sort_keys=True)},
                },
            )
            self._write(
                "update_item",
                Key={"pk": {"S": DIRECTORY_PK}, "sk": {"S": f"PROFILE#{profile.key}"}},
                UpdateExpression=(
                    "SET brand_id = :b, profile_key = :k, account_id = :a, poll_interval_seconds = :i, "
                    "enabled = :e, next_poll_at = if_not_exists(next_poll_at, :zero)"
                ),
                ExpressionAttributeValues={
                    ":b": {"S": brand.brand_id},
                    ":k": {"S": profile.key},
                    ":a": {"S": profile.account_id},
                    ":i": {"N": str(profile.poll_interval_seconds)},
                    ":e": {"BOOL": profile.enabled},
                    ":zero": {"N": "0"},
                },
            )
        self._write(
            "put_item",
            Item={
                "pk": {"S": DIRECTORY_PK},
                "sk": {"S": f"BRAND#{brand.brand_id}"},
                "brand_id": {"S": brand.brand_id},
            },
        )

    def get_brand(self, brand_id: str) -> Brand:
        # META sorts before PROFILE#..., and both before WEEK#: one Query without the snapshots.
        items = list(
            self._query(
                KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                ExpressionAttributeValues={
                    ":pk": {"S": f"BRAND#{brand_id}"},
                    ":lo": {"S": "META"},
                    ":hi": {"S": "PROFILE#~"},
                },
            )
        )
        meta = next((i for i in items if i["sk"]["S"] == "META"), None)
        if meta is None:
            raise NotFound(f"brand {brand_id!r} is not configured")
        profiles = tuple(
            _profile_from_json(json.loads(i["config"]["S"]))
            for i in items
            if i["sk"]["S"].startswith("PROFILE#")
        )
        return _brand_from_json(json.loads(meta["config"]["S"]), profiles)

    def list_brands(self) -> list[Brand]:
        ids = [i["brand_id"]["S"] for i in self._partition(DIRECTORY_PK, "BRAND#")]
        brands = []
        for brand_id in ids:
            try:
                brands.append(self.get_brand(brand_id))
            except NotFound:
                continue  # removed between the two reads
        return brands

    def remove_profile(self, brand_id: str, profile_key: str) -> None:
        self._write(
            "delete_item", Key={"pk": {"S": f"BRAND#{brand_id}"}, "sk": {"S": f"PROFILE#{profile_key}"}}
        )
        self._write("delete_item", Key={"pk": {"S": DIRECTORY_PK}, "sk": {"S": f"PROFILE#{profile_key}"}})

    def remove_brand(self, brand_id: str) -> None:
        """Remove the brand's configuration and snapshots; its posts expire by TTL."""
        for item in list(self._partition(f"BRAND#{brand_id}")):
            sk = item["sk"]["S"]
            if sk.startswith("PROFILE#"):
                self.remove_profile(brand_id, sk.removeprefix("PROFILE#"))
            else:
                self._write("delete_item", Key={"pk": item["pk"], "sk": item["sk"]})
        self._write("delete_item", Key={"pk": {"S": DIRECTORY_PK}, "sk": {"S": f"BRAND#{brand_id}"}})

    def directory(self) -> list[DirectoryEntry]:
        return [
            DirectoryEntry(
                brand_id=i["brand_id"]["S"],
                profile_key=i["profile_key"]["S"],
                poll_interval_seconds=int(i["poll_interval_seconds"]["N"]),
                enabled=i["enabled"]["BOOL"],
                next_poll_at=int(i["next_poll_at"]["N"]),
            )
            for i in self._partition(DIRECTORY_PK, "PROFILE#")
        ]

    def brand_accounts(self) -> list[BrandAccount]:
        """Every brand profile known, from the directory (one Query): the accounts whose posts
        are never customer posts, whichever brand is being judged (METRICS.md "Things")."""
        accounts = []
        for item in self._partition(DIRECTORY_PK, "PROFILE#"):
            platform, _, handle = item["profile_key"]["S"].partition("#")
            account_id = item.get("account_id", {}).get("S", "")  # absent on entries written before it
            accounts.append(BrandAccount(item["brand_id"]["S"], platform, handle, account_id))
        return accounts

    def due_profiles(self, now: int) -> list[DirectoryEntry]:
        return [e for e in self.directory() if e.enabled and e.next_poll_at <= now]

    def mark_dispatched(self, profile_key: str, next_poll_at: int, previous_next_poll_at: int) -> bool:
        """Claim this round of the profile: only one of two racing dispatchers gets True."""
        return self._conditional(
            "update_item",
            Key={"pk": {"S": DIRECTORY_PK}, "sk": {"S": f"PROFILE#{profile_key}"}},
            UpdateExpression="SET next_poll_at = :n",
            ConditionExpression="next_poll_at = :p",
            ExpressionAttributeValues={
                ":n": {"N": str(int(next_poll_at))},
                ":p": {"N": str(int(previous_next_poll_at))},
            },
        )

    # ----------------------------------------------------------------- automation corrections
    def put_correction(self, correction: StoredCorrection) -> None:
        """Store (or replace) a brand's verdict on a text or a post."""
        self._write("put_item", Item=correction_to_item(correction))

    def list_corrections(self, brand_id: str) -> list[StoredCorrection]:
        """The brand's corrections: one Query."""
        return [item_to_correction(i) for i in self._partition(correction_pk(brand_id))]

    def delete_correction(self, brand_id: str, kind: str, key: str) -> bool:
        """Remove a correction; False when there was none."""
        response = self._write(
            "delete_item",
            Key={"pk": {"S": correction_pk(brand_id)}, "sk": {"S": correction_sk(kind, key)}},
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))

    def corrections_for(self, brand_id: str) -> Corrections:
        """The brand's corrections in the form :func:`match` takes."""
        return as_corrections(self.list_corrections(brand_id))

    # ----------------------------------------------------------------- snapshots
    def put_snapshot(self, brand_id: str, week: str, figures: dict[str, Any]) -> None:
        self._write(
            "put_item",
            Item={
                "pk": {"S": f"BRAND#{brand_id}"},
                "sk": {"S": f"WEEK#{week}"},
                "week": {"S": week},
                "figures": {"S": json.dumps(figures, sort_keys=True)},
            },
        )

    def recent_snapshots(
        self, brand_id: str, before_week: str, count: int = 8
    ) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``count`` snapshots of weeks strictly before ``before_week``, newest first: one Query."""
        if count <= 0:
            return []
        # ISO week names (2026-W47) sort in time order; BETWEEN is inclusive, so ask for
        # one more and drop before_week itself.
        response_items = self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": {"S": f"BRAND#{brand_id}"},
                ":lo": {"S": "WEEK#"},
                ":hi": {"S": f"WEEK#{before_week}"},
            },
            ScanIndexForward=False,
            Limit=count + 1,
        )
        out = []
        for item in response_items:
            week = item["week"]["S"]
            if week >= before_week:
                continue
            out.append((week, json.loads(item["figures"]["S"])))
            if len(out) == count:
                break
        return out


def _brand_json(brand: Brand) -> dict[str, Any]:
    return {
        "brand_id": brand.brand_id,
        "name": brand.name,
        "timezone": brand.timezone,
        "recipients": list(brand.recipients),
        "bot_accounts": list(brand.bot_accounts),
        "automation_apps": list(brand.automation_apps),
        "report_weekday": brand.report_weekday,
        "report_hour": brand.report_hour,
        "agents": brand.agents,
        **({"alerts": alerts_to_json(brand.alerts)} if brand.alerts is not None else {}),
    }


def _brand_from_json(data: dict[str, Any], profiles: tuple[Profile, ...]) -> Brand:
    return Brand(
        brand_id=data["brand_id"],
        name=data["name"],
        profiles=profiles,
        timezone=data["timezone"],
        recipients=tuple(data["recipients"]),
        bot_accounts=tuple(data["bot_accounts"]),
        automation_apps=tuple(data["automation_apps"]),
        report_weekday=data["report_weekday"],
        report_hour=data["report_hour"],
        alerts=alerts_from_json(data["alerts"]) if data.get("alerts") else None,
        agents=data.get("agents", True),  # brands stored before the setting report agents
    )


def _profile_json(profile: Profile) -> dict[str, Any]:
    return {
        "brand_id": profile.brand_id,
        "platform": profile.platform,
        "handle": profile.handle,
        "account_id": profile.account_id,
        "timezone": profile.timezone,
        "business_hours": profile.business_hours.to_spec(),
        "sla_seconds": profile.sla_seconds,
        "base_url": profile.base_url,
        "credentials": profile.credentials,
        "poll_interval_seconds": profile.poll_interval_seconds,
        "enabled": profile.enabled,
        "budget_credential": profile.budget_credential,
    }


def _profile_from_json(data: dict[str, Any]) -> Profile:
    return Profile(
        brand_id=data["brand_id"],
        platform=data["platform"],
        handle=data["handle"],
        account_id=data["account_id"],
        timezone=data["timezone"],
        business_hours=BusinessHours.parse(data["business_hours"]),
        sla_seconds=data["sla_seconds"],
        base_url=data["base_url"],
        credentials=data["credentials"],
        poll_interval_seconds=data["poll_interval_seconds"],
        enabled=data["enabled"],
        budget_credential=data.get("budget_credential"),  # absent on profiles stored before it
    )
