"""Which rate limiter a deployment gets: the session store's back-end decides
(:mod:`bff.signup.ratelimit` explains each)."""

from __future__ import annotations

from bff.signup.ratelimit import FallbackRateLimiter, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bff.signup.ratelimit_dynamodb import DynamoDBRateLimiter
from bff.signup.ratelimit_sqlite import SQLiteRateLimiter


def open_limiter(store_url: str, salt: bytes, *, window: int, region: str = "eu-west-1",
                 endpoint_url: str | None = None) -> RateLimiter:
    """The limiter for a deployment whose session store is ``store_url``: shared through the
    same back-end (Redis, DynamoDB in ``region``/``endpoint_url``, SQLite), with the in-process
    fallback; ``memory://``: in this process only."""
    local = MemoryRateLimiter(salt, window=window)
    if store_url.startswith(("redis://", "rediss://")):
        return FallbackRateLimiter(RedisRateLimiter.from_url(store_url, salt), local)
    if store_url.startswith("dynamodb://"):
        table = store_url.removeprefix("dynamodb://").split("?", 1)[0].strip("/")
        return FallbackRateLimiter(DynamoDBRateLimiter.connect(table, salt, region=region,
                                                               endpoint_url=endpoint_url), local)
    if store_url.startswith("sqlite:///"):
        return FallbackRateLimiter(SQLiteRateLimiter.from_url(store_url, salt), local)
    return local
