"""Which customer posts a brand answered, and when: METRICS.md "When a post counts as answered".

``match`` is a pure function of the *set* of posts it is given: duplicates collapse on
``(platform, post_id)`` and the result never depends on the order posts arrived in, so a
reply seen before its post, or a post seen twice, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from responsegap.domain.automation import HUMAN, AutomationPolicy, Verdict, body_fingerprint, classify
from responsegap.domain.model import Brand, Post

OPENER = "opener"
FOLLOWUP = "followup"
_MAX_THREAD_DEPTH = 10_000


@dataclass(frozen=True, slots=True)
class Response:
    """A brand post that answers a customer post."""

    post_id: str
    created_at: int
    seconds: int
    automated: bool
    reasons: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One customer post as judged for one brand."""

    post: Post
    brand_id: str
    profile_key: str
    kind: str
    first_response: Response | None
    first_human_response: Response | None

    @property
    def answered(self) -> bool:
        return self.first_response is not None


class _Accounts:
    """Brand accounts by platform, looked up by handle or by platform id."""

    def __init__(self, brands: Sequence[Brand]) -> None:
        # (platform, handle-or-id) -> (brand_id, profile_key)
        self.by_handle: dict[tuple[str, str], tuple[str, str]] = {}
        self.by_id: dict[tuple[str, str], tuple[str, str]] = {}
        self.bots: set[tuple[str, str]] = set()
        for brand in brands:
            first_on: dict[str, str] = {}
            for profile in brand.profiles:
                owner = (brand.brand_id, profile.key)
                first_on.setdefault(profile.platform, profile.key)
                self.by_handle.setdefault((profile.platform, profile.handle), owner)
                if profile.account_id:
                    self.by_id.setdefault((profile.platform, profile.account_id), owner)
            for bot in brand.bot_accounts:
                platform, _, handle = bot.partition(":")
                handle = handle.lower().lstrip("@")
                profile_key = first_on.get(platform, f"{platform}#{handle}")
                self.by_handle.setdefault((platform, handle), (brand.brand_id, profile_key))
                self.bots.add((platform, handle))

    def owner(self, post: Post) -> tuple[str, str] | None:
        found = self.by_handle.get((post.platform, post.author_handle))
        if found is None and self.by_id and post.author_id:
            found = self.by_id.get((post.platform, post.author_id))
        return found

    def owner_of_account(self, platform: str, account: str) -> tuple[str, str] | None:
        return self.by_id.get((platform, account)) or self.by_handle.get((platform, account.lower()))


def dedupe(posts: Iterable[Post]) -> dict[tuple[str, str], Post]:
    """One post per ``(platform, post_id)``; of two differing copies the choice is fixed, not first-seen."""
    by_key: dict[tuple[str, str], Post] = {}
    for post in posts:
        key = (post.platform, post.post_id)
        seen = by_key.get(key)
        if seen is None or (seen != post and _version_rank(post) > _version_rank(seen)):
            by_key[key] = post
    return by_key


def attribute(posts: Iterable[Post], brands: Sequence[Brand]) -> list[tuple[Post, str, str, str]]:
    """(post, brand_id, profile_key, kind) for every customer post among ``posts``.

    Used at ingest to decide which stored posts start out waiting for an answer.
    """
    accounts = _Accounts(brands)
    by_key = dedupe(posts)
    owner_of = {key: owner for key, post in by_key.items() if (owner := accounts.owner(post)) is not None}
    return [(by_key[key], b, p, kind) for key, b, p, kind in _attribute(by_key, owner_of, accounts)]


def _version_rank(post: Post) -> tuple:
    return (post.text, post.in_reply_to_id or "", post.application or "", post.url or "", post.created_at)


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
    extra_apps = {brand.brand_id: frozenset(a.lower() for a in brand.automation_apps) for brand in brands}
    by_key = dedupe(posts)

    owner_of: dict[tuple[str, str], tuple[str, str]] = {}
    for key, post in by_key.items():
        owner = accounts.owner(post)
        if owner is not None:
            owner_of[key] = owner

    attributions = _attribute(by_key, owner_of, accounts)
    if not attributions:
        return []
    # (platform, customer post id, brand_id) -> [first reply, first human reply]; only the
    # customer posts of that brand get a slot, so a missing slot means "not ours to answer".
    firsts: dict[tuple[str, str, str], list] = {(k[0], k[1], b): [None, None] for k, b, _, _ in attributions}

    fingerprints: dict[tuple[str, str], str] = {}
    template_customers = _template_customers(by_key, owner_of, fingerprints)
    verdicts: dict[tuple[str, str], Verdict] = {}

    for key, owner in owner_of.items():
        reply = by_key[key]
        parent_id = reply.in_reply_to_id
        created = reply.created_at
        if parent_id is None or created > as_of:
            continue
        platform = reply.platform
        parent = by_key.get((platform, parent_id))
        if parent is None:
            continue
        brand_id = owner[0]
        author = parent.author_id
        verdict = None
        node: Post | None = parent
        for _ in range(_MAX_THREAD_DEPTH):
            if node.author_id == author and created > node.created_at:
                slot = firsts.get((platform, node.post_id, brand_id))
                if slot is not None:
                    if verdict is None:
                        verdict = verdicts.get(key)
                        if verdict is None:
                            verdict = verdicts[key] = _classify(
                                reply,
                                parent,
                                brand_id,
                                accounts,
                                template_customers,
                                fingerprints[key],
                                policy,
                                extra_apps,
                            )
                    if _earlier(reply, slot[0]):
                        slot[0] = reply
                    if not verdict.automated and _earlier(reply, slot[1]):
                        slot[1] = reply
            if node.in_reply_to_id is None:
                break
            node = by_key.get((platform, node.in_reply_to_id))
            if node is None:
                break

    outcomes = []
    for key, brand_id, profile_key, kind in attributions:
        post = by_key[key]
        first_reply, human_reply = firsts[(key[0], key[1], brand_id)]
        first = human = None
        if first_reply is not None:
            first = _response(post, first_reply, verdicts[first_reply.key])
            if human_reply is first_reply:
                human = first
            elif human_reply is not None:
                human = _response(post, human_reply, verdicts[human_reply.key])
        outcomes.append(Outcome(post, brand_id, profile_key, kind, first, human))
    outcomes.sort(key=_outcome_order)
    return outcomes


def _outcome_order(outcome: Outcome) -> tuple[int, str, str]:
    return (outcome.post.created_at, outcome.post.post_id, outcome.brand_id)


def _earlier(reply: Post, current: Post | None) -> bool:
    """Ties on the second go to the smaller post id, so the choice never depends on order."""
    if current is None or reply.created_at < current.created_at:
        return True
    return reply.created_at == current.created_at and reply.post_id < current.post_id


def _attribute(
    by_key: dict[tuple[str, str], Post],
    owner_of: dict[tuple[str, str], tuple[str, str]],
    accounts: _Accounts,
) -> list[tuple[tuple[str, str], str, str, str]]:
    """(post key, brand_id, profile_key, kind) for every customer post, per METRICS.md 'Things'."""
    out = []
    for key, post in by_key.items():
        own_brand = owner_of.get(key, (None, None))[0]
        parent_owner = None
        if post.in_reply_to_id is not None:
            parent_key = (post.platform, post.in_reply_to_id)
            if parent_key in by_key:
                parent_owner = owner_of.get(parent_key)
            elif post.in_reply_to_author_id:
                parent_owner = accounts.owner_of_account(post.platform, post.in_reply_to_author_id)
        if parent_owner is not None and parent_owner[0] != own_brand:
            out.append((key, parent_owner[0], parent_owner[1], FOLLOWUP))
            continue
        if not post.mentions:
            continue
        seen_brands = set()
        for handle in post.mentions:
            owner = accounts.by_handle.get((post.platform, handle))
            if owner is None or owner[0] == own_brand or owner[0] in seen_brands:
                continue
            seen_brands.add(owner[0])
            out.append((key, owner[0], owner[1], OPENER))
    return out


def _template_customers(
    by_key: dict[tuple[str, str], Post],
    owner_of: dict[tuple[str, str], tuple[str, str]],
    fingerprints: dict[tuple[str, str], str],
) -> dict[tuple[str, str], int]:
    """(brand_id, body fingerprint) -> how many different customers got that body.

    Fills ``fingerprints`` (reply key -> fingerprint) so classification need not redo it.
    """
    customers: dict[tuple[str, str], set[str]] = {}
    for key, (brand_id, _) in owner_of.items():
        reply = by_key[key]
        if reply.in_reply_to_id is None:
            continue
        parent = by_key.get((reply.platform, reply.in_reply_to_id))
        customer = parent.author_id if parent is not None else reply.in_reply_to_author_id
        if not customer:
            continue
        fingerprint = fingerprints[key] = body_fingerprint(reply.text)
        customers.setdefault((brand_id, fingerprint), set()).add(customer)
    return {k: len(v) for k, v in customers.items()}


def _classify(
    reply: Post,
    parent: Post,
    brand_id: str,
    accounts: _Accounts,
    template_customers: dict[tuple[str, str], int],
    fingerprint: str,
    policy: AutomationPolicy,
    extra_apps: dict[str, frozenset[str]],
) -> Verdict:
    if extra_apps.get(brand_id):
        policy = AutomationPolicy(
            policy.template_min_customers,
            policy.template_min_length,
            policy.read_seconds,
            policy.typing_chars_per_second,
            policy.extra_apps | extra_apps[brand_id],
        )
    reused = (
        template_customers.get((brand_id, fingerprint), 0)
        if len(fingerprint) >= policy.template_min_length
        else 0
    )
    verdict = classify(
        reply.text,
        reply.application,
        is_bot_account=(reply.platform, reply.author_handle) in accounts.bots,
        seconds_after_parent=reply.created_at - parent.created_at,
        template_customers=reused,
        policy=policy,
    )
    return verdict if verdict.automated else HUMAN


def _response(customer_post: Post, reply: Post, verdict: Verdict) -> Response:
    return Response(
        post_id=reply.post_id,
        created_at=reply.created_at,
        seconds=reply.created_at - customer_post.created_at,
        automated=verdict.automated,
        reasons=verdict.reasons,
        url=reply.url,
    )
