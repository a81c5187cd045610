from __future__ import annotations

from bff.signup.ratelimit import MemoryRateLimiter, hashed_key


async def test_fixed_window_with_retry_after() -> None:
    now = [100.0]
    limiter = MemoryRateLimiter(b"salt", window=60, clock=lambda: now[0])
    results = [await limiter.hit("email", "a@b.co", limit=2, window=60) for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert results[2].retry_after == 60
    now[0] += 45
    assert (await limiter.hit("email", "a@b.co", limit=2, window=60)).retry_after == 15
    assert (await limiter.hit("email", "other@b.co", limit=2, window=60)).allowed
    now[0] += 16
    assert (await limiter.hit("email", "a@b.co", limit=2, window=60)).allowed


async def test_memory_is_bounded() -> None:
    limiter = MemoryRateLimiter(b"salt", max_keys=100, window=60)
    for i in range(1000):
        await limiter.hit("ip", f"10.0.{i // 256}.{i % 256}", limit=5, window=60)
    assert len(limiter._counts) <= 100


def test_keys_do_not_hold_the_email() -> None:
    key = hashed_key(b"salt", "email", "ada@example.com")
    assert "ada" not in key and key.startswith("bff:signup:rl:email:")
    assert key != hashed_key(b"other", "email", "ada@example.com")


async def test_the_fallback_counts_locally_only_while_the_shared_limiter_fails() -> None:
    from bff.signup.limiters import open_limiter
    from bff.signup.ratelimit import Decision, FallbackRateLimiter

    class Flaky:
        down = True
        closed = False

        async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
            if self.down:
                raise ConnectionError("redis is down")
            return Decision(True, 1, window)

        async def close(self) -> None:
            self.closed = True

    shared = Flaky()
    local = MemoryRateLimiter(b"salt", window=60)
    limiter = FallbackRateLimiter(shared, local)
    assert [(await limiter.hit("ip", "a", limit=1, window=60)).allowed for _ in range(2)] == [True, False]
    shared.down = False  # back: the shared answer counts again
    assert (await limiter.hit("ip", "a", limit=1, window=60)).allowed
    await limiter.close()
    assert shared.closed
    assert isinstance(open_limiter("memory://", b"salt", window=60), MemoryRateLimiter)  # tests only
    # every shared back-end: tests/integration/signup/test_ratelimit_{redis,dynamodb,sqlite}.py
