"""The cache bus on a session-store URL carrying the documented ``?prefix=`` option (real Redis
at 127.0.0.1:6379): redis-py never sees the option (it used to crash on publish and at
shutdown), and the prefix namespaces the channel and the de-duplication keys, so deployments
sharing one Redis neither evict each other's caches nor swallow each other's events."""

from __future__ import annotations

import asyncio
import json
import uuid

import redis.asyncio as aioredis

from bff.content.bus import RedisBus
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import REDIS_URL, aem_env, bff
from tests.integration.content.test_eviction_redis import HEADERS, event, wait_for
from tests.support.env import make_settings


async def test_the_session_store_prefix_namespaces_the_bus(aem: AemTwin) -> None:
    ours, theirs = f"t{uuid.uuid4().hex[:8]}:", f"t{uuid.uuid4().hex[:8]}:"
    # No BFF_CACHE_BUS: the bus falls back to the Redis session store, ?prefix= included.
    mine = make_settings(**aem_env(aem), BFF_SESSION_STORE=f"{REDIS_URL}?prefix={ours}")
    other = make_settings(**aem_env(aem), BFF_SESSION_STORE=f"{REDIS_URL}?prefix={theirs}")
    assert mine.content.bus_url is not None and "prefix=" in mine.content.bus_url
    admin = aioredis.from_url(REDIS_URL)
    try:
        async with bff(mine) as a, bff(mine) as b, bff(other) as c:
            buses: list[RedisBus] = [x.app.state.services.content.bus  # type: ignore[attr-defined]
                                     for x in (a, b, c)]
            bus_a, bus_b, bus_c = buses
            assert bus_a.channel == bus_b.channel == f"{ours}content:evict"
            assert bus_c.channel == f"{theirs}content:evict"
            assert "prefix" not in bus_a.url and bus_a.url == REDIS_URL
            subscribers = dict(await admin.pubsub_numsub(bus_a.channel, bus_c.channel))
            assert subscribers == {bus_a.channel.encode(): 2, bus_c.channel.encode(): 1}

            for client in (a, b, c):
                doc = (await client.get("/bff/content/signin?locale=en")).json()
                assert doc["strings"]["title"] == "Sign in"

            aem.set_copy("publish", "en", "signin", {**doc["strings"], "title": "Sign in (v2)"})
            e = event("/content/dam/bff/en/ui-copy/signin")
            r = await a.post("/bff/hooks/aem", content=json.dumps(e), headers=HEADERS)
            assert r.status_code == 200, r.text
            assert r.json()["evicted"] == [{"journey": "signin", "locale": "en"}]

            await wait_for(lambda: bus_b.received >= 1)
            assert (await b.get("/bff/content/signin?locale=en")).json()["strings"]["title"] == "Sign in (v2)"
            await asyncio.sleep(0.3)  # time for a stray message to reach the other deployment
            assert bus_c.received == 0
            stale = (await c.get("/bff/content/signin?locale=en")).json()
            assert stale["strings"]["title"] == "Sign in" and stale["source"] == "cache"

            # De-duplication is per deployment: the same event is news to the other one...
            r = await c.post("/bff/hooks/aem", content=json.dumps(e), headers=HEADERS)
            assert r.json()["duplicates"] == 0
            assert r.json()["evicted"] == [{"journey": "signin", "locale": "en"}]
            # ...and a redelivery within a deployment is still a duplicate.
            r = await b.post("/bff/hooks/aem", content=json.dumps(e), headers=HEADERS)
            assert r.json()["duplicates"] == 1
            for prefix in (ours, theirs):
                assert [k async for k in admin.scan_iter(match=f"{prefix}content:event:*")]
        # Leaving the block closed all three buses: no exception at shutdown.
        assert all(bus._task is not None and bus._task.done() for bus in buses)  # noqa: SLF001
    finally:
        for prefix in (ours, theirs):
            keys = [k async for k in admin.scan_iter(match=f"{prefix}*")]
            if keys:
                await admin.delete(*keys)
        await admin.aclose()


async def test_a_bus_url_with_the_prefix_publishes_and_closes_cleanly() -> None:
    # The reported crash, reduced: publish and shutdown with ?prefix= in the URL.
    seen: list[tuple[str | None, str | None]] = []
    prefix = f"t{uuid.uuid4().hex[:8]}:"

    def apply(journey: str | None, locale: str | None) -> int:
        seen.append((journey, locale))
        return 1

    sender = RedisBus(f"{REDIS_URL}?prefix={prefix}", apply)
    receiver = RedisBus(f"{REDIS_URL}?prefix={prefix}", apply)
    await sender.start()
    await receiver.start()
    try:
        await sender.publish("common", "fr")
        await wait_for(lambda: receiver.received == 1)
        assert seen == [("common", "fr"), ("common", "fr")]
        assert await sender.claim_event("urn:x 1") is True
        assert await receiver.claim_event("urn:x 1") is False
        await receiver.release_event("urn:x 1")
        assert await sender.claim_event("urn:x 1") is True
        assert await sender.redis.exists(f"{prefix}content:event:urn:x 1") == 1
        await sender.release_event("urn:x 1")
    finally:
        await sender.aclose()
        await receiver.aclose()
