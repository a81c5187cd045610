"""Fixed-window rate limits for sign-up and sign-in (per client IP, per email or identifier).

The counts are shared by every instance through the session store's own back-end
(``BFF_SESSION_STORE``), so a limit holds where the product is deployed:

- ``redis://``: :class:`RedisRateLimiter` (one atomic Lua call: ``INCR`` + ``PEXPIRE`` on the
  first hit + ``PTTL``);
- ``dynamodb://``: :class:`~bff.signup.ratelimit_dynamodb.DynamoDBRateLimiter` (the Lambda
  deployment: one atomic ``UpdateItem ADD`` per hit in the sessions table, with a TTL);
- ``sqlite:///``: :class:`~bff.signup.ratelimit_sqlite.SQLiteRateLimiter` (one host: every
  process on the file shares the counts);
- ``memory://`` (tests): :class:`MemoryRateLimiter`, per process (bounded: at most
  ``max_keys`` keys, the oldest windows evicted first).

Keys are hashed (SHA-256, keyed with a per-deployment salt) so neither Redis nor a memory dump
holds email addresses in clear.

:func:`bff.signup.limiters.open_limiter` is how every area (sign-up, sign-in) gets one: the
shared limiter wrapped in :class:`FallbackRateLimiter` (an outage of the shared back-end must not
turn sign-up or sign-in into 500s: the counts continue in this process until it answers again).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import TTLCache

log = logging.getLogger("bff.ratelimit")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window resets (>= 1)


class RateLimiter(Protocol):
    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        """Count one attempt for ``key`` in ``bucket``; ``allowed`` is False past ``limit``."""
        ...

    async def close(self) -> None: ...


def hashed_key(salt: bytes, bucket: str, key: str, prefix: str = "bff:") -> str:
    digest = hmac.new(salt, f"{bucket}\x00{key}".encode(), hashlib.sha256).hexdigest()[:40]
    return f"{prefix}signup:rl:{bucket}:{digest}"


class MemoryRateLimiter:
    def __init__(self, salt: bytes, *, max_keys: int = 100_000, window: int = 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._salt = salt
        self._clock = clock
        # Entries outlive their window by nothing: the TTL is the longest window in use.
        self._counts: TTLCache[str, tuple[int, float]] = TTLCache(maxsize=max_keys, ttl=window, timer=clock)

    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        name = hashed_key(self._salt, bucket, key)
        now = self._clock()
        count, reset_at = self._counts.get(name, (0, 0.0))
        if reset_at <= now:
            count, reset_at = 0, now + window
        count += 1
        self._counts[name] = (count, reset_at)
        return Decision(count <= limit, count, max(1, math.ceil(reset_at - now)))

    async def close(self) -> None:
        return None


_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


class RedisRateLimiter:
    def __init__(self, redis: Any, salt: bytes, *, owns_client: bool = True, prefix: str = "bff:") -> None:
        self._redis = redis
        self._salt = salt
        self._prefix = prefix
        self._owns = owns_client
        self._script = redis.register_script(_LUA)

    @classmethod
    def from_url(cls, url: str, salt: bytes) -> RedisRateLimiter:
        """``url`` is the session store's Redis URL; its ``prefix=`` option (see
        :func:`bff.sessions.redis_target`) namespaces the counters and never reaches redis-py."""
        import redis.asyncio as aioredis

        from bff.sessions import redis_target

        clean, prefix = redis_target(url)
        return cls(aioredis.from_url(clean, socket_timeout=2.0, socket_connect_timeout=2.0), salt,
                   prefix=prefix)

    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        name = hashed_key(self._salt, bucket, key, self._prefix)
        count, ttl_ms = await self._script(keys=[name], args=[window * 1000])
        return Decision(int(count) <= limit, int(count), max(1, math.ceil(int(ttl_ms) / 1000)))

    async def close(self) -> None:
        if self._owns:
            await self._redis.aclose()


class FallbackRateLimiter:
    """The shared limiter, or, for each hit it cannot answer (any error), the local one."""

    def __init__(self, shared: RateLimiter, local: RateLimiter) -> None:
        self.shared = shared
        self.local = local

    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        try:
            return await self.shared.hit(bucket, key, limit=limit, window=window)
        except Exception as exc:
            log.warning("shared rate limiter failed (%s); counting in this process", type(exc).__name__)
            return await self.local.hit(bucket, key, limit=limit, window=window)

    async def close(self) -> None:
        try:
            await self.shared.close()
        finally:
            await self.local.close()
