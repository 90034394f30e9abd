"""Which customer posts a brand answered, and when: METRICS.md "When a post counts as answered".

``match`` is a pure function of the *set* of posts it is given: duplicates collapse on
``(platform, post_id)`` and the result never depends on the order posts arrived in, so a
reply seen before its post, or a post seen twice, changes nothing.

Weekly reports run this over a million posts inside one Lambda invocation, so per platform
it makes three passes: one over the posts (``_scan``: outcomes, sort keys, brand replies),
one over the brand replies (``_Classifier``: template counts) and one walking up from each
reply (``_answer_platform``); verdicts are worked out once per distinct case, and no tuple or
object is built per post where a dictionary lookup will do.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from responsegap.domain.agents import agent_of
from responsegap.domain.automation import (
    HUMAN,
    AutomationPolicy,
    Verdict,
    acknowledgement_phrase,
    body_fingerprint,
    classify,
    hashtags,
    ignores_customer,
)
from responsegap.domain.corrections import Corrections
from responsegap.domain.exchanges import ExchangePost, ending
from responsegap.domain.model import Brand, BrandAccount, Post

OPENER = "opener"
_LINK = re.compile(r"https?://\S+")
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
    text: str = ""  # the reply's own text (shared with its Post): the report groups verdicts by it


@dataclass(slots=True)
class Outcome:
    """One customer post as judged for one brand. Treat as read-only once returned."""

    post: Post
    brand_id: str
    profile_key: str
    kind: str
    first_response: Response | None = None
    first_human_response: Response | None = None
    # METRICS.md "Who answered, and how it ended" (docs/metrics.md choices 15-18): the agent
    # of the first human response, how an answered opener ended, and the agents of the
    # brand's replies to this very post (each reply counted once, on the post it replies to).
    agent: str | None = None
    ending: str | None = None
    reply_agents: list[str] | None = None

    @property
    def answered(self) -> bool:
        return self.first_response is not None


class _Accounts:
    """Brand accounts per platform, looked up by lower-case handle or by platform id.

    Besides the profiles of the brands being judged, ``others`` are the accounts of every
    other brand known (METRICS.md: a post by any brand profile is never a customer post):
    their posts are brand posts, but no outcome is made for them.
    """

    def __init__(self, brands: Sequence[Brand], others: Iterable[BrandAccount] = ()) -> None:
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
        for account in others:
            owner = (account.brand_id, f"{account.platform}#{account.handle}")
            self.handles.setdefault(account.platform, {}).setdefault(account.handle, owner)
            if account.account_id:
                self.ids.setdefault(account.platform, {}).setdefault(account.account_id, owner)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A run allocates millions of objects that all live to its end; letting the cyclic
    collector walk them again and again costs a third of the time and frees nothing.

    On the way out the survivors go straight to the oldest generation (``freeze`` then
    ``unfreeze``: each only relinks the collector's lists). Left young, they would all be
    walked by the first collection after the run, with a cache miss per reference: half a
    second per million posts, and as much again when they move up a generation. Only the
    timing of collections changes (garbage cycles made before the run wait for the next full
    collection); skipped when the caller has frozen objects, which ``unfreeze`` would thaw.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
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


# A brand reply as the later passes need it: the reply, the post it replies to (None when
# not seen), the reply's owner, and its body without leading @mentions (None when there is
# no customer to count it for: see _Classifier).
_Reply = tuple[Post, Post | None, Owner, str | None]
# (created_at - near, post_id, brand_id): the order outcomes are returned in. ``near`` is a
# time close to the posts (as_of): differences under 2**30 s are one-digit ints, which the
# sort compares on its fast path; epoch seconds take two digits and make it 1.6 times slower.
_SortKey = tuple[int, str, str]


def _scan(
    table: dict[str, Post],
    handles: dict[str, Owner],
    ids: dict[str, Owner],
    slots: dict[str, dict[str, Outcome]],
    near: int,
) -> tuple[list[Outcome], list[_SortKey] | None, list[_Reply]]:
    """One pass over a platform's posts: an :class:`Outcome` per customer post and brand, per
    METRICS.md 'Things' (also put into ``slots``, brand -> post_id -> outcome), their sort
    keys, and the brand replies.

    The keys are ``None`` when the outcomes came out in order, as they do from a store read
    (its items come sorted by time and post id): a million posts' keys are 90 MB that a
    report running near its memory limit does not need. Once one comes out of order, the keys
    of those before it are worked out and every later one is kept.

    A post's owner is looked up where it is needed (for the post, then for its parent) rather
    than in a pass of its own: two dictionary lookups cost less than another walk over a
    million posts.
    """
    outcomes: list[Outcome] = []
    order = _SortKeys(outcomes, near)
    replies: list[_Reply] = []
    bodies: dict[str, str] = {}  # one string per distinct body: the replies share a few templates
    for post_id, post in table.items():
        # An owner tuple is never empty, so `or` falls back to the account id only when the
        # handle is unknown.
        own = handles.get(post.author_handle) or ids.get(post.author_id)
        parent_id = post.in_reply_to_id
        parent = table.get(parent_id) if parent_id is not None else None
        if own is not None:
            # A brand post, of a judged brand or not, is never a customer post (METRICS.md
            # "Things"): brands bantering or pointing a customer elsewhere are not judged.
            if parent_id is not None and own[0] in slots:
                customer = parent.author_id if parent is not None else post.in_reply_to_author_id
                if customer:
                    body = _without_leading_mentions(post.text)
                    body = bodies.setdefault(body, body)
                else:
                    body = None
                replies.append((post, parent, own, body))
            continue
        if parent_id is not None:
            # Whose post this replies to decides opener or follow-up, however old the parent:
            # the parent itself when it was read, else the author the platform (or the
            # archive's index) names for it. Never how far back the caller happened to read.
            if parent is not None:
                parent_owner = handles.get(parent.author_handle) or ids.get(parent.author_id)
            elif post.in_reply_to_author_id:
                account = post.in_reply_to_author_id
                parent_owner = ids.get(account) or handles.get(account.lower())
            else:
                parent_owner = None
            if parent_owner is not None:
                brand_id = parent_owner[0]
                brand_slots = slots.get(brand_id)
                if brand_slots is not None:  # else a follow-up of a brand not judged here
                    brand_slots[post_id] = outcome = Outcome(post, brand_id, parent_owner[1], FOLLOWUP)
                    order.add((post.created_at - near, post_id, brand_id))
                    outcomes.append(outcome)
                continue
        judged: set[str] | None = None
        for handle in post.mentions:
            owner = handles.get(handle)
            if owner is None:
                continue
            brand_id = owner[0]
            brand_slots = slots.get(brand_id)
            if brand_slots is None:
                continue
            if judged is None:
                judged = {brand_id}
            elif brand_id in judged:
                continue
            else:
                judged.add(brand_id)
            brand_slots[post_id] = outcome = Outcome(post, brand_id, owner[1], OPENER)
            order.add((post.created_at - near, post_id, brand_id))
            outcomes.append(outcome)
    return outcomes, order.keys, replies


class _SortKeys:
    """The sort keys of a scan's outcomes, kept only once one comes out of order (see _scan).

    ``add`` is called with each outcome's key just before the outcome is appended.
    """

    __slots__ = ("keys", "last", "near", "outcomes")

    def __init__(self, outcomes: list[Outcome], near: int) -> None:
        self.outcomes = outcomes
        self.near = near
        self.keys: list[_SortKey] | None = None
        self.last: _SortKey = (-(1 << 62), "", "")

    def add(self, key: _SortKey) -> None:
        if self.keys is not None:
            self.keys.append(key)
        elif key < self.last:
            self.keys = [*_keys_of(self.outcomes, self.near), key]
        else:
            self.last = key


def _keys_of(outcomes: list[Outcome], near: int) -> Iterator[_SortKey]:
    return ((o.post.created_at - near, o.post.post_id, o.brand_id) for o in outcomes)


def _in_order(runs: list[tuple[list[Outcome], list[_SortKey] | None]], near: int) -> list[Outcome]:
    """The outcomes of every platform, sorted by their keys; stable, so equal keys keep
    platform order.

    One platform whose outcomes came out in order is returned as it is. Otherwise the keys
    come from the scans, which built them while each post was at hand (pulling them out of
    half a million scattered objects afterwards would cost nearly as much as the sort
    itself); only runs that were in order need theirs worked out here.
    """
    if len(runs) == 1 and runs[0][1] is None:
        return runs[0][0]
    outcomes: list[Outcome] = []
    keys: list[_SortKey] = []
    for found, found_keys in runs:
        outcomes += found
        keys += found_keys if found_keys is not None else _keys_of(found, near)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return list(map(outcomes.__getitem__, order))


def attribute(
    posts: Iterable[Post], brands: Sequence[Brand], others: Iterable[BrandAccount] = ()
) -> list[tuple[Post, str, str, str]]:
    """(post, brand_id, profile_key, kind) for every customer post among ``posts``.

    Used at ingest to decide which stored posts start out waiting for an answer. ``others``
    as in :func:`match`.
    """
    accounts = _Accounts(brands, others)
    runs = []
    for platform, table in _index(posts).items():
        handles, ids = accounts.handles.get(platform, {}), accounts.ids.get(platform, {})
        found, found_keys, _ = _scan(table, handles, ids, {brand.brand_id: {} for brand in brands}, 0)
        runs.append((found, found_keys))
    return [(o.post, o.brand_id, o.profile_key, o.kind) for o in _in_order(runs, 0)]


def match(
    posts: Iterable[Post],
    brands: Sequence[Brand],
    as_of: int,
    policy: AutomationPolicy | None = None,
    *,
    others: Iterable[BrandAccount] = (),
    corrections: Mapping[str, Corrections] | None = None,
) -> list[Outcome]:
    """Every customer post of every brand, with its first response and first human response.

    Only brand posts created at or before ``as_of`` count as answers. Outcomes come sorted by
    (created_at, post_id, brand_id). ``others`` are the accounts of brands known but not
    judged here (a weekly report judges one brand): their posts are never customer posts.
    ``corrections`` (brand_id -> that brand's :class:`Corrections`) overrule the evidence on
    that brand's replies only.
    """
    policy = policy or AutomationPolicy()
    policies = {
        brand.brand_id: _with_apps(policy, brand.automation_apps) if brand.automation_apps else policy
        for brand in brands
    }
    with _collector_paused():
        # The indexes, keys and verdicts are freed when _match returns, before the collector
        # resumes: only the outcomes and their responses are left to move to its oldest generation.
        return _match(posts, brands, as_of, policies, others, corrections or {})


def _match(
    posts: Iterable[Post],
    brands: Sequence[Brand],
    as_of: int,
    policies: dict[str, AutomationPolicy],
    others: Iterable[BrandAccount],
    corrections: Mapping[str, Corrections],
) -> list[Outcome]:
    """:func:`match` platform by platform, then one sort of all the outcomes."""
    accounts = _Accounts(brands, others)
    runs: list[tuple[list[Outcome], list[_SortKey] | None]] = []
    # Keyed by the posts' own id strings, platform by platform: no new key objects per post.
    tables = _index(posts)
    for platform in list(tables):
        table = tables.pop(platform)
        handles, ids = accounts.handles.get(platform, {}), accounts.ids.get(platform, {})
        slots: dict[str, dict[str, Outcome]] = {brand.brand_id: {} for brand in brands}
        found, found_keys, replies = _scan(table, handles, ids, slots, as_of)
        classifier = _Classifier(replies, policies, accounts.bots.get(platform, set()), corrections)
        verdicts = _answer_platform(table, replies, slots, as_of, classifier)
        # The platform's index, slots and reply records are done with: freed before the
        # responses are built, which then reuse that memory (the peak of a big report).
        del table, slots, replies, classifier
        _settle(found, verdicts)
        del verdicts
        runs.append((found, found_keys))
    return _in_order(runs, as_of)


def _answer_platform(
    table: dict[str, Post],
    replies: list[_Reply],
    slots: dict[str, dict[str, Outcome]],
    as_of: int,
    classifier: _Classifier,
) -> dict[str, Verdict]:
    """Walk up from every brand reply and keep, per customer post, the earliest answers.

    While matching, ``first_response``/``first_human_response`` hold the answering brand
    *post*; :func:`_settle` turns them into :class:`Response` objects with the verdicts
    returned here (brand reply post_id -> verdict).
    """
    verdicts: dict[str, Verdict] = {}
    agents: dict[str, str] = {}  # reply body -> agent: the sign-off is at the end, past the mentions
    threads: list[Outcome] = []  # answered openers, their threads kept in ``ending`` for now
    for reply, parent, owner, body in replies:
        created = reply.created_at
        if parent is None or created > as_of:
            continue
        brand_slots = slots.get(owner[0])
        if not brand_slots:
            continue
        post_id = reply.post_id
        author = parent.author_id
        verdict = None
        agent = None
        node = parent
        for _ in range(_MAX_THREAD_DEPTH):
            if node.author_id == author and created > node.created_at:
                outcome = brand_slots.get(node.post_id)
                if outcome is not None:
                    if verdict is None:
                        verdict = verdicts[post_id] = classifier.verdict(reply, parent, owner[0], body)
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
                    if agent is None:
                        if body is None:
                            agent = agent_of(reply.text)
                        else:
                            agent = agents.get(body)
                            if agent is None:
                                agent = agents[body] = agent_of(body)
                    if node is parent:
                        if outcome.reply_agents is None:
                            outcome.reply_agents = [agent]
                        else:
                            outcome.reply_agents.append(agent)
                    if outcome.kind is OPENER:
                        # While matching, ``ending`` holds the opener's thread: (post, by
                        # brand, text) per brand reply and customer post; see _end_threads.
                        thread = outcome.ending
                        if thread is None:
                            outcome.ending = [(reply, True, body if body is not None else reply.text)]  # type: ignore[assignment]
                            threads.append(outcome)
                        else:
                            thread.append((reply, True, body if body is not None else reply.text))  # type: ignore[attr-defined]
            next_id = node.in_reply_to_id
            if next_id is None:
                break
            node = table.get(next_id)
            if node is None:
                break
    _end_threads(table, slots, as_of, threads, agents)
    return verdicts


def _end_threads(
    table: dict[str, Post],
    slots: dict[str, dict[str, Outcome]],
    as_of: int,
    threads: list[Outcome],
    agents: dict[str, str],
) -> None:
    """The customer's posts join the threads of the answered openers above them; then each
    opener's agent and ending (docs/metrics.md choices 15, 16 and 18).

    The customer's posts are their follow-ups and their own replies that are customer posts
    of the brand (both have an outcome); walking up from them is one short walk per
    follow-up, not per post. ``ending`` sees the posts from the first human response on (the
    first response when no human answered), in time order; brand replies as their body
    without leading @mentions, so that the few template bodies share one cached judgement.
    """
    for brand_slots in slots.values():
        for outcome in brand_slots.values():
            reply_agents = outcome.reply_agents
            if reply_agents is not None and len(reply_agents) > 1:
                reply_agents.sort()  # they came in the order replies were read
            post = outcome.post
            parent_id = post.in_reply_to_id
            if parent_id is None or post.created_at > as_of:
                continue
            author, created = post.author_id, post.created_at
            node = table.get(parent_id)
            for _ in range(_MAX_THREAD_DEPTH):
                if node is None:
                    break
                if node.author_id == author and created > node.created_at:
                    opener = brand_slots.get(node.post_id)
                    if opener is not None and opener.kind is OPENER and opener.ending is not None:
                        opener.ending.append((post, False, post.text))  # type: ignore[attr-defined]
                next_id = node.in_reply_to_id
                node = table.get(next_id) if next_id is not None else None
    # ending() is a pure function of its posts: a thread of the first response alone (most
    # of them) is judged once per reply body, and each distinct post is built once.
    alone: dict[str, str] = {}
    brand_posts: dict[str, ExchangePost] = {}
    for opener in threads:
        thread: list[tuple[Post, bool, str]] = opener.ending  # type: ignore[assignment]
        human: Post | None = opener.first_human_response  # type: ignore[assignment]
        if len(thread) == 1:
            text = thread[0][2]
            if human is not None:
                opener.agent = agents.get(text) or agent_of(text)
            judged = alone.get(text)
            if judged is None:
                judged = alone[text] = ending((ExchangePost(True, text),))
            opener.ending = judged
            continue
        anchor: Post = human if human is not None else opener.first_response  # type: ignore[assignment]
        start = (anchor.created_at, anchor.post_id)
        thread = [entry for entry in thread if (entry[0].created_at, entry[0].post_id) >= start]
        thread.sort(key=_entry_order)
        posts = []
        for post, by_brand, text in thread:
            if not by_brand:
                posts.append(ExchangePost(False, text))
                continue
            if post is human:
                opener.agent = agents.get(text) or agent_of(text)
            exchange_post = brand_posts.get(text)
            if exchange_post is None:
                exchange_post = brand_posts[text] = ExchangePost(True, text)
            posts.append(exchange_post)
        opener.ending = ending(posts)


def _entry_order(entry: tuple[Post, bool, str]) -> tuple[int, str]:
    return (entry[0].created_at, entry[0].post_id)


def _earlier(reply: Post, current: Post | None) -> bool:
    """Ties on the second go to the smaller post id, so the choice never depends on order."""
    if current is None or reply.created_at < current.created_at:
        return True
    return reply.created_at == current.created_at and reply.post_id < current.post_id


def _settle(outcomes: list[Outcome], verdicts: dict[str, Verdict]) -> None:
    """Turn the answering posts kept by :func:`_answer_platform` into :class:`Response` objects."""
    for outcome in outcomes:
        first: Post | None = outcome.first_response  # type: ignore[assignment]
        if first is None:
            continue
        human: Post | None = outcome.first_human_response  # type: ignore[assignment]
        created = outcome.post.created_at
        outcome.first_response = response = _response(created, first, verdicts[first.post_id])
        if human is first:
            outcome.first_human_response = response
        elif human is not None:
            outcome.first_human_response = _response(created, human, verdicts[human.post_id])


class _Classifier:
    """Verdicts on the brand replies of one platform, each distinct case worked out once.

    Replies are mostly a few template bodies addressed to many customers, so the verdict is
    cached by what it depends on: the brand (its policy and its template counts), the body
    without leading @mentions (its fingerprint and agent signature; neither looks behind the
    mentions, see :func:`_without_leading_mentions`), the posting app, whether the account is
    a bot, and the reply's speed only when it came faster than anyone could type its whole
    text (otherwise "too fast" cannot apply, whatever the speed).

    A brand's corrections are looked up before the cache and their verdicts never enter it:
    a post correction holds for one post only, so a cached verdict for its body must not
    carry it to the brand's other replies, nor a cached evidence verdict hide it.
    """

    def __init__(
        self,
        replies: list[_Reply],
        policies: dict[str, AutomationPolicy],
        bots: set[str],
        corrections: Mapping[str, Corrections] | None = None,
    ) -> None:
        self.policies = policies
        self.corrections = {brand: c for brand, c in (corrections or {}).items() if c}
        self.bots = bots
        self.fingerprints: dict[str, str] = {}  # body -> fingerprint
        self.tag_customers: dict[tuple[str, str], set[str]] = {}
        self.tag_lines: dict[tuple[str, str], set[str]] = {}  # the distinct lines, links dropped
        self.template_customers = self._count_templates(replies)
        self.cache: dict[tuple[str, str, str | None, bool, int | None, str | None], Verdict] = {}

    def _count_templates(self, replies: list[_Reply]) -> dict[tuple[str, str], int]:
        """(brand_id, fingerprint) -> how many different customers got that body."""
        fingerprints = self.fingerprints
        customers: dict[tuple[str, str], set[str]] = {}
        for reply, parent, (brand_id, _), body in replies:
            if body is None:
                continue
            fingerprint = fingerprints.get(body)
            if fingerprint is None:
                fingerprint = fingerprints[body] = body_fingerprint(body)
            customer = parent.author_id if parent is not None else reply.in_reply_to_author_id
            if "#" in body:
                # Campaign hashtags: how many different customers got a reply carrying each.
                line = body_fingerprint(_LINK.sub("", body))
                for tag in hashtags(body):
                    self.tag_customers.setdefault((brand_id, tag), set()).add(customer)  # type: ignore[arg-type]
                    self.tag_lines.setdefault((brand_id, tag), set()).add(line)
            seen = customers.get((brand_id, fingerprint))
            if seen is None:
                customers[(brand_id, fingerprint)] = {customer}  # type: ignore[arg-type]
            else:
                seen.add(customer)  # type: ignore[arg-type]
        return {key: len(value) for key, value in customers.items()}

    def verdict(self, reply: Post, parent: Post, brand_id: str, body: str | None) -> Verdict:
        """The verdict on ``reply`` (owned by ``brand_id``) to ``parent``; ``body`` as in _Reply."""
        seconds = reply.created_at - parent.created_at
        corrections = self.corrections.get(brand_id) if self.corrections else None
        if corrections is not None:
            fingerprint = self.fingerprints[body] if body is not None else body_fingerprint(reply.text)
            corrected = corrections.for_post(reply.platform, reply.post_id, fingerprint)
            if corrected is not None:
                return corrected
        if body is None:  # no customer: rare, not worth a cache entry
            return self._classify(reply, seconds, brand_id, "")
        policy = self.policies[brand_id]
        fast = seconds < policy.read_seconds + len(reply.text) / policy.typing_chars_per_second
        campaign = self._campaign_tag(body, parent, brand_id) if "#" in body else None
        key = (
            brand_id,
            body,
            reply.application,
            reply.author_handle in self.bots,
            seconds if fast else None,
            campaign,
        )
        verdict = self.cache.get(key)
        if verdict is None:
            verdict = self.cache[key] = self._classify(
                reply, seconds, brand_id, self.fingerprints[body], campaign
            )
        return verdict

    def _campaign_tag(self, body: str, parent: Post, brand_id: str) -> str | None:
        """A hashtag the brand put on replies to many customers, absent from this customer's
        post, on a reply that shares none of the customer's words: a campaign line."""
        policy = self.policies[brand_id]
        theirs = hashtags(parent.text)
        for tag in sorted(hashtags(body)):
            if tag in theirs:
                continue
            customers = len(self.tag_customers.get((brand_id, tag), ()))
            # A campaign is a small set of prepared lines, each sent to several customers; a
            # brand hashtag an agent adds to written replies (#AATeam) comes with new lines.
            if (
                customers >= policy.template_min_customers
                and len(self.tag_lines[(brand_id, tag)]) * 3 <= customers * 2
                and ignores_customer(body, parent.text)
            ):
                return tag
        return None

    def _classify(
        self, reply: Post, seconds: int, brand_id: str, fingerprint: str, campaign: str | None = None
    ) -> Verdict:
        policy = self.policies[brand_id]
        reused = (
            self.template_customers.get((brand_id, fingerprint), 0)
            if len(fingerprint) >= policy.template_min_length
            else 0
        )
        is_bot = reply.author_handle in self.bots
        if (
            reply.application is None
            and campaign is None
            and not is_bot
            and seconds >= policy.read_seconds + len(reply.text) / policy.typing_chars_per_second
            and acknowledgement_phrase(reply.text) is None
        ):
            return HUMAN  # no evidence of automation at all: what classify() would conclude
        verdict = classify(
            reply.text,
            reply.application,
            is_bot_account=is_bot,
            seconds_after_parent=seconds,
            template_customers=reused,
            policy=policy,
            campaign_tag=campaign,
        )
        return verdict if verdict.automated else HUMAN


def _without_leading_mentions(text: str) -> str:
    """``text`` without its leading ``@handle`` tokens and the spaces after them.

    body_fingerprint removes such a token whole, and the spaces after it, and nothing in it
    looks behind, so the fingerprint of the rest equals that of the whole text: replies that
    differ only in whom they address then share one fingerprint computation. The same holds
    for human_signature (its patterns start at a '^', a dash or the end) and for the typed
    length in fastest_human_seconds, which is what lets _Classifier cache by body.
    """
    return text[_leading_mentions(text).end() :]


# An '@', a handle of ASCII letters, digits and '_', then one or more spaces; repeated.
_leading_mentions = re.compile(r"(?:@[A-Za-z0-9_]+ +)*").match


def _with_apps(policy: AutomationPolicy, apps: Sequence[str]) -> AutomationPolicy:
    return AutomationPolicy(
        policy.template_min_customers,
        policy.template_min_length,
        policy.read_seconds,
        policy.typing_chars_per_second,
        policy.extra_apps | frozenset(a.lower() for a in apps),
    )


def _response(customer_created_at: int, reply: Post, verdict: Verdict) -> Response:
    return Response(
        reply.post_id,
        reply.created_at,
        reply.created_at - customer_created_at,
        verdict.automated,
        verdict.reasons,
        reply.url,
        reply.text,
    )
