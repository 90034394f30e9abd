"""The X connector over bodies the real X API v2 sent to another project (tests/fixtures/x/real).

Every normalised field is checked against the raw JSON of the recording, read independently
here, so the test does not share the connector's reading of the payload. Shapes no public
recording was found for (includes-section errors, ``previous_token``, escaped text) are below
with documentation-shaped bodies; see tests/fixtures/x/real/SOURCE.md.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from responsegap.connectors.base import AccountUnavailable
from responsegap.connectors.x import XConnector
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "x" / "real"
BASE = "https://api.x.com/2"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAsecret-bearer-XYZ"
# The recordings were made on 2021-06-02 and 2022-06-03; the clock sits just after them.
RECORDED = parse_instant("2021-06-02T21:15:24Z")


def raw(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def body(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())


def connector(make_http, profile: Profile, now: int = RECORDED) -> XConnector:
    http = make_http(profile)
    http.clock = lambda: now
    return XConnector(profile, http, {"bearer_token": TOKEN})


SUSPENDED = Profile(brand_id="acme", platform="x", handle="acmehelp", account_id="45648666")


def test_a_suspended_brand_account_fails_the_poll_naming_the_profile(rsps, make_http) -> None:
    # X answers 200 with only errors[] when the account in the path is suspended: not a quiet week.
    rsps.get(f"{BASE}/users/45648666/mentions", body=body("users_id_mentions.suspended_45648666.json"))

    with pytest.raises(AccountUnavailable) as caught:
        connector(make_http, SUSPENDED).fetch({})

    error = caught.value
    assert error.profile_key == "x#acmehelp" and error.account_id == "45648666"
    assert str(error).startswith("x#acmehelp: account 45648666 is unavailable")
    assert raw("users_id_mentions.suspended_45648666.json")["errors"][0]["detail"] in error.reason
    assert TOKEN not in str(error)
    assert len(rsps.calls) == 1  # the brand timeline is not read for an account that is gone


def test_the_same_error_about_another_account_stays_item_level(rsps, make_http) -> None:
    # The rule is about the brand's own account: an id error naming someone else is one resource.
    other = Profile(brand_id="acme", platform="x", handle="otherhelp", account_id="1000")
    rsps.get(f"{BASE}/users/1000/mentions", body=body("users_id_mentions.suspended_45648666.json"))
    rsps.get(f"{BASE}/users/1000/tweets", json={"meta": {"result_count": 0}})

    result = connector(make_http, other).fetch({})

    assert result.posts == ()


def test_recorded_mention_is_normalised_field_by_field(rsps, make_http) -> None:
    brand = Profile(brand_id="orgcom", platform="x", handle="orgcominthenews", account_id="956624418")
    rsps.get(f"{BASE}/users/956624418/mentions", body=body("users_id_mentions.956624418.json"))
    rsps.get(f"{BASE}/users/956624418/tweets", body=body("users_id_tweets.956624418.json"))

    result = connector(make_http, brand).fetch({})

    page = raw("users_id_mentions.956624418.json")
    item = page["data"][0]
    users = {u["id"]: u["username"] for u in page["includes"]["users"]}
    [post] = result.posts
    assert post.post_id == item["id"]
    assert (post.author_id, post.author_handle) == (item["author_id"], users[item["author_id"]].lower())
    assert post.created_at == epoch(item["created_at"])
    assert post.text == item["text"]  # nothing escaped in this one
    assert post.conversation_id == item["conversation_id"]
    assert (post.in_reply_to_id, post.in_reply_to_author_id) == (None, None)  # not a reply
    assert post.mentions[0] == "orgcominthenews"  # addressed to the brand
    assert post.application == item["source"]
    # meta.newest_id of each timeline becomes its since_id
    assert result.cursor == {
        "mentions_since_id": page["meta"]["newest_id"],
        "tweets_since_id": raw("users_id_tweets.956624418.json")["meta"]["newest_id"],
    }


def test_reposts_in_a_recorded_brand_timeline_are_not_answers(rsps, make_http) -> None:
    # academictwitteR asked without exclude=retweets: the brand's three reposts came back.
    brand = Profile(brand_id="orgcom", platform="x", handle="orgcominthenews", account_id="956624418")
    rsps.get(f"{BASE}/users/956624418/mentions", json={"meta": {"result_count": 0}})
    rsps.get(f"{BASE}/users/956624418/tweets", body=body("users_id_tweets.956624418.json"))

    result = connector(make_http, brand).fetch({})

    timeline = raw("users_id_tweets.956624418.json")["data"]
    assert all(ref["type"] == "retweeted" for item in timeline for ref in item["referenced_tweets"])
    assert result.posts == ()
    assert result.cursor["tweets_since_id"] == max(item["id"] for item in timeline)
