"""The Instagram connector over a body the real Graph API sent to python-facebook's maintainer.

(tests/fixtures/instagram/real/SOURCE.md.) The recording of ``/{ig-user-id}/tags`` has no
``paging`` key at all and, asked for fewer fields than the connector asks, no ``username``.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

import responses

from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.instagram import InstagramConnector
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "instagram" / "real"
DOC = Path(__file__).parents[2] / "fixtures" / "instagram"
BASE = "https://graph.facebook.com/v21.0"
ACCOUNT = "17841406338772941"  # the maintainer's account the recordings were made with
BRAND = Profile(brand_id="acme", platform="instagram", handle="ikroskun", account_id=ACCOUNT)


def epoch(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def test_recorded_tags_without_paging_are_openers_addressed_to_the_brand(
    rsps: responses.RequestsMock,
) -> None:
    body = (REAL / "user_tags.json").read_text(encoding="utf-8")
    media = json.loads(body)["data"]
    now = parse_instant("2021-03-17T00:00:00Z")
    rsps.get(f"{BASE}/{ACCOUNT}/media", body=(DOC / "user_media.empty.json").read_text())
    rsps.get(f"{BASE}/{ACCOUNT}/tags", body=body)
    http = PlatformHttp(BRAND.key, sleep=lambda s: None, clock=lambda: now, rng=random.Random(1))

    result = InstagramConnector(BRAND, http, {"access_token": "t"}, lookback_seconds=3 * 86400).fetch({})

    assert "paging" not in json.loads(body)
    window = [m for m in media if epoch(m["timestamp"]) >= now - 3 * 86400]
    assert {p.post_id for p in result.posts} == {m["id"] for m in window} and len(window) == 2
    for item in window:
        post = next(p for p in result.posts if p.post_id == item["id"])
        assert post.author_id == f"anonymous:{item['id']}"  # no username in the recording
        assert post.created_at == epoch(item["timestamp"])
        assert post.text == item.get("caption", "")
        assert (post.in_reply_to_id, post.conversation_id, post.url) == (None, item["id"], item["permalink"])
        assert post.mentions[0] == "ikroskun"
    assert len(rsps.calls) == 2  # no next page asked for
