"""Small builders for hand-made conversations: readable posts with minute-level times."""

from __future__ import annotations

from responsegap.domain.model import Brand, BusinessHours, Post, Profile, mentions_in

T0 = 1_700_000_000 - (1_700_000_000 % 86400)  # a midnight UTC: Tue 2023-11-14 00:00


def at(minutes: float) -> int:
    return T0 + int(minutes * 60)


def acme(timezone: str = "UTC", sla_seconds: int = 3600, hours: BusinessHours | None = None, **kw) -> Brand:
    return Brand(
        "acme",
        "Acme",
        profiles=(
            Profile(
                "acme",
                "x",
                "acmehelp",
                account_id="100",
                timezone=timezone,
                sla_seconds=sla_seconds,
                business_hours=hours or BusinessHours(),
            ),
            Profile("acme", "x", "acme", account_id="101", timezone=timezone, sla_seconds=sla_seconds),
        ),
        **kw,
    )


def globex() -> Brand:
    return Brand("globex", "Globex", profiles=(Profile("globex", "x", "globexcares", account_id="200"),))


def customer(post_id: str, who: str, minute: float, text: str, reply_to: str | None = None, **kw) -> Post:
    return Post(
        "x", post_id, who, who, at(minute), text, in_reply_to_id=reply_to, mentions=mentions_in(text), **kw
    )


def brand_reply(
    post_id: str,
    minute: float,
    reply_to: str,
    text: str = "Sorry about that, DM us ^JK",
    *,
    account: str = "acmehelp",
    account_id: str = "100",
    **kw,
) -> Post:
    return Post(
        "x",
        post_id,
        account_id,
        account,
        at(minute),
        text,
        in_reply_to_id=reply_to,
        mentions=mentions_in(text),
        **kw,
    )
