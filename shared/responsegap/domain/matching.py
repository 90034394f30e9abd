"""Which customer posts a brand answered, and when: METRICS.md "When a post counts as answered".

``match`` is a pure function of the *set* of posts it is given: duplicates collapse on
``(platform, post_id)`` and the result never depends on the order posts arrived in, so a
reply seen before its post, or a post seen twice, changes nothing.

Weekly reports run this over a million posts inside one Lambda invocation, so the loops
below avoid building a tuple or an object per post where a dictionary lookup will do.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter

from responsegap.domain.automation import HUMAN, AutomationPolicy, Verdict, body_fingerprint, classify
from responsegap.domain.model import Brand, Post

OPENER = "opener"
FOLLOWUP = "followup"
_MAX_THREAD_DEPTH = 10_000

Owner = tuple[str, str]  # (brand_id, profile_key)


@dataclass(frozen=True, slots=True)
class Response:
    """A brand post that answers a customer post."""

    post_id: str
    created_at: int
    seconds: int
    automated: bool
    reasons: tuple[str, ...] = ()
    url: str | None = None


@dataclass(slots=True)
class Outcome:
    """One customer post as judged for one brand. Treat as read-only once returned."""

    post: Post
    brand_id: str
    profile_key: str
    kind: str
    first_response: Response | None = None
    first_human_response: Response | None = None

    @property
    def answered(self) -> bool:
        return self.first_response is not None


class _Accounts:
    """Brand accounts per platform, looked up by lower-case handle or by platform id."""

    def __init__(self, brands: Sequence[Brand]) -> None:
        self.handles: dict[str, dict[str, Owner]] = {}
        self.ids: dict[str, dict[str, Owner]] = {}
        self.bots: dict[str, set[str]] = {}
        for brand in brands:
            first_on: dict[str, str] = {}
            for profile in brand.profiles:
                owner = (brand.brand_id, profile.key)
                first_on.setdefault(profile.platform, profile.key)
                self.handles.setdefault(profile.platform, {}).setdefault(profile.handle, owner)
                if profile.account_id:
                    self.ids.setdefault(profile.platform, {}).setdefault(profile.account_id, owner)
            for bot in brand.bot_accounts:
                platform, _, handle = bot.partition(":")
                handle = handle.lower().lstrip("@")
                owner = (brand.brand_id, first_on.get(platform, f"{platform}#{handle}"))
                self.handles.setdefault(platform, {}).setdefault(handle, owner)
                self.bots.setdefault(platform, set()).add(handle)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A run allocates millions of objects that all live to its end; letting the cyclic
    collector walk them again and again costs a third of the time and frees nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _index(posts: Iterable[Post]) -> dict[str, dict[str, Post]]:
    """platform -> post_id -> post, one per id; of two differing copies the choice is fixed."""
    tables: dict[str, dict[str, Post]] = {}
    for post in posts:
        table = tables.get(post.platform)
        if table is None:
            table = tables[post.platform] = {}
        seen = table.setdefault(post.post_id, post)
        if seen is not post and seen != post and version_rank(post) > version_rank(seen):
            table[post.post_id] = post
    return tables


def dedupe(posts: Iterable[Post]) -> dict[tuple[str, str], Post]:
    """One post per ``(platform, post_id)``; of two differing copies the choice is fixed, not first-seen."""
    return {(p, i): post for p, table in _index(posts).items() for i, post in table.items()}


def version_rank(post: Post) -> tuple:
    """METRICS choice 7: of two versions of one post, the larger of these wins."""
    return (post.text, post.in_reply_to_id or "", post.application or "", post.url or "", post.created_at)


def _owners(table: dict[str, Post], handles: dict[str, Owner], ids: dict[str, Owner]) -> dict[str, Owner]:
    """post_id -> owner, for the brand posts of one platform."""
    owners: dict[str, Owner] = {}
    for post_id, post in table.items():
        owner = handles.get(post.author_handle)
        if owner is None and ids:
            owner = ids.get(post.author_id)
        if owner is not None:
            owners[post_id] = owner
    return owners


def _attribute_platform(
    table: dict[str, Post],
    owners: dict[str, Owner],
    handles: dict[str, Owner],
    ids: dict[str, Owner],
    slots: dict[str, dict[str, Outcome]],
) -> None:
    """An :class:`Outcome` per customer post and brand, per METRICS.md 'Things', into ``slots``."""
    for post_id, post in table.items():
        own = owners.get(post_id)
        own_brand = own[0] if own is not None else None
        parent_owner = None
        parent_id = post.in_reply_to_id
        if parent_id is not None:
            if parent_id in table:
                parent_owner = owners.get(parent_id)
            elif post.in_reply_to_author_id:
                account = post.in_reply_to_author_id
                parent_owner = ids.get(account) or handles.get(account.lower())
        if parent_owner is not None and parent_owner[0] != own_brand:
            brand_id = parent_owner[0]
            slots[brand_id][post_id] = Outcome(post, brand_id, parent_owner[1], FOLLOWUP)
            continue
        judged: set[str] | None = None
        for handle in post.mentions:
            owner = handles.get(handle)
            if owner is None or owner[0] == own_brand:
                continue
            brand_id = owner[0]
            if judged is None:
                judged = {brand_id}
            elif brand_id in judged:
                continue
            else:
                judged.add(brand_id)
            slots[brand_id][post_id] = Outcome(post, brand_id, owner[1], OPENER)


def attribute(posts: Iterable[Post], brands: Sequence[Brand]) -> list[tuple[Post, str, str, str]]:
    """(post, brand_id, profile_key, kind) for every customer post among ``posts``.

    Used at ingest to decide which stored posts start out waiting for an answer.
    """
    accounts = _Accounts(brands)
    found = []
    for platform, table in _index(posts).items():
        handles, ids = accounts.handles.get(platform, {}), accounts.ids.get(platform, {})
        slots: dict[str, dict[str, Outcome]] = {brand.brand_id: {} for brand in brands}
        _attribute_platform(table, _owners(table, handles, ids), handles, ids, slots)
        found += [
            (o.post, o.brand_id, o.profile_key, o.kind) for brand in slots.values() for o in brand.values()
        ]
    found.sort(key=lambda row: (row[0].created_at, row[0].post_id, row[1]))
    return found


def match(
    posts: Iterable[Post],
    brands: Sequence[Brand],
    as_of: int,
    policy: AutomationPolicy | None = None,
) -> list[Outcome]:
    """Every customer post of every brand, with its first response and first human response.

    Only brand posts created at or before ``as_of`` count as answers. Outcomes come sorted by
    (created_at, post_id, brand_id).
    """
    policy = policy or AutomationPolicy()
    accounts = _Accounts(brands)
    policies = {
        brand.brand_id: _with_apps(policy, brand.automation_apps) if brand.automation_apps else policy
        for brand in brands
    }
    outcomes: list[Outcome] = []
    with _collector_paused():
        # Keyed by the posts' own id strings, platform by platform: no new key objects per post.
        for platform, table in _index(posts).items():
            handles, ids = accounts.handles.get(platform, {}), accounts.ids.get(platform, {})
            owners = _owners(table, handles, ids)
            slots: dict[str, dict[str, Outcome]] = {brand.brand_id: {} for brand in brands}
            _attribute_platform(table, owners, handles, ids, slots)
            verdicts: dict[str, Verdict] = {}
            bots = accounts.bots.get(platform, set())
            _answer_platform(table, owners, slots, verdicts, bots, as_of, policies)
            del owners
            for brand_slots in slots.values():
                for outcome in brand_slots.values():
                    _settle(outcome, verdicts)
                outcomes += brand_slots.values()
        outcomes.sort(key=_outcome_order)
    return outcomes


def _answer_platform(
    table: dict[str, Post],
    owners: dict[str, Owner],
    slots: dict[str, dict[str, Outcome]],
    verdicts: dict[str, Verdict],
    bots: set[str],
    as_of: int,
    policies: dict[str, AutomationPolicy],
) -> None:
    """Walk up from every brand reply and keep, per customer post, the earliest answers.

    While matching, ``first_response``/``first_human_response`` hold the answering brand
    *post*; :func:`_settle` turns them into :class:`Response` objects.
    """
    fingerprints, template_customers = _templates(table, owners, policies)
    for post_id, owner in owners.items():
        reply = table[post_id]
        parent_id = reply.in_reply_to_id
        created = reply.created_at
        if parent_id is None or created > as_of:
            continue
        parent = table.get(parent_id)
        brand_slots = slots.get(owner[0])
        if parent is None or not brand_slots:
            continue
        author = parent.author_id
        verdict = None
        node: Post | None = parent
        for _ in range(_MAX_THREAD_DEPTH):
            if node.author_id == author and created > node.created_at:
                outcome = brand_slots.get(node.post_id)
                if outcome is not None:
                    if verdict is None:
                        verdict = verdicts.get(post_id)
                        if verdict is None:
                            verdict = verdicts[post_id] = _classify(
                                reply, parent, owner[0], bots, template_customers, fingerprints, policies
                            )
                    # Inlined _earlier(): this is the innermost loop of a weekly report.
                    current = outcome.first_response
                    if (
                        current is None
                        or created < current.created_at
                        or (created == current.created_at and post_id < current.post_id)
                    ):
                        outcome.first_response = reply  # type: ignore[assignment]
                    if not verdict.automated and _earlier(reply, outcome.first_human_response):  # type: ignore[arg-type]
                        outcome.first_human_response = reply  # type: ignore[assignment]
            next_id = node.in_reply_to_id
            if next_id is None:
                break
            node = table.get(next_id)
            if node is None:
                break


def _earlier(reply: Post, current: Post | None) -> bool:
    """Ties on the second go to the smaller post id, so the choice never depends on order."""
    if current is None or reply.created_at < current.created_at:
        return True
    return reply.created_at == current.created_at and reply.post_id < current.post_id


def _settle(outcome: Outcome, verdicts: dict[str, Verdict]) -> None:
    first: Post | None = outcome.first_response  # type: ignore[assignment]
    if first is None:
        return
    human: Post | None = outcome.first_human_response  # type: ignore[assignment]
    created = outcome.post.created_at
    outcome.first_response = response = _response(created, first, verdicts[first.post_id])
    if human is first:
        outcome.first_human_response = response
    elif human is not None:
        outcome.first_human_response = _response(created, human, verdicts[human.post_id])


_outcome_order = attrgetter("post.created_at", "post.post_id", "brand_id")


def _templates(
    table: dict[str, Post], owners: dict[str, Owner], policies: dict[str, AutomationPolicy]
) -> tuple[dict[str, str], dict[tuple[str, str], int]]:
    """Body fingerprint per brand reply, and (brand_id, fingerprint) -> how many different
    customers got that body."""
    fingerprints: dict[str, str] = {}
    customers: dict[tuple[str, str], set[str]] = {}
    by_body: dict[str, str] = {}  # replies are mostly "@customer <template>": one regex per template
    for post_id, (brand_id, _) in owners.items():
        reply = table[post_id]
        parent_id = reply.in_reply_to_id
        if parent_id is None:
            continue
        parent = table.get(parent_id)
        customer = parent.author_id if parent is not None else reply.in_reply_to_author_id
        if not customer:
            continue
        body = _without_leading_mentions(reply.text)
        fingerprint = by_body.get(body)
        if fingerprint is None:
            fingerprint = by_body[body] = body_fingerprint(body)
        fingerprints[post_id] = fingerprint
        seen = customers.get((brand_id, fingerprint))
        if seen is None:
            customers[(brand_id, fingerprint)] = {customer}
        else:
            seen.add(customer)
    return fingerprints, {key: len(value) for key, value in customers.items()}


def _without_leading_mentions(text: str) -> str:
    """``text`` without its leading ``@handle`` tokens and the spaces after them.

    body_fingerprint removes such a token whole, and the spaces after it, and nothing in it
    looks behind, so the fingerprint of the rest equals that of the whole text: replies that
    differ only in whom they address then share one fingerprint computation.
    """
    start = 0
    while text.startswith("@", start):
        space = text.find(" ", start)
        token = text[start + 1 : space]
        if space < 0 or not token or not token.isascii() or not token.replace("_", "a").isalnum():
            break
        start = space + 1
        while text.startswith(" ", start):
            start += 1
    return text[start:]


def _with_apps(policy: AutomationPolicy, apps: Sequence[str]) -> AutomationPolicy:
    return AutomationPolicy(
        policy.template_min_customers,
        policy.template_min_length,
        policy.read_seconds,
        policy.typing_chars_per_second,
        policy.extra_apps | frozenset(a.lower() for a in apps),
    )


def _classify(
    reply: Post,
    parent: Post,
    brand_id: str,
    bots: set[str],
    template_customers: dict[tuple[str, str], int],
    fingerprints: dict[str, str],
    policies: dict[str, AutomationPolicy],
) -> Verdict:
    policy = policies[brand_id]
    fingerprint = fingerprints.get(reply.post_id, "")
    reused = (
        template_customers.get((brand_id, fingerprint), 0)
        if len(fingerprint) >= policy.template_min_length
        else 0
    )
    seconds = reply.created_at - parent.created_at
    if (
        reply.application is None
        and reused < policy.template_min_customers
        and reply.author_handle not in bots
        and seconds >= policy.read_seconds + len(reply.text) / policy.typing_chars_per_second
    ):
        return HUMAN  # no evidence of automation at all: what classify() would conclude
    verdict = classify(
        reply.text,
        reply.application,
        is_bot_account=reply.author_handle in bots,
        seconds_after_parent=seconds,
        template_customers=reused,
        policy=policy,
    )
    return verdict if verdict.automated else HUMAN


def _response(customer_created_at: int, reply: Post, verdict: Verdict) -> Response:
    return Response(
        reply.post_id,
        reply.created_at,
        reply.created_at - customer_created_at,
        verdict.automated,
        verdict.reasons,
        reply.url,
    )
