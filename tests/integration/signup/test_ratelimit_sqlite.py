"""The SQLite rate limiter (issue 12 §2): the processes of one host serving one
``sqlite:///`` session store share one count; the window ends; ``open_limiter`` picks it."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from pathlib import Path

from bff.signup.limiters import open_limiter
from bff.signup.ratelimit import FallbackRateLimiter
from bff.signup.ratelimit_sqlite import SQLiteRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_two_instances_share_one_count(tmp_path: Path) -> None:
    path = str(tmp_path / "sessions.sqlite3")
    clock = Clock()
    a, b = SQLiteRateLimiter(path, b"salt", clock=clock), SQLiteRateLimiter(path, b"salt", clock=clock)
    results = [await (a if i % 2 else b).hit("email", "ada@example.com", limit=3, window=60)
               for i in range(5)]
    assert [r.count for r in results] == [1, 2, 3, 4, 5]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    rows = sqlite3.connect(path).execute("SELECT key FROM bff_rate_limits").fetchall()
    assert len(rows) == 1 and "ada" not in rows[0][0]
    clock.now += 60
    fresh = await a.hit("email", "ada@example.com", limit=3, window=60)
    assert (fresh.count, fresh.allowed, fresh.retry_after) == (1, True, 60)
    await a.close()
    await b.close()


def _hammer(path: str, n: int) -> None:
    async def run() -> None:
        limiter = SQLiteRateLimiter(path, b"salt")
        for _ in range(n):
            await limiter.hit("ip", "198.51.100.7", limit=1000, window=3600)
        await limiter.close()

    asyncio.run(run())


async def test_processes_on_one_file_count_exactly(tmp_path: Path) -> None:
    path = str(tmp_path / "sessions.sqlite3")
    SQLiteRateLimiter(path, b"salt")  # the schema, before the workers race to create it
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_hammer, args=(path, 25)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    last = await SQLiteRateLimiter(path, b"salt").hit("ip", "198.51.100.7", limit=1000, window=3600)
    assert last.count == 76


async def test_open_limiter_uses_the_session_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/sessions.sqlite3"
    limiters = [open_limiter(url, b"salt", window=60) for _ in range(2)]
    assert all(isinstance(limiter, FallbackRateLimiter) and isinstance(limiter.shared, SQLiteRateLimiter)
               for limiter in limiters)
    assert [(await limiters[i % 2].hit("ip", "x", limit=5, window=60)).count for i in range(3)] == [1, 2, 3]
    for limiter in limiters:
        await limiter.close()
