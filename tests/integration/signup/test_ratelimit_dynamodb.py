"""The DynamoDB rate limiter against moto in server mode (issue 12 §2): two limiters (two
Lambda execution environments) share one count through the sessions table, the window ends and
starts afresh, and ``open_limiter`` picks it for a ``dynamodb://`` session store. (No
concurrent-hits test: moto's writes are not atomic under concurrent requests; DynamoDB's
``ADD`` is.)"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bff.sessions.dynamodb import ensure_table
from bff.signup.limiters import open_limiter
from bff.signup.ratelimit import FallbackRateLimiter
from bff.signup.ratelimit_dynamodb import DynamoDBRateLimiter
from tests.integration.sessions.conftest import AWS_REGION, FAKE_KEY, dynamodb_client
from tests.integration.sessions.conftest import moto_endpoint as moto_endpoint  # noqa: F401 (fixture)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(moto_endpoint: str) -> Iterator[tuple[Any, str]]:  # noqa: F811
    client = dynamodb_client(moto_endpoint)
    name = f"sessions-{uuid.uuid4().hex[:12]}"
    ensure_table(client, name)
    yield client, name
    client.delete_table(TableName=name)


def _limiter(client: Any, name: str, clock: Clock) -> DynamoDBRateLimiter:
    return DynamoDBRateLimiter(client, name, b"salt", clock=clock)


async def test_two_instances_share_one_count(table: tuple[Any, str]) -> None:
    client, name = table
    clock = Clock()
    a, b = _limiter(client, name, clock), _limiter(client, name, clock)
    key = f"{secrets.token_hex(8)}@example.com"
    results = [await (a if i % 2 else b).hit("email", key, limit=3, window=60) for i in range(5)]
    assert [r.count for r in results] == [1, 2, 3, 4, 5]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert results[-1].retry_after == 60
    items = client.scan(TableName=name)["Items"]
    assert len(items) == 1 and items[0]["pk"]["S"].startswith("rl#")
    assert key not in str(items)  # hashed, never the email
    assert int(items[0]["ttl"]["N"]) >= clock.now + 60  # DynamoDB's TTL deletes it later
    await a.close()
    await b.close()


async def test_the_window_ends_and_the_next_starts_at_one(table: tuple[Any, str]) -> None:
    client, name = table
    clock = Clock()
    a, b = _limiter(client, name, clock), _limiter(client, name, clock)
    assert (await a.hit("ip", "k", limit=1, window=10)).allowed
    assert not (await b.hit("ip", "k", limit=1, window=10)).allowed
    clock.now += 9.5
    assert (await b.hit("ip", "k", limit=1, window=10)).retry_after == 1
    clock.now += 0.5  # the window is over (the item may linger: TTL is lazy)
    fresh = await b.hit("ip", "k", limit=1, window=10)
    assert fresh.allowed and fresh.count == 1 and fresh.retry_after == 10
    assert (await a.hit("ip", "k", limit=1, window=10)).count == 2
    await a.close()
    await b.close()


async def test_open_limiter_uses_the_session_table(table: tuple[Any, str], moto_endpoint: str,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client, name = table
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_KEY)
    limiters = [open_limiter(f"dynamodb://{name}", b"salt", window=60, region=AWS_REGION,
                             endpoint_url=moto_endpoint) for _ in range(2)]
    assert all(isinstance(limiter, FallbackRateLimiter) and isinstance(limiter.shared, DynamoDBRateLimiter)
               for limiter in limiters)
    counts = [(await limiters[i % 2].hit("ip", "198.51.100.1", limit=2, window=60)).count for i in range(3)]
    assert counts == [1, 2, 3]  # one count, not one per instance
    for limiter in limiters:
        await limiter.close()
