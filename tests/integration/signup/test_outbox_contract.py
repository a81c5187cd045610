"""One contract for every outbox back-end (memory, SQLite on disk, DynamoDB on moto server),
plus what only the durable ones promise: an acknowledged entry survives a reopen, and two
processes (or two instances) sharing the outbox never claim the same entry."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from bff.signup.outbox import MemoryOutbox, Outbox, SqliteOutbox, open_outbox
from bff.signup.outbox_dynamodb import DynamoDBOutbox
from bff_dev.serving import free_port


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Outbox]:
    box: Outbox
    if request.param == "memory":
        box = MemoryOutbox()
    elif request.param == "sqlite":
        box = SqliteOutbox(tmp_path / "outbox.sqlite3")
    else:
        url = request.getfixturevalue("moto_url")
        box = open_outbox(f"dynamodb://outbox-{secrets.token_hex(4)}", region="eu-west-1", endpoint_url=url)
        assert isinstance(box, DynamoDBOutbox)
    yield box
    await box.close()


async def add(box: Outbox, n: int, key: str | None = None) -> bool:
    return await box.add(
        id=f"e{n}",
        dedupe_key=key or f"k{n}",
        kind="AccountCreated",
        payload={"eventId": f"e{n}", "n": n, "name": "Zoë ✓"},
    )


async def test_add_is_idempotent_by_dedupe_key_and_id(outbox: Outbox) -> None:
    assert await add(outbox, 1)
    assert not await add(outbox, 1)
    assert not await add(outbox, 2, key="k1")  # same dedupe key, other id
    assert not await outbox.add(id="e1", dedupe_key="fresh", kind="AccountCreated", payload={})
    assert await outbox.counts() == {"pending": 1, "sent": 0, "dead": 0}
    entry = await outbox.get("e1")
    assert entry is not None and entry.payload == {"eventId": "e1", "n": 1, "name": "Zoë ✓"}
    assert entry.status == "pending" and entry.attempts == 0


async def test_claims_lease_entries(outbox: Outbox) -> None:
    for n in range(5):
        await add(outbox, n)
    now = time.time() + 1
    first = await outbox.claim_due(now=now, limit=3, lease=30)
    second = await outbox.claim_due(now=now, limit=10, lease=30)
    assert len(first) == 3 and len(second) == 2
    assert not {e.id for e in first} & {e.id for e in second}
    assert await outbox.claim_due(now=now, limit=10, lease=30) == []
    again = await outbox.claim_due(now=now + 31, limit=10, lease=30)  # a crashed relay's lease ran out
    assert len(again) == 5


async def test_sent_retry_dead_and_purge(outbox: Outbox) -> None:
    for n in range(3):
        await add(outbox, n)
    now = time.time() + 1
    await outbox.claim_due(now=now, limit=10, lease=30)
    await outbox.mark_sent("e0", now=now)
    await outbox.retry_later(
        "e1",
        next_attempt_at=now + 100,
        error="SNS down",
        payload={"eventId": "e1", "x": 1},
        needs_enrichment=False,
    )
    await outbox.mark_dead("e2", error="user gone")
    assert await outbox.counts() == {"pending": 1, "sent": 1, "dead": 1}
    assert await outbox.next_due_at() == pytest.approx(now + 100)
    assert await outbox.claim_due(now=now + 50, limit=10, lease=30) == []
    (due,) = await outbox.claim_due(now=now + 100, limit=10, lease=30)
    assert due.id == "e1" and due.attempts == 1 and due.last_error == "SNS down" and due.payload["x"] == 1
    sent = await outbox.get("e0")
    assert sent is not None and sent.status == "sent" and sent.sent_at == now
    assert not await add(outbox, 0)  # a sent entry still deduplicates
    assert await outbox.purge_sent(before=now + 1) == 1
    assert await add(outbox, 0)  # ... until it is purged
    assert await outbox.ping()


async def test_sqlite_entries_survive_a_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'outbox.sqlite3'}"
    box = open_outbox(url)
    assert await add(box, 1)
    await box.close()
    reopened = open_outbox(url)
    assert isinstance(reopened, SqliteOutbox)
    assert await reopened.counts() == {"pending": 1, "sent": 0, "dead": 0}
    assert not await add(reopened, 1)
    await reopened.close()


def _claim_in_process(path: str, queue: multiprocessing.Queue[list[str]]) -> None:
    async def run() -> list[str]:
        box = SqliteOutbox(path)
        claimed: list[str] = []
        for _ in range(20):
            claimed += [e.id for e in await box.claim_due(now=time.time() + 1, limit=3, lease=60)]
        await box.close()
        return claimed

    queue.put(asyncio.run(run()))


async def test_two_processes_never_claim_the_same_entry(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    box = SqliteOutbox(path)
    for n in range(60):
        await add(box, n)
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[str]] = ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(path, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [await asyncio.to_thread(queue.get, True, 60) for _ in procs]
    for p in procs:
        await asyncio.to_thread(p.join, 30)
    claimed = results[0] + results[1]
    assert len(claimed) == 60 and len(set(claimed)) == 60
    await box.close()


async def test_dynamodb_instances_share_entries_and_claims(moto_url: str) -> None:
    table = f"outbox-{secrets.token_hex(4)}"
    a = open_outbox(f"dynamodb://{table}", region="eu-west-1", endpoint_url=moto_url)
    b = open_outbox(f"dynamodb://{table}", region="eu-west-1", endpoint_url=moto_url)
    for n in range(10):
        assert await add(a, n)
    assert not await add(b, 3)  # the dedupe key is shared
    now = time.time() + 1
    # Interleaved, not concurrent: moto's server runs requests on threads and evaluates a
    # ConditionExpression apart from the write (no table lock), so two concurrent conditional
    # updates can both win there — real DynamoDB makes them atomic. What this test holds is the
    # condition itself: an entry leased by one instance is not claimable by the other.
    claims = [await box.claim_due(now=now, limit=4, lease=30) for box in (a, b, a, b, a, b)]
    claimed = [e.id for batch in claims for e in batch]
    assert sorted(claimed) == sorted(f"e{n}" for n in range(10))  # each exactly once
    assert claims[0] and claims[1]  # both instances took part
    assert not await b.claim_due(now=now, limit=10, lease=30)  # all leased: nothing left to claim
    await a.close()
    await b.close()


@pytest.mark.parametrize("url", ["postgres://x", "sqlite:///", "dynamodb://"])
def test_unknown_scheme_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        open_outbox(url)
