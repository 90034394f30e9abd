"""The comparison can fail: a run that loses, adds or alters a post is caught."""

from __future__ import annotations

from typing import Any

from tests.faults.conftest import diff
from tests.faults.harness import FakeX, Hooks, parse_instant


def test_a_lost_a_doubled_and_an_altered_post_are_each_detected(reference, faulty) -> None:
    expected = reference()
    sabotaged: list[str] = []

    def observe(now: int, stack: Any) -> None:
        if now < parse_instant("2026-11-23T12:50:00Z") or sabotaged:
            return
        posts, _, _ = stack.snapshot()
        first, second = sorted(posts)[:2]
        stack.dynamodb.delete_item(
            TableName="responsegap-faults", Key={"pk": posts[first]["pk"], "sk": posts[first]["sk"]}
        )
        changed = dict(posts[second], text={"S": "tampered"})
        stack.dynamodb.put_item(TableName="responsegap-faults", Item=changed)
        doubled = dict(posts[second], sk={"S": posts[second]["sk"]["S"] + "x"})
        stack.dynamodb.put_item(TableName="responsegap-faults", Item=doubled)
        sabotaged.extend([first, second])

    result = faulty(FakeX(), Hooks(observe=observe))
    found = diff(result, expected)
    assert found["lost"] == [sabotaged[0]]
    assert found["changed"] == [sabotaged[1]]
    assert len(found["extra"]) == 1
    assert found["figures"]  # one customer post fewer, one counted twice
