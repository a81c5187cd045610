"""The fragment cache: TTL, stale-while-revalidate with ONE refresh, stale-if-error, bundled
fallback, single-flight cold keys, hold-off after failures, eviction."""

from __future__ import annotations

import asyncio

import pytest

from bff.content.aem import Fragment
from bff.content.cache import FragmentCache, Key
from bff.errors import BadGateway, Unavailable

KEY = Key("signin", "en", "master")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    def __init__(self) -> None:
        self.calls = 0
        self.version = 1
        self.fail: Exception | None = None
        self.delay = 0.0
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: Key) -> Fragment | None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return Fragment(
            f"/content/dam/bff/{key.locale}/ui-copy/{key.journey}",
            "master",
            key.journey,
            {"title": f"v{self.version}"},
        )


def make(upstream: Upstream, clock: Clock, **kw: float) -> FragmentCache:
    opts = {"ttl": 60.0, "stale_ttl": 600.0, "wait_budget": 1.0, "holdoff": 5.0, **kw}
    return FragmentCache(upstream, clock=clock, **opts)  # type: ignore[arg-type]


def title(entry: object) -> str:
    return entry.fragment.strings["title"]  # type: ignore[attr-defined,no-any-return]


async def test_cold_then_fresh() -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    entry, source = await cache.get(KEY)
    assert source == "aem" and title(entry) == "v1"
    clock.now += 59
    entry, source = await cache.get(KEY)
    assert source == "cache" and up.calls == 1
    assert cache.fresh(KEY) is entry


async def test_single_flight_for_a_cold_key() -> None:
    up, clock = Upstream(), Clock()
    up.gate = asyncio.Event()
    cache = make(up, clock)
    waiters = [asyncio.create_task(cache.get(KEY)) for _ in range(100)]
    await asyncio.sleep(0)
    up.gate.set()
    results = await asyncio.gather(*waiters)
    assert up.calls == 1
    assert {source for _, source in results} == {"aem"}
    assert len({id(entry) for entry, _ in results}) == 1


async def test_stale_while_revalidate_runs_one_background_refresh() -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    await cache.get(KEY)
    up.version, up.gate = 2, asyncio.Event()
    clock.now += 61
    results = await asyncio.gather(*(cache.get(KEY) for _ in range(50)))
    assert {source for _, source in results} == {"stale"}
    assert {title(e) for e, _ in results} == {"v1"}  # served at once, not waiting for AEM
    up.gate.set()
    await asyncio.sleep(0.01)
    assert up.calls == 2  # exactly one refresh for 50 stale hits
    entry, source = await cache.get(KEY)
    assert source == "cache" and title(entry) == "v2"


async def test_stale_if_error_then_dropped_after_the_stale_window() -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    await cache.get(KEY)
    up.fail = Unavailable("down")
    clock.now += 61
    entry, source = await cache.get(KEY)
    assert source == "stale" and title(entry) == "v1"
    await asyncio.sleep(0.01)  # the background refresh failed; stale stays
    entry, source = await cache.get(KEY)
    assert source == "stale" and title(entry) == "v1"
    clock.now += 700  # beyond ttl + stale_ttl: the copy is gone, AEM still down
    entry, source = await cache.get(KEY)
    assert entry is None and source == "bundled"


async def test_nothing_cached_and_aem_down_means_bundled() -> None:
    up, clock = Upstream(), Clock()
    up.fail = BadGateway("200 with errors", code="aem_query_error")
    cache = make(up, clock)
    assert await cache.get(KEY) == (None, "bundled")
    assert len(cache) == 0  # the failure is never cached as content


async def test_a_failed_key_is_held_off_then_retried() -> None:
    up, clock = Upstream(), Clock()
    up.fail = Unavailable("down")
    cache = make(up, clock, holdoff=5.0)
    assert (await cache.get(KEY))[1] == "bundled"
    up.fail = None
    assert (await cache.get(KEY))[1] == "bundled"  # within the hold-off: no call
    assert up.calls == 1
    clock.now += 5.1
    entry, source = await cache.get(KEY)
    assert source == "aem" and title(entry) == "v1" and up.calls == 2


async def test_a_slow_cold_fetch_is_served_bundled_and_fills_the_cache_later() -> None:
    up, clock = Upstream(), Clock()
    up.delay = 0.2
    cache = make(up, clock, wait_budget=0.05)
    assert await cache.get(KEY) == (None, "bundled")
    await asyncio.sleep(0.3)
    entry, source = await cache.get(KEY)
    assert source == "cache" and title(entry) == "v1" and up.calls == 1


async def test_no_fragment_is_an_answer_and_is_cached() -> None:
    clock = Clock()
    calls = 0

    async def none(key: Key) -> Fragment | None:
        nonlocal calls
        calls += 1
        return None

    cache = FragmentCache(none, ttl=60, stale_ttl=60, clock=clock)
    entry, source = await cache.get(KEY)
    assert source == "aem" and entry is not None and entry.fragment is None
    assert (await cache.get(KEY))[1] == "cache" and calls == 1


async def test_eviction_refetches_in_the_foreground_but_keeps_the_old_copy_for_errors() -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    await cache.get(KEY)
    await cache.get(Key("signin", "fr", "master"))
    await cache.get(Key("common", "en", "master"))
    assert cache.evict("signin", "en") == 1
    up.version = 2
    entry, source = await cache.get(KEY)
    assert source == "aem" and title(entry) == "v2"  # the new copy at once, no stale round
    assert cache.evict("signin", None) == 2
    up.fail = Unavailable("down")
    entry, source = await cache.get(KEY)
    assert source == "stale" and title(entry) == "v2"
    assert cache.fresh(Key("common", "en", "master")) is not None


async def test_serials_change_with_each_fetch() -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    first, _ = await cache.get(KEY)
    cache.evict()
    second, _ = await cache.get(KEY)
    assert first is not None and second is not None and first.serial != second.serial


async def test_aclose_cancels_background_work() -> None:
    up, clock = Upstream(), Clock()
    up.gate = asyncio.Event()
    cache = make(up, clock, wait_budget=0.01)
    await cache.get(KEY)
    await cache.aclose()
    assert not cache._tasks  # noqa: SLF001


@pytest.mark.parametrize("maxsize", [2])
async def test_bounded(maxsize: int) -> None:
    up, clock = Upstream(), Clock()
    cache = make(up, clock)
    cache = FragmentCache(up, ttl=60, stale_ttl=60, clock=clock, maxsize=maxsize)
    for locale in ("en", "fr", "de", "es"):
        await cache.get(Key("signin", locale, "master"))
    assert len(cache) == maxsize


async def test_an_eviction_during_a_fetch_forces_another_fetch() -> None:
    # The publish event can overtake a fetch that started before the publish: AEM may answer
    # with the old copy. That answer is served, but must not count as fresh.
    up, clock = Upstream(), Clock()
    up.gate = asyncio.Event()
    cache = make(up, clock)
    waiter = asyncio.create_task(cache.get(KEY))
    await asyncio.sleep(0)
    assert cache.evict("signin", "en") == 0  # nothing stored yet, but the fetch is in flight
    up.gate.set()
    entry, source = await waiter
    assert source == "aem" and title(entry) == "v1"
    up.version = 2
    entry, source = await cache.get(KEY)
    assert source == "aem" and title(entry) == "v2" and up.calls == 2
    assert (await cache.get(KEY))[1] == "cache"


async def test_the_failure_memo_is_bounded_during_an_outage() -> None:
    """Issue 12 §3: 6,000 requests for distinct keys while AEM is down once left 18,000 entries
    in the hold-off memo; it is bounded like the cache and its entries end with the hold-off."""
    up, clock = Upstream(), Clock()
    up.fail = Unavailable("AEM down")
    cache = FragmentCache(up, ttl=60, stale_ttl=60, clock=clock, maxsize=100, holdoff=5.0)
    for n in range(2000):
        entry, source = await cache.get(Key("signin", "en", f"v{n}"))
        assert (entry, source) == (None, "bundled")
    assert len(cache._failed_until) <= 100  # noqa: SLF001
    clock.now += 6
    assert len(cache._failed_until) == 0  # noqa: SLF001
    # the hold-off still works for the keys it holds
    before = up.calls
    await cache.get(Key("signin", "en", "again"))
    await cache.get(Key("signin", "en", "again"))
    assert up.calls == before + 1
