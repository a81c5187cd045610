"""Benchmark: what the durable outbox costs sign-up, and how fast the relay drains it.

    .venv/bin/python benchmarks/bench_outbox.py [--events 300] [--rounds 3]

1. ``Outbox.add`` latency (the only outbox work on the sign-up request path): SQLite (WAL,
   ``synchronous=FULL``, on this machine's disk) against the in-memory outbox as the bare
   baseline.
2. Relay throughput into SNS (moto server on loopback): ``Relay.drain`` (claim, publish, mark
   sent, per entry) against a bare loop of boto3 ``publish`` calls with the same messages.

Prints medians/p95 and ratios. Not a test: figures go to docs/signup.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bff.signup.events import AccountCreated  # noqa: E402
from bff.signup.outbox import MemoryOutbox, Outbox, SqliteOutbox  # noqa: E402
from bff.signup.publisher import SnsPublisher  # noqa: E402
from bff.signup.relay import Relay  # noqa: E402
from tests.integration.signup.moto_topic import REGION, moto_topic  # noqa: E402


def event(n: int) -> AccountCreated:
    return AccountCreated.new(
        user_id=f"00ubench{n:06d}",
        login=f"user{n}@example.com",
        email=f"user{n}@example.com",
        first_name="Zoë",
        last_name="Müller",
        org_id="acme",
        locale="fr-CA",
        source="bff-signup",
    )


async def add_latencies(outbox: Outbox, n: int, offset: int = 0) -> list[float]:
    out = []
    for i in range(n):
        e = event(offset + i)
        t = time.perf_counter()
        await outbox.add(
            id=e.eventId, dedupe_key=f"AccountCreated:{e.userId}", kind=e.eventType, payload=e.to_json()
        )
        out.append((time.perf_counter() - t) * 1e6)
    return out


def summary(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs):8.0f} µs   p95 {xs[int(len(xs) * 0.95) - 1]:8.0f} µs"


async def main(events: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        memory = await add_latencies(MemoryOutbox(), events)
        sqlite_box = SqliteOutbox(Path(d) / "outbox.sqlite3")
        sqlite = await add_latencies(sqlite_box, events)
        await sqlite_box.close()
    print(f"Outbox.add ({events} entries)")
    print(f"  memory (baseline)         {summary(memory)}")
    print(f"  sqlite WAL sync=FULL      {summary(sqlite)}")
    print(f"  ratio sqlite/memory (median): {statistics.median(sqlite) / statistics.median(memory):.1f}x")

    # Alternate bare/relay rounds, each on a fresh moto server (moto slows down as its queues fill).
    bare_rates: list[float] = []
    relay_rates: list[float] = []
    for round_ in range(rounds):
        for kind in ("bare", "relay") if round_ % 2 == 0 else ("relay", "bare"):
            with moto_topic() as moto:
                publisher = SnsPublisher(moto.topic_arn, region=REGION, endpoint_url=moto.url)
                if kind == "bare":
                    msgs = [event(100_000 + i) for i in range(events)]
                    t = time.perf_counter()
                    for e in msgs:
                        await publisher.publish(
                            e.to_json(), e.message_attributes(), dedupe_id=e.eventId, group_id=e.userId
                        )
                    bare_rates.append(events / (time.perf_counter() - t))
                else:
                    with tempfile.TemporaryDirectory() as d:
                        box = SqliteOutbox(Path(d) / "relay.sqlite3")
                        for i in range(events):
                            e = event(200_000 + i)
                            await box.add(
                                id=e.eventId,
                                dedupe_key=f"AccountCreated:{e.userId}",
                                kind=e.eventType,
                                payload=e.to_json(),
                            )
                        relay = Relay(box, publisher, None, batch=50)
                        t = time.perf_counter()
                        sent = await relay.drain()
                        relay_rates.append(events / (time.perf_counter() - t))
                        await box.close()
                        assert sent == events
                publisher.close()
    bare = statistics.median(bare_rates)
    relayed = statistics.median(relay_rates)
    print(f"\nSNS publish to moto on loopback ({events} events, median of {rounds} rounds)")
    print(f"  bare boto3 publish loop   {bare:8.0f} events/s")
    print(f"  Relay.drain (SQLite)      {relayed:8.0f} events/s")
    print(f"  ratio relay/bare: {relayed / bare:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
