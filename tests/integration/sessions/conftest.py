"""Back-ends for the session-store contract: memory, SQLite (tmp file), Redis (the real server at
127.0.0.1:6379, a unique key prefix per test, only that prefix flushed) and DynamoDB (boto3
against one moto server per test session, a fresh table per test)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from moto.server import ThreadedMotoServer
from redis.asyncio import Redis

from bff.sessions.dynamodb import DynamoDBStore, ensure_table
from bff.sessions.memory import MemoryStore
from bff.sessions.redis import RedisStore
from bff.sessions.sqlite import SQLiteStore
from bff.sessions.store import SessionStore
from bff_dev.serving import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
AWS_REGION = "eu-west-1"
FAKE_KEY = "testing"  # moto accepts any credentials


class Clock:
    """Real time plus an offset: real sleeps advance it, ``advance`` jumps it forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Backend:
    name: str
    store: SessionStore
    clock: Clock
    holds: Callable[[str], Awaitable[bool]]  # does the back-end still physically hold this session?
    make: Callable[[], SessionStore]  # another store on the same data (another "instance")
    indexed: Callable[[str], Awaitable[set[str]]]  # the session ids the back-end's per-user index holds


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def dynamodb_client(endpoint: str) -> Any:
    return boto3.client("dynamodb", region_name=AWS_REGION, endpoint_url=endpoint,
                        aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A unique key prefix; afterwards every key under it (and only those) is deleted."""
    prefix = f"bff-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["memory", "sqlite", "redis", "dynamodb"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    clock = Clock()
    name = request.param
    stores: list[SessionStore] = []
    cleanup: list[Callable[[], Awaitable[None]]] = []

    if name == "memory":
        memory = MemoryStore(clock=clock)

        def make() -> SessionStore:
            return memory

        async def holds(sid: str) -> bool:
            return sid in memory._sessions

        async def indexed(user: str) -> set[str]:
            return set(memory._by_user.get(user, set()))

    elif name == "sqlite":
        path = tmp_path / "nested" / "dir" / "sessions.sqlite3"

        def make() -> SessionStore:
            return SQLiteStore(path, clock=clock)

        async def holds(sid: str) -> bool:
            with sqlite3.connect(path) as conn:
                return conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is not None

        async def indexed(user: str) -> set[str]:
            with sqlite3.connect(path) as conn:  # the sessions_by_user index answers this
                return {r[0] for r in conn.execute(
                    "SELECT id FROM sessions INDEXED BY sessions_by_user WHERE user_id = ?", (user,))}

    elif name == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        peek = Redis.from_url(REDIS_URL)
        cleanup.append(peek.aclose)

        def make() -> SessionStore:
            return RedisStore.from_url(REDIS_URL, prefix=prefix, clock=clock)

        async def holds(sid: str) -> bool:
            return bool(await peek.exists(f"{prefix}s:{sid}"))

        async def indexed(user: str) -> set[str]:
            return {m.decode() for m in await peek.smembers(f"{prefix}u:{user}")}

    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        client = dynamodb_client(endpoint)
        table = f"sessions-{uuid.uuid4().hex[:12]}"
        ensure_table(client, table)

        def make() -> SessionStore:
            return DynamoDBStore.connect(table, region=AWS_REGION, endpoint_url=endpoint, clock=clock,
                                         aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY)

        async def holds(sid: str) -> bool:
            return "Item" in client.get_item(TableName=table, Key={"pk": {"S": f"session#{sid}"}})

        async def indexed(user: str) -> set[str]:
            items = client.query(TableName=table, IndexName="by_user_id",
                                 KeyConditionExpression="user_id = :u",
                                 ExpressionAttributeValues={":u": {"S": user}})["Items"]
            return {i["pk"]["S"].removeprefix("session#") for i in items}

        async def drop() -> None:
            client.delete_table(TableName=table)

        cleanup.append(drop)

    def tracked() -> SessionStore:
        store = make()
        stores.append(store)
        return store

    yield Backend(name=name, store=tracked(), clock=clock, holds=holds, make=tracked, indexed=indexed)
    for store in {id(s): s for s in stores}.values():
        await store.close()
    for step in cleanup:
        await step()
