"""Eviction fan-out between BFF instances, and webhook de-duplication.

A webhook reaches ONE instance; every instance holds its own fragment cache. With Redis
configured (``BFF_CACHE_BUS``, or a ``redis://`` session store) the receiving instance applies
the eviction locally and publishes it on a pub/sub channel; the others apply it on receipt.
If the subscription drops, an instance cannot know what it missed, so on reconnect it marks its
whole cache for re-fetch (stale copy stays usable if AEM fails).

De-duplication of events (``source`` + ``id``) is shared through Redis too (``SET NX`` with a
TTL longer than Adobe's 24 h redelivery window); without Redis it is per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

import cachetools
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bff.errors import Unavailable

log = logging.getLogger("bff.content.bus")

CHANNEL = "bff:content:evict"
DEDUPE_PREFIX = "bff:content:event:"
DEDUPE_TTL = 3 * 24 * 3600

Apply = Callable[[str | None, str | None], int]


class EvictionBus(Protocol):
    async def publish(self, journey: str | None, locale: str | None) -> None: ...

    async def claim_event(self, key: str) -> bool:
        """True the first time ``key`` is seen (within the de-duplication window)."""
        ...

    async def release_event(self, key: str) -> None:
        """Forget ``key`` (its processing failed: the redelivery must be accepted)."""
        ...

    async def aclose(self) -> None: ...


class LocalBus:
    """One instance: evictions apply in-process; de-duplication in memory."""

    def __init__(self, apply: Apply, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.apply = apply
        self._seen: cachetools.TTLCache[str, bool] = cachetools.TTLCache(100_000, DEDUPE_TTL, timer=clock)

    async def publish(self, journey: str | None, locale: str | None) -> None:
        self.apply(journey, locale)

    async def claim_event(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = True
        return True

    async def release_event(self, key: str) -> None:
        self._seen.pop(key, None)

    async def aclose(self) -> None:
        return None


class RedisBus:
    """Evictions over Redis pub/sub; de-duplication with ``SET NX EX``."""

    def __init__(self, url: str, apply: Apply, *, channel: str = CHANNEL) -> None:
        self.url = url
        self.apply = apply
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.client_name = f"bff-content-bus-{self.origin}"  # visible in CLIENT LIST
        self.redis: aioredis.Redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                                       client_name=self.client_name)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.received = 0

    async def start(self, *, wait: float = 5.0) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="content-bus")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._subscribed.wait()
        if not self._subscribed.is_set():
            log.warning("content bus: not subscribed to Redis yet; evictions from other instances "
                        "will arrive once it is")

    async def publish(self, journey: str | None, locale: str | None) -> None:
        self.apply(journey, locale)
        message = json.dumps({"journey": journey, "locale": locale, "origin": self.origin})
        try:
            await self.redis.publish(self.channel, message)
        except RedisError as exc:
            raise Unavailable("The cache bus (Redis) is unreachable", code="cache_bus_unavailable") from exc

    async def claim_event(self, key: str) -> bool:
        try:
            return bool(await self.redis.set(DEDUPE_PREFIX + key, b"1", nx=True, ex=DEDUPE_TTL))
        except RedisError as exc:
            raise Unavailable("The cache bus (Redis) is unreachable", code="cache_bus_unavailable") from exc

    async def release_event(self, key: str) -> None:
        with contextlib.suppress(RedisError):
            await self.redis.delete(DEDUPE_PREFIX + key)

    def _on_message(self, data: Any) -> None:
        try:
            msg = json.loads(data)
            if msg.get("origin") == self.origin:
                return
            journey, locale = msg.get("journey"), msg.get("locale")
            if not all(v is None or isinstance(v, str) for v in (journey, locale)):
                return
        except (ValueError, AttributeError):
            log.warning("content bus: ignoring a malformed message")
            return
        self.received += 1
        self.apply(journey, locale)

    async def _listen(self) -> None:
        delay = 0.5
        first = True
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not first:
                    # Evictions published while we were disconnected are lost: re-fetch everything.
                    count = self.apply(None, None)
                    log.warning("content bus: resubscribed; marked %d cached fragments for re-fetch", count)
                first = False
                self._subscribed.set()
                delay = 0.5
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.warning("content bus: Redis subscription lost (%s); retrying in %.1fs",
                            type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.redis.aclose()
