"""Eviction fan-out between BFF instances, and webhook de-duplication.

A webhook reaches ONE instance; every instance holds its own fragment cache. With Redis
configured (``BFF_CACHE_BUS``, or a ``redis://`` session store) the receiving instance applies
the eviction locally and publishes it on a pub/sub channel; the others apply it on receipt.
If the subscription drops, an instance cannot know what it missed, so on reconnect it marks its
whole cache for re-fetch (stale copy stays usable if AEM fails).

De-duplication of events (``source`` + ``id``) is shared through Redis too (``SET NX`` with a
TTL longer than Adobe's 24 h redelivery window); without Redis it is per instance.

The Redis URL may carry the BFF's own ``?prefix=`` option (documented for ``BFF_SESSION_STORE``,
which the bus falls back to). It is removed before redis-py sees the URL (redis-py would pass it
to its connections as a keyword argument and fail) and namespaces the channel and the
de-duplication keys, so two deployments sharing one Redis neither evict each other's caches nor
swallow each other's events. The default prefix ``bff:`` gives the historical names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import cachetools
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bff.config import ConfigError
from bff.errors import Unavailable

log = logging.getLogger("bff.content.bus")

DEFAULT_PREFIX = "bff:"
CHANNEL_SUFFIX = "content:evict"
DEDUPE_SUFFIX = "content:event:"
CHANNEL = DEFAULT_PREFIX + CHANNEL_SUFFIX  # with the default prefix
DEDUPE_PREFIX = DEFAULT_PREFIX + DEDUPE_SUFFIX
DEDUPE_TTL = 3 * 24 * 3600
#: Query options of a Redis URL that belong to the BFF (see ``bff.sessions.open_store``), not
#: to redis-py. Everything else in the query is left for redis-py to interpret.
OWN_OPTIONS = frozenset({"prefix"})
_WHERE = "BFF_CACHE_BUS (or the redis:// BFF_SESSION_STORE it defaults to)"


@dataclass(frozen=True)
class BusTarget:
    url: str  # the URL without the BFF's own options: what redis-py sees
    prefix: str  # namespace of the channel and the de-duplication keys

    @property
    def channel(self) -> str:
        return self.prefix + CHANNEL_SUFFIX

    @property
    def dedupe_prefix(self) -> str:
        return self.prefix + DEDUPE_SUFFIX


def parse_bus_url(url: str) -> BusTarget:
    """Split the BFF's own options (``prefix=``, the last one wins, as in ``open_store``) off a
    Redis URL. The other query items are kept verbatim, in order. Raises ConfigError for an
    empty prefix; the message never repeats the URL (it may carry a password)."""
    parts = urlsplit(url)
    prefix = DEFAULT_PREFIX
    kept: list[str] = []
    for item in parts.query.split("&") if parts.query else []:
        name, _, value = item.partition("=")
        if unquote_plus(name) in OWN_OPTIONS:
            prefix = unquote_plus(value)
        elif item:
            kept.append(item)
    if not prefix:
        raise ConfigError([f"{_WHERE}: prefix= must not be empty"])
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))
    return BusTarget(clean, prefix)

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
    """Evictions over Redis pub/sub; de-duplication with ``SET NX EX``.

    ``url`` may carry ``?prefix=`` (default ``bff:``): the channel is ``{prefix}content:evict``
    and the de-duplication keys ``{prefix}content:event:{source} {id}``."""

    def __init__(self, url: str, apply: Apply, *, channel: str | None = None) -> None:
        target = parse_bus_url(url)
        self.url = target.url
        self.prefix = target.prefix
        self.apply = apply
        self.channel = channel or target.channel
        self.dedupe_prefix = target.dedupe_prefix
        self.origin = secrets.token_hex(8)
        self.client_name = f"bff-content-bus-{self.origin}"  # visible in CLIENT LIST
        try:
            self.redis: aioredis.Redis = aioredis.from_url(
                target.url, socket_timeout=5, socket_connect_timeout=5, client_name=self.client_name)
            # redis-py hands unknown query options to its connections as keyword arguments,
            # which fails only when a connection is made (mid-request or at shutdown). Build one
            # (no I/O) now, so a bad option stops start-up with one clear line instead.
            pool = self.redis.connection_pool
            pool.connection_class(**pool.connection_kwargs)
        except (TypeError, ValueError) as exc:
            reason = str(exc).rpartition("argument ")[2] if isinstance(exc, TypeError) else str(exc)
            raise ConfigError([f"{_WHERE}: unsupported Redis URL option ({reason})"]) from None
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
            return bool(await self.redis.set(self.dedupe_prefix + key, b"1", nx=True, ex=DEDUPE_TTL))
        except RedisError as exc:
            raise Unavailable("The cache bus (Redis) is unreachable", code="cache_bus_unavailable") from exc

    async def release_event(self, key: str) -> None:
        with contextlib.suppress(RedisError):
            await self.redis.delete(self.dedupe_prefix + key)

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
            except Exception:
                # Never let the listener die silently: this instance would stop hearing evictions.
                self._subscribed.clear()
                log.exception("content bus: the Redis listener failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        """Stop listening and close the connections. Never raises: shutdown must complete."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("content bus: the Redis listener had failed")
        try:
            await self.redis.aclose()
        except Exception as exc:
            log.warning("content bus: closing the Redis connections failed (%s)", type(exc).__name__)
