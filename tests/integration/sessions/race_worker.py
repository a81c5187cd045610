"""Runs in a separate OS process (multiprocessing, spawn) for the cross-process race tests:
opens its own store on the shared back-end and, round by round in lockstep with the other
processes (a Barrier), tries to take the same lock and the same one-use transaction."""

from __future__ import annotations

import asyncio
from typing import Any

from bff.sessions.redis import RedisStore
from bff.sessions.sqlite import SQLiteStore
from bff.sessions.store import SessionStore


def _open(kind: str, target: str) -> SessionStore:
    if kind == "sqlite":
        return SQLiteStore(target)
    prefix, _, url = target.partition("|")
    return RedisStore.from_url(url, prefix=prefix)


async def _race(kind: str, target: str, rounds: int, barrier: Any) -> list[tuple[bool, bytes | None, bool]]:
    store = _open(kind, target)
    results: list[tuple[bool, bytes | None, bool]] = []
    try:
        await store.ping()  # connect before the first round
        for i in range(rounds):
            barrier.wait(timeout=60)
            token = await store.acquire_lock(f"race-lock-{i}", 60)
            barrier.wait(timeout=60)
            value = await store.take_transaction(f"race-tx-{i}")
            barrier.wait(timeout=60)
            claimed = await store.claim_once(f"race-once-{i}", 60)
            results.append((token is not None, value, claimed))
    finally:
        await store.close()
    return results


def race(kind: str, target: str, rounds: int, barrier: Any, out: Any, name: str) -> None:
    try:
        out.put((name, asyncio.run(_race(kind, target, rounds, barrier))))
    except BaseException as exc:  # report instead of hanging the parent
        barrier.abort()
        out.put((name, repr(exc)))
        raise
