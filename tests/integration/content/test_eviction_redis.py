"""Eviction reaches every BFF instance: two app instances share the real Redis at
127.0.0.1:6379; a webhook delivered to one evicts the copy in both, and de-duplication is shared."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

from bff.content.bus import DEDUPE_PREFIX, RedisBus
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import HOOK_SECRET, REDIS_URL, aem_env, bff
from tests.support.env import make_settings


def now_iso() -> str:
    """A CloudEvents ``time`` inside the hook's replay window."""
    return dt.datetime.now(dt.UTC).isoformat()


def event(path: str) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "time": now_iso(),
        "id": str(uuid.uuid4()),
        "source": f"urn:test:{uuid.uuid4()}",
        "type": "aem.sites.contentFragment.published",
        "data": {"path": path},
    }


HEADERS = {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/cloudevents+json"}


async def wait_for(predicate: Callable[[], bool], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (polling another component's state)
            await asyncio.sleep(0.02)


async def test_a_webhook_on_one_instance_evicts_on_both(aem: AemTwin) -> None:
    settings = make_settings(**aem_env(aem), BFF_CACHE_BUS=REDIS_URL)
    async with bff(settings) as a, bff(settings) as b:
        bus_a: RedisBus = a.app.state.services.content.bus  # type: ignore[attr-defined]
        bus_b: RedisBus = b.app.state.services.content.bus  # type: ignore[attr-defined]
        assert isinstance(bus_a, RedisBus) and bus_a.origin != bus_b.origin
        for client in (a, b):
            doc = (await client.get("/bff/content/signin?locale=en")).json()
            assert doc["strings"]["title"] == "Sign in"
        assert (await b.get("/bff/content/signin?locale=en")).json()["source"] == "cache"

        aem.set_copy("publish", "en", "signin", {**doc["strings"], "title": "Sign in (v2)"})
        e = event("/content/dam/bff/en/ui-copy/signin")
        r = await a.post("/bff/hooks/aem", content=json.dumps(e), headers=HEADERS)
        assert r.status_code == 200 and r.json()["evicted"] == [{"journey": "signin", "locale": "en"}]

        await wait_for(lambda: bus_b.received >= 1)
        for client in (a, b):
            doc = (await client.get("/bff/content/signin?locale=en")).json()
            assert doc["strings"]["title"] == "Sign in (v2)" and doc["source"] == "aem"

        # Adobe redelivers the same event to the OTHER instance: shared de-duplication skips it.
        again = await b.post("/bff/hooks/aem", content=json.dumps(e), headers=HEADERS)
        assert again.json()["duplicates"] == 1 and again.json()["evicted"] == []

        admin = aioredis.from_url(REDIS_URL)
        try:
            keys = [k async for k in admin.scan_iter(match=DEDUPE_PREFIX + "*")]
            assert keys
            for key in keys[:5]:
                assert 0 < await admin.ttl(key) <= 3 * 24 * 3600
        finally:
            await admin.aclose()


async def test_resubscribing_marks_the_cache_for_refetch(aem: AemTwin) -> None:
    settings = make_settings(**aem_env(aem), BFF_CACHE_BUS=REDIS_URL)
    async with bff(settings) as a:
        bus: RedisBus = a.app.state.services.content.bus  # type: ignore[attr-defined]
        await a.get("/bff/content/common?locale=fr")
        calls = aem.count("publish", journey="common")
        # Kill the subscriber's connection from the server side; it must reconnect and, having
        # possibly missed evictions, mark everything for re-fetch.
        admin = aioredis.from_url(REDIS_URL)
        try:
            mine = [c for c in await admin.client_list(_type="pubsub") if c.get("name") == bus.client_name]
            assert len(mine) == 1
            await admin.client_kill_filter(_id=mine[0]["id"])
        finally:
            await admin.aclose()
        await wait_for(lambda: not bus._subscribed.is_set(), 3.0)  # noqa: SLF001
        await wait_for(lambda: bus._subscribed.is_set(), 5.0)  # noqa: SLF001
        await a.get("/bff/content/common?locale=fr")
        assert aem.count("publish", journey="common") > calls
