"""Client wrappers for store tests: see every call, or make DynamoDB refuse part of a batch."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest


class SpyClient:
    """Passes every call to the real client and counts it by operation name."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target) or name.startswith("_") or name in ("get_waiter", "can_paginate"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            self.requests.append((name, kwargs))
            return target(*args, **kwargs)

        return call


class UnprocessingClient(SpyClient):
    """batch_write_item leaves all but the first request unprocessed for its first ``failures`` calls."""

    def __init__(self, client: Any, failures: int) -> None:
        super().__init__(client)
        self.failures = failures

    def batch_write_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls["batch_write_item"] += 1
        self.requests.append(("batch_write_item", kwargs))
        if self.failures <= 0:
            return self._client.batch_write_item(**kwargs)
        self.failures -= 1
        ((table, requests),) = kwargs["RequestItems"].items()
        done = dict(kwargs, RequestItems={table: requests[:1]})
        self._client.batch_write_item(**done)
        return {"UnprocessedItems": {table: requests[1:]} if requests[1:] else {}}


@pytest.fixture
def spy(dynamodb: Any, table: str) -> SpyClient:
    return SpyClient(dynamodb)
