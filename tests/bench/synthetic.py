"""A deterministic generator of realistic customer-care conversations, for benchmarks and
for the DuckDB reference test.

``Scenario`` fixes everything (seed, size, brands, week); the same scenario always yields
the same posts in the same order. Posts are *yielded* (``posts()``), never collected, and the
strings that repeat across posts (platforms, handles, opener texts, template bodies, customer
ids) are shared objects, so a caller that keeps the posts pays little more than the ``Post``
slots themselves.

What the data contains, per conversation:
- a customer opener that @mentions a brand profile (mixed letter case), about 5% mentioning
  two brands on the same platform (each brand is judged on its own answer);
- sometimes the customer adding to their own thread (a reply to their own opener, with or
  without a fresh @mention) before anyone answers;
- brand replies: human ones signed ``^AB`` / ``-Anna`` whose bodies are templates reused for
  many customers, and automated ones (an automation app via ``application``, an unsigned
  template, or an unsigned reply within 1-3 seconds); sometimes a human reply after an
  automated one; some brand replies answer the customer's self-reply, not the opener;
- follow-ups (customer replies to a brand reply), some answered again;
- unanswered posts, answers that arrive after the period end, after ``as_of`` (not counted);
- exact duplicates of about 1% of posts (``match`` collapses them);
- openers spread over the week and a day either side with a day/night rhythm in the
  profile's timezone; timezones include Europe/London, whose clocks go back inside
  2026-W43 (Sunday 25 October 2026, 01:00 UTC).

Every brand reply carries a ground-truth ``automated`` label (``labelled()``); the data is
built so that the engine's classifier must agree with it (humans always sign and never reply
faster than a person can type; unsigned template replies are sent to many customers). The
DuckDB reference uses that label as its automation input and ``engine_vs_duckdb`` checks
that the engine's verdicts agree with it.

Writers: ``write_csv`` / ``write_parquet`` (one row per post, for DuckDB), ``write_twcs_csv``
(the Customer Support on Twitter columns and quirks, for ``responsegap analyze``).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import Period, week_period

TIMEZONES = (
    "Europe/London",  # DST ends inside 2026-W43
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Europe/Berlin",
)
NAMES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Wonka",
    "Gringotts",
    "Vandelay",
    "Pied",
    "Oscorp",
    "Aperture",
    "Massive",
    "Nakatomi",
    "Duff",
    "Krusty",
)
AUTOMATION_APP = "Zapier"
HUMAN_APPS = ("Sprinklr", "Twitter Web App", "Khoros", "Zendesk", None)
AGENTS = ("^AB", "^JK", "^MR", "^TS", "^LP", "-Anna", "-Tom", "^QW", "-Priya", "^ZZ")

OPENER_PHRASES = (
    "my order still hasn't arrived and the tracking page has not moved in days",
    "I was charged twice for the same subscription this month, can someone look into it",
    "the app keeps crashing whenever I open the settings page",
    "been on hold for over an hour, is anyone actually working today",
    "my package says delivered but there is nothing at my door",
    "how do I cancel my plan without calling you",
    "the new update deleted all my saved items",
    "why is my account locked again",
    "your store staff were really unhelpful this morning",
    "is there an outage in my area? nothing has worked since noon",
    "I need a refund for a damaged item, who do I talk to",
    "the promo code from your email does not work at checkout",
    "can't log in, password reset email never comes",
    "flight delayed three hours and no one at the gate knows anything",
    "still waiting on the technician who was due yesterday",
    "love the product but the battery dies in two hours",
)
SELF_ADDITIONS = (
    "also it's the third time this month",
    "and nobody answers the phone either",
    "here is a screenshot of the error",
    "update: still nothing",
)
FOLLOWUP_PHRASES = (
    "thanks, just sent you a DM",
    "that didn't help at all",
    "ok done, what now?",
    "still not working after trying that",
    "thank you so much!",
)
HUMAN_BODIES = (
    "Sorry to hear about this. Could you send us a DM with your order details so we can take a look?",
    "Thanks for reaching out. We're looking into it now and will get back to you shortly.",
    "We're sorry for the trouble! Please follow us and DM your account email so we can help.",
    "That's not the experience we want for you. Can you tell us which version of the app you're on?",
    "Thanks for letting us know. Our team is aware and working on a fix as we speak.",
    "We'd like to help with this. Please check your DMs, we've sent you a few questions.",
    "So sorry for the wait today. What's the best number to reach you on?",
    "Glad to hear it's sorted! Let us know if there's anything else we can do.",
)
AUTO_BODIES = (
    "Thanks for contacting us! Your message is important to us. An agent will reply as soon as possible.",
    "Hi there! We have received your message and opened a ticket. Expect an answer within one business day.",
)
FAST_BODY = "Hello! Our team will be with you shortly."


@dataclass(frozen=True)
class Scenario:
    """Everything that fixes a generated data set."""

    n_posts: int = 1_000_000
    brands: int = 12
    seed: int = 20261019
    week: str = "2026-W43"
    platforms: tuple[str, ...] = ("x", "facebook")
    customers_per_conversation: float = 0.35  # distinct customers ~ this x conversations
    twcs: bool = False  # one profile per brand on platform "twcs", numeric ids only

    @cached_property
    def brand_config(self) -> tuple[Brand, ...]:
        out = []
        for i in range(self.brands):
            base = NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i // len(NAMES)))
            tz = TIMEZONES[i % len(TIMEZONES)]
            profiles = []
            platforms = ("twcs",) if self.twcs else self.platforms[: 1 + (i % len(self.platforms))]
            for k, platform in enumerate(platforms):
                handle = (base + ("Support" if k == 0 else "")).lower()
                profiles.append(
                    Profile(
                        brand_id=base.lower(),
                        platform=platform,
                        handle=handle,
                        account_id=f"99{i:06d}{k}",  # 9 digits: never a customer id
                        timezone=tz,
                        sla_seconds=(3600, 1800, 7200)[i % 3],
                    )
                )
            out.append(Brand(brand_id=base.lower(), name=base, profiles=tuple(profiles), timezone=tz))
        return tuple(out)

    @cached_property
    def periods(self) -> dict[str, Period]:
        """The reporting week of every profile, on its own wall clock."""
        return {p.key: week_period(self.week, p.timezone) for b in self.brand_config for p in b.profiles}

    def period_of(self, profile: Profile) -> Period:
        return self.periods[profile.key]

    @cached_property
    def window(self) -> tuple[int, int]:
        """Openers are created in [start, end): a day either side of every profile's week."""
        starts = [p.start for p in self.periods.values()]
        ends = [p.end for p in self.periods.values()]
        return min(starts) - 86400, max(ends) + 86400

    @cached_property
    def as_of(self) -> int:
        """Six hours after the last profile's week ends: later answers are not seen."""
        return max(p.end for p in self.periods.values()) + 6 * 3600

    def posts(self) -> Iterator[Post]:
        for post, _label in labelled(self):
            yield post


@dataclass
class _Profile:
    profile: Profile
    brand_index: int
    mention: str  # how customers write it: @AcmeSupport
    tz: ZoneInfo
    weights: list[float] = field(default_factory=list)


def _hour_weight(hour: int) -> float:
    """Day/night rhythm: quiet at 04:00, busiest around 13:00-20:00 local."""
    return 0.12 + 0.88 * (0.5 - 0.5 * math.cos((hour - 4) / 24 * 2 * math.pi)) ** 1.5


def labelled(scenario: Scenario) -> Iterator[tuple[Post, bool | None]]:
    """(post, automated) for every generated post; ``automated`` is None for customer posts."""
    rng = random.Random(scenario.seed)
    twcs = scenario.twcs
    brands = scenario.brand_config
    profiles_by_platform: dict[str, list[_Profile]] = {}
    brand_weights: list[float] = []
    for i, brand in enumerate(brands):
        brand_weights.append(1.0 / (i + 1) ** 0.8)  # a few big brands, a long tail
        for profile in brand.profiles:
            mention = "@" + "".join(part.capitalize() for part in _split_camel(profile.handle, brand.name))
            profiles_by_platform.setdefault(profile.platform, []).append(
                _Profile(profile, i, mention, ZoneInfo(profile.timezone))
            )
    first_profile = {b.brand_id: b.profiles[0] for b in brands}
    profile_state = {p.profile.key: p for ps in profiles_by_platform.values() for p in ps}
    window_start, window_end = scenario.window
    span = window_end - window_start

    # Shared strings: one object per distinct value.
    text_cache: dict[tuple, str] = {}
    mention_cache: dict[tuple, tuple[str, ...]] = {}
    customers: list[str] = []
    n_conversations_est = max(1, int(scenario.n_posts / 2.6))
    n_customers = max(40, int(n_conversations_est * scenario.customers_per_conversation))
    counter = [10_000_000]

    def next_id() -> str:
        counter[0] += rng.randint(1, 3)
        return str(counter[0])

    def customer() -> str:
        index = rng.randrange(n_customers)
        while index >= len(customers):
            customers.append(str(100_000 + len(customers) * 7))
        return customers[index]

    def opener_time(state: _Profile) -> int:
        while True:
            moment = window_start + rng.randrange(span)
            hour = datetime.fromtimestamp(moment, state.tz).hour
            if rng.random() < _hour_weight(hour):
                return moment

    def post(
        platform: str,
        author_id: str,
        handle: str,
        created: int,
        text: str,
        mentions: tuple[str, ...],
        parent: Post | None = None,
        application: str | None = None,
    ) -> Post:
        return Post(
            platform=platform,
            post_id=next_id(),
            author_id=author_id,
            author_handle=handle,
            created_at=created,
            text=text,
            in_reply_to_id=parent.post_id if parent else None,
            in_reply_to_author_id=parent.author_id if parent else None,
            mentions=mentions,
            application=application,
        )

    def brand_reply(state: _Profile, target: Post, kind: str) -> tuple[Post, bool]:
        """kind: human | app | template | fast."""
        prof = state.profile
        cust = target.author_handle
        if kind == "human":
            body = HUMAN_BODIES[rng.randrange(len(HUMAN_BODIES))]
            sig = AGENTS[(state.brand_index + rng.randrange(4)) % len(AGENTS)]
            text = f"@{cust} {body} {sig}"
            delay = max(90, int(rng.lognormvariate(math.log(1500), 1.4)))
            app = HUMAN_APPS[rng.randrange(len(HUMAN_APPS))]
            automated = False
        elif kind == "app":
            text = f"@{cust} {AUTO_BODIES[0]}"
            delay = rng.randint(2, 90)
            app = AUTOMATION_APP
            automated = True
        elif kind == "template":
            text = f"@{cust} {AUTO_BODIES[1]}"
            delay = rng.randint(60, 900)
            app = None
            automated = True
        else:  # fast, unsigned
            text = f"@{cust} {FAST_BODY}"
            delay = rng.randint(1, 3)
            app = None
            automated = True
        if twcs:
            app = None if not automated or kind != "app" else app
        author_id = prof.handle if twcs else prof.account_id
        reply = post(
            prof.platform,
            author_id,
            prof.handle,
            target.created_at + delay,
            text,
            (cust.lower(),),
            parent=target,
            application=app,
        )
        return reply, automated

    def pick_kind() -> str:
        r = rng.random()
        if r < 0.72:
            return "human"
        if r < 0.84 and not twcs:
            return "app"
        if r < 0.94:
            return "template"
        return "fast"

    produced = 0
    limit = scenario.n_posts
    platforms = list(profiles_by_platform)
    brand_profiles = {
        platform: ([p for p in states], [brand_weights[p.brand_index] for p in states])
        for platform, states in profiles_by_platform.items()
    }
    while produced < limit:
        conv: list[tuple[Post, bool | None]] = []
        platform = platforms[rng.randrange(len(platforms))] if len(platforms) > 1 else platforms[0]
        states, weights = brand_profiles[platform]
        first = rng.choices(states, weights)[0]
        mentioned = [first]
        if len(states) > 1 and rng.random() < 0.05:
            other = rng.choices(states, weights)[0]
            if other.brand_index != first.brand_index:
                mentioned.append(other)
        cust = customer()
        phrase = rng.randrange(len(OPENER_PHRASES))
        key = (tuple(s.mention for s in mentioned), phrase)
        text = text_cache.get(key)
        if text is None:
            text = text_cache[key] = " ".join(key[0]) + " " + OPENER_PHRASES[phrase]
            mention_cache[key] = tuple(s.mention[1:].lower() for s in mentioned)
        t0 = opener_time(first)
        opener = post(platform, cust, cust, t0, text, mention_cache[key])
        conv.append((opener, None))

        target = opener
        if rng.random() < 0.2:  # the customer adds to their own thread before any answer
            addition = rng.randrange(len(SELF_ADDITIONS))
            with_mention = rng.random() < 0.5
            key = ("self", first.mention if with_mention else "", addition)
            text = text_cache.get(key)
            if text is None:
                prefix = (first.mention + " ") if with_mention else ""
                text = text_cache[key] = prefix + SELF_ADDITIONS[addition]
                mention_cache[key] = (first.mention[1:].lower(),) if with_mention else ()
            added = post(
                platform, cust, cust, t0 + rng.randint(20, 1200), text, mention_cache[key], parent=opener
            )
            conv.append((added, None))
            if rng.random() < 0.5:
                target = added

        for position, state in enumerate(mentioned):
            if rng.random() >= (0.8 if position == 0 else 0.55):
                continue  # unanswered by this brand
            kind = pick_kind()
            reply, automated = brand_reply(state, target, kind)
            conv.append((reply, automated))
            if automated and rng.random() < 0.5:  # a person follows the auto-reply
                human, _ = brand_reply(state, target, "human")
                if human.created_at <= reply.created_at:
                    human = _shift(human, reply.created_at + 120 - human.created_at)
                conv.append((human, False))
                reply = human
            if rng.random() < 0.3:  # follow-up to the brand's reply
                phrase = rng.randrange(len(FOLLOWUP_PHRASES))
                key = ("followup", state.mention, phrase)
                text = text_cache.get(key)
                if text is None:
                    text = text_cache[key] = f"{state.mention} {FOLLOWUP_PHRASES[phrase]}"
                    mention_cache[key] = (state.mention[1:].lower(),)
                followup = post(
                    platform,
                    cust,
                    cust,
                    reply.created_at + rng.randint(60, 10800),
                    text,
                    mention_cache[key],
                    parent=reply,
                )
                conv.append((followup, None))
                if rng.random() < 0.6:
                    again, automated = brand_reply(state, followup, "human" if rng.random() < 0.9 else "fast")
                    conv.append((again, automated))

        for item in conv:
            if produced >= limit:
                break
            yield item
            produced += 1
            if produced < limit and rng.random() < 0.01:  # an exact duplicate (seen by two polls)
                yield item
                produced += 1
    del first_profile, profile_state


def _shift(post: Post, seconds: int) -> Post:
    return Post(
        post.platform,
        post.post_id,
        post.author_id,
        post.author_handle,
        post.created_at + seconds,
        post.text,
        post.in_reply_to_id,
        post.in_reply_to_author_id,
        post.mentions,
        post.application,
    )


def _split_camel(handle: str, name: str) -> list[str]:
    """acmesupport + Acme -> [Acme, Support]: how a customer would type the handle."""
    if handle.startswith(name.lower()) and handle != name.lower():
        return [name, handle[len(name) :]]
    return [handle]


# ---------------------------------------------------------------- writers
COLUMNS = (
    "platform",
    "post_id",
    "author_id",
    "author_handle",
    "created_at",
    "text",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "mentions",
    "application",
    "automated",
)


def write_csv(scenario: Scenario, path: str | Path) -> int:
    """One row per generated post (duplicates included); ``mentions`` space-separated, in order.

    ``automated`` is the ground-truth label of brand replies (empty for customer posts).
    """
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for post, label in labelled(scenario):
            writer.writerow(
                (
                    post.platform,
                    post.post_id,
                    post.author_id,
                    post.author_handle,
                    post.created_at,
                    post.text,
                    post.in_reply_to_id or "",
                    post.in_reply_to_author_id or "",
                    " ".join(post.mentions),
                    post.application or "",
                    "" if label is None else int(label),
                )
            )
            rows += 1
    return rows


READ_CSV_SQL = """read_csv({path}, header=true, quote='"', escape='"', nullstr='', columns={{
    'platform': 'VARCHAR', 'post_id': 'VARCHAR', 'author_id': 'VARCHAR', 'author_handle': 'VARCHAR',
    'created_at': 'BIGINT', 'text': 'VARCHAR', 'in_reply_to_id': 'VARCHAR',
    'in_reply_to_author_id': 'VARCHAR', 'mentions': 'VARCHAR', 'application': 'VARCHAR',
    'automated': 'INTEGER'}})"""


def write_parquet(scenario: Scenario, path: str | Path, csv_path: str | Path | None = None) -> int:
    """The same rows as ``write_csv``, as Parquet (written by DuckDB from a CSV)."""
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(csv_path) if csv_path else Path(tmp) / "posts.csv"
        rows = write_csv(scenario, source) if csv_path is None or not source.exists() else -1
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM {READ_CSV_SQL.format(path=_sql_str(source))}) "
            f"TO {_sql_str(path)} (FORMAT parquet)"
        )
        if rows < 0:
            rows = con.execute(f"SELECT count(*) FROM read_parquet({_sql_str(path)})").fetchone()[0]
        con.close()
    return rows


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def twcs_time(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def write_twcs_csv(scenario: Scenario, path: str | Path, crlf: bool = False) -> int:
    """The Customer Support on Twitter format: ``tweet_id, author_id, inbound, created_at, text,
    response_tweet_id, in_response_to_tweet_id``.

    Quirks kept: brand ``author_id`` is the screen name and customers are numbers;
    ``created_at`` like ``Tue Oct 31 22:10:47 +0000 2017``; ``response_tweet_id`` lists the
    replies comma-separated; ``in_response_to_tweet_id`` is a float (``123.0``); rows are not in
    time order (each conversation is written newest first). The scenario must have ``twcs=True``.
    """
    if not scenario.twcs:
        raise ValueError("write_twcs_csv needs Scenario(twcs=True)")
    brand_handles = {p.handle for b in scenario.brand_config for p in b.profiles}
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(
            (
                "tweet_id",
                "author_id",
                "inbound",
                "created_at",
                "text",
                "response_tweet_id",
                "in_response_to_tweet_id",
            )
        )
        conv: list[Post] = []

        def flush() -> None:
            nonlocal rows
            children: dict[str, list[str]] = {}
            for p in conv:
                if p.in_reply_to_id:
                    children.setdefault(p.in_reply_to_id, []).append(p.post_id)
            for p in reversed(conv):
                writer.writerow(
                    (
                        p.post_id,
                        p.author_id,
                        "False" if p.author_handle in brand_handles else "True",
                        twcs_time(p.created_at),
                        p.text,
                        ",".join(children.get(p.post_id, ())),
                        f"{p.in_reply_to_id}.0" if p.in_reply_to_id else "",
                    )
                )
                rows += 1
            conv.clear()

        for post, _label in labelled(scenario):
            if post.in_reply_to_id is None and conv and conv[-1] is not post:
                flush()
            conv.append(post)
        flush()
    return rows


if __name__ == "__main__":  # a quick look at the data
    import collections
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    scenario = Scenario(n_posts=n, brands=4)
    for post, label in labelled(scenario):
        print(
            post.created_at,
            post.post_id,
            post.author_handle,
            post.in_reply_to_id,
            label,
            post.application,
            post.text[:70],
        )
    counts = collections.Counter(label for _, label in labelled(Scenario(n_posts=100_000)))
    print(counts)
