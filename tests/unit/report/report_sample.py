"""A hand-computed week for the report tests (and the browser test).

Brand "Acme Telecom", week 2026-W47 (Mon 16 Nov 2026 00:00 to Mon 23 Nov, Europe/London =
UTC in November), business hours Mon-Fri 09-17, SLA 1h.

x#acme:
  c1 Mon 10:00 opener, human reply 10:30           -> 1800 s, in hours, within SLA
  c2 Mon 20:00 opener, human reply Tue 09:10        -> 47400 s, out of hours
  c3 Tue 11:00 opener, human reply 13:10            -> 7800 s (2h 10m), in hours
  c4 Sat 10:00 opener, unanswered, "<script>..."    -> grid Sat 10h
  c5 Sat 10:30 opener, unanswered, "=HYPERLINK(...)" -> grid Sat 10h
  c6 Wed 15:00 opener, IFTTT reply 2 s later        -> answered, automated only
  c7 Mon 11:00 follow-up to the brand's reply r1, unanswered, "+cmd|' /C calc'!A0"
instagram#acme.help:
  i1 Thu 09:30 opener, human reply 10:00            -> 1800 s, in hours, within SLA
  i2 Sun 22:00 opener, unanswered, "<img src=x onerror=...>" with CR/LF -> grid Sun 22h

Openers 8, answered 5 (63%), human waits [1800, 1800, 7800, 47400]: median 4800 (1h 20m),
p90 = 7800 + 0.7 * 39600 = 35520 (9h 52m); within SLA 2 of 8 (25%).
"""

from __future__ import annotations

from datetime import UTC, datetime

from responsegap.domain.model import Brand, BrandAccount, Post, Profile

WEEK = "2026-W47"
AS_OF = int(datetime(2026, 11, 23, 7, 0, tzinfo=UTC).timestamp())
SCRIPT = "<script>alert(1)</script> my phone is dead"
HYPERLINK = '=HYPERLINK("http://evil","x")'
CALC = "+cmd|' /C calc'!A0"
IMG = "<img src=x onerror=alert(1)>\r\nsecond line\rthird"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> int:
    return int(datetime(2026, 11, 16 + day, hour, minute, second, tzinfo=UTC).timestamp())


def brand(name: str = "Acme Telecom") -> Brand:
    return Brand(
        brand_id="acme",
        name=name,
        timezone="Europe/London",
        recipients=("leader@example.com",),
        profiles=(
            Profile("acme", "x", "acme", account_id="acme-id", timezone="Europe/London"),
            Profile("acme", "instagram", "acme.help", account_id="acme-ig", timezone="Europe/London"),
        ),
    )


def customer(
    pid: str, when: int, text: str, author: str, platform: str = "x", mention: str = "acme", **kw
) -> Post:
    return Post(
        platform=platform,
        post_id=pid,
        author_id=f"{author}-id",
        author_handle=author,
        created_at=when,
        text=text,
        mentions=(mention,),
        url=f"https://{platform}.example/{author}/status/{pid}",
        **kw,
    )


def reply(
    pid: str, when: int, parent: Post, text: str, *, platform: str = "x", app: str | None = None
) -> Post:
    handle, account = ("acme", "acme-id") if platform == "x" else ("acme.help", "acme-ig")
    return Post(
        platform=platform,
        post_id=pid,
        author_id=account,
        author_handle=handle,
        created_at=when,
        text=text,
        in_reply_to_id=parent.post_id,
        in_reply_to_author_id=parent.author_id,
        application=app,
        url=f"https://{platform}.example/{handle}/status/{pid}",
    )


def posts() -> dict[str, list[Post]]:
    c1 = customer("c1", at(0, 10), "My bill is wrong @acme", "cust1")
    r1 = reply("r1", at(0, 10, 30), c1, "Sorry to hear that, DM us please ^JK")
    c2 = customer("c2", at(0, 20), "@acme no signal since noon", "cust2")
    r2 = reply("r2", at(1, 9, 10), c2, "We are looking into the signal in your area -Anna")
    c3 = customer("c3", at(1, 11), "@acme how do I port my number?", "cust3")
    r3 = reply("r3", at(1, 13, 10), c3, "You can port it from the app settings, step by step here ^MB")
    c4 = customer("c4", at(5, 10), SCRIPT + " @acme", "cust4")
    c5 = customer("c5", at(5, 10, 30), HYPERLINK + " @acme", "cust5")
    c6 = customer("c6", at(2, 15), "@acme is there an outage", "cust6")
    r6 = reply("r6", at(2, 15, 0, 2), c6, "Thanks for reaching out! We will get back to you.", app="IFTTT")
    c7 = Post(
        platform="x",
        post_id="c7",
        author_id="cust1-id",
        author_handle="cust1",
        created_at=at(0, 11),
        text=CALC,
        in_reply_to_id="r1",
        in_reply_to_author_id="acme-id",
        url="javascript:alert(1)",
    )
    i1 = customer(
        "i1", at(3, 9, 30), "@acme.help where is my order", "cust8", platform="instagram", mention="acme.help"
    )
    ri1 = reply("ri1", at(3, 10), i1, "It ships today, tracking in your inbox -Sam", platform="instagram")
    i2 = customer("i2", at(6, 22), IMG, "cust9", platform="instagram", mention="acme.help")
    # before the week: must not count
    old = customer("c0", at(0, 0) - 3600, "@acme last week", "cust0")
    return {
        "x#acme": [old, c1, r1, c2, r2, c3, r3, c4, c5, c6, r6, c7],
        "instagram#acme.help": [i1, ri1, i2],
    }


GOOD_COMPLETENESS = {
    "polls_planned": 2016,
    "polls_succeeded": 2010,
    "polls_failed": 6,
    "longest_blind_seconds": 900,
}
BAD_COMPLETENESS = {
    "polls_planned": 2016,
    "polls_succeeded": 1700,
    "polls_failed": 316,
    "longest_blind_seconds": 14400,
}

W46 = {
    "as_of": "2026-11-16T07:00:00Z",
    "brand": {
        "openers": 10,
        "answered": 5,
        "unanswered": 5,
        "response_rate": 0.5,
        "answered_by_human": 5,
        "answered_within_sla": 3,
        "followups": 1,
        "followups_answered": 1,
        "answered_automated": 0,
        "first_response_median": 3600,
        "first_human_median": 3600,
        "first_response_p90": 36000,
        "first_human_p90": 36000,
        "within_sla_rate": 0.3,
    },
    "profiles": {},
}
W44 = {**W46, "brand": {**W46["brand"], "response_rate": 0.8, "openers": 20, "answered": 16}}


class FakeStore:
    """In-memory stand-in for the PostStore methods the report uses; records the calls it gets."""

    def __init__(
        self,
        by_profile: dict[str, list[Post]] | None = None,
        completeness: dict[str, dict] | None = None,
        snapshots: dict[str, dict] | None = None,
        brands: dict[str, Brand] | None = None,
    ) -> None:
        self.by_profile = posts() if by_profile is None else by_profile
        self.completeness_by_profile = completeness or {}
        self.snapshots: dict[tuple[str, str], dict] = {("acme", w): s for w, s in (snapshots or {}).items()}
        self.brands = brands if brands is not None else {"acme": brand()}
        self.calls: list[tuple] = []

    def posts_between(self, profile_key, start, end):
        self.calls.append(("posts_between", profile_key, start, end))
        for post in self.by_profile.get(profile_key, []):
            if start <= post.created_at < end:
                yield post

    def completeness(self, profile_key, start, end, interval_seconds):
        self.calls.append(("completeness", profile_key, start, end, interval_seconds))
        return dict(self.completeness_by_profile.get(profile_key, GOOD_COMPLETENESS))

    def put_snapshot(self, brand_id, week, figures):
        self.snapshots[(brand_id, week)] = figures

    def recent_snapshots(self, brand_id, before_week, count=8):
        weeks = sorted((w for b, w in self.snapshots if b == brand_id and w < before_week), reverse=True)
        return [(w, self.snapshots[(brand_id, w)]) for w in weeks[:count]]

    def get_brand(self, brand_id):
        if brand_id not in self.brands:
            raise LookupError(f"brand {brand_id!r} is not configured")
        return self.brands[brand_id]

    def list_brands(self):
        return list(self.brands.values())

    def brand_accounts(self):
        return [BrandAccount.of(p) for b in self.brands.values() for p in b.profiles]

    def corrections_for(self, brand_id):
        from responsegap.domain.corrections import Corrections

        return Corrections()
