"""The Redis rate limiter on the real Redis at 127.0.0.1:6379: two limiters (two BFF instances)
share one budget, the window expires in Redis, and a Redis outage falls back to counting in
the process instead of failing sign-up."""

from __future__ import annotations

import asyncio
import secrets

import redis.asyncio as aioredis

from bff.signup.ratelimit import FallbackRateLimiter, RedisRateLimiter

URL = "redis://127.0.0.1:6379/0"


async def test_two_instances_share_the_budget() -> None:
    a = RedisRateLimiter.from_url(URL, b"salt")
    b = RedisRateLimiter.from_url(URL, b"salt")
    key = f"{secrets.token_hex(8)}@example.com"
    results = [await (a if i % 2 else b).hit("email", key, limit=3, window=60) for i in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.count for r in results] == [1, 2, 3, 4, 5]
    assert 59 <= results[-1].retry_after <= 60
    await a.close()
    await b.close()


async def test_concurrent_hits_are_counted_exactly() -> None:
    limiters = [RedisRateLimiter.from_url(URL, b"salt") for _ in range(4)]
    key = secrets.token_hex(8)
    results = await asyncio.gather(*(limiters[i % 4].hit("ip", key, limit=10, window=60) for i in range(40)))
    assert sorted(r.count for r in results) == list(range(1, 41))
    assert sum(r.allowed for r in results) == 10
    for limiter in limiters:
        await limiter.close()


async def test_the_window_expires() -> None:
    limiter = RedisRateLimiter.from_url(URL, b"salt")
    key = secrets.token_hex(8)
    assert (await limiter.hit("ip", key, limit=1, window=1)).allowed
    assert not (await limiter.hit("ip", key, limit=1, window=1)).allowed
    await asyncio.sleep(1.1)
    assert (await limiter.hit("ip", key, limit=1, window=1)).allowed
    raw = aioredis.from_url(URL)
    keys = [k async for k in raw.scan_iter(match="bff:signup:rl:ip:*")]
    assert keys and all(key.encode() not in k for k in keys)  # hashed, not the raw value
    await raw.aclose()
    await limiter.close()


async def test_a_redis_outage_falls_back_to_counting_in_process() -> None:
    from bff.errors import RateLimited
    from bff.sessions.memory import MemoryStore
    from bff.signup.component import build_limiter
    from bff.signup.invitations import Invitations
    from bff.signup.membership import Membership
    from bff.signup.outbox import MemoryOutbox
    from bff.signup.relay import Relay
    from bff.signup.service import SignupService
    from bff_dev.serving import free_port
    from tests.support.env import make_settings

    settings = make_settings(
        BFF_SESSION_STORE=f"redis://127.0.0.1:{free_port()}/0", BFF_SIGNUP_RATE_PER_IP="2"
    )
    limiter = build_limiter(settings)
    assert isinstance(limiter, FallbackRateLimiter) and isinstance(limiter.shared, RedisRateLimiter)
    outbox = MemoryOutbox()
    service = SignupService(
        settings=settings,
        okta=None,
        outbox=outbox,
        relay=Relay(outbox, None, None),
        limiter=limiter,
        invitations=Membership(Invitations(MemoryStore(), settings.secret_keys), None),
    )
    await service.limit_ip("198.51.100.1")
    await service.limit_ip("198.51.100.1")
    try:
        await service.limit_ip("198.51.100.1")
    except RateLimited as exc:
        assert int(exc.headers["Retry-After"]) > 0
    else:
        raise AssertionError("the fallback limiter did not limit")
    await limiter.close()


async def test_the_store_urls_prefix_option_namespaces_the_counters() -> None:
    """The limiter gets the session store's URL, ``?prefix=`` included (a documented store
    option): it must not reach redis-py (it used to raise TypeError on every hit, silently
    degrading to per-process limits), and two deployments sharing one Redis keep apart."""
    deployment = f"t{secrets.token_hex(4)}:"
    a = RedisRateLimiter.from_url(f"{URL}?prefix={deployment}", b"salt")
    other = RedisRateLimiter.from_url(f"{URL}?prefix=other{deployment}", b"salt")
    key = secrets.token_hex(8)
    assert [(await a.hit("ip", key, limit=1, window=60)).allowed for _ in range(2)] == [True, False]
    assert (await other.hit("ip", key, limit=1, window=60)).allowed  # its own budget
    raw = aioredis.from_url(URL)
    try:
        assert [k async for k in raw.scan_iter(match=f"{deployment}signup:rl:ip:*")]
    finally:
        await raw.aclose()
        await a.close()
        await other.close()
