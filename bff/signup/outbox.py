"""The transactional outbox: events are written here, durably, BEFORE anything is published.

The sign-up handler and the Okta event hook only ``add`` an entry; the relay
(:mod:`bff.signup.relay`) claims due entries, publishes them and marks them sent, or schedules
the next attempt with backoff. So an SNS outage after the Okta user exists costs a delay,
never the event.

* ``dedupe_key`` is UNIQUE: adding a second entry with the same key is a no-op that returns
  False. ``AccountCreated`` uses ``AccountCreated:{okta user id}``, which makes a user created
  by ``/bff/signup`` (and then reported again by Okta's event hook) and a redelivered hook
  event (same ``uuid`` → same user) enter the pipeline once.
* Claims take a lease (``lease_until``) so several processes sharing one SQLite file never
  publish the same entry concurrently; a crashed relay's lease simply runs out.
* Sent entries are kept for :data:`KEEP_SENT` seconds (the deduplication window), then purged.

Back-ends, chosen by ``BFF_OUTBOX``: ``sqlite:///path`` (default; WAL, ``synchronous=FULL``:
an acknowledged ``add`` survives a crash or power loss), ``dynamodb://table`` (shared by every
instance; :mod:`bff.signup.outbox_dynamodb`) and ``memory://`` (tests only: lost on exit).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bff.signup.outbox_entry import KEEP_SENT, OutboxEntry, Status

# The entry is defined apart so the DynamoDB back-end (imported by open_outbox) can use it
# without importing this module back; re-exported here, where callers look for it.
__all__ = ["KEEP_SENT", "MemoryOutbox", "Outbox", "OutboxEntry", "SqliteOutbox", "Status", "open_outbox"]

T = TypeVar("T")

class Outbox(Protocol):
    async def add(self, *, id: str, dedupe_key: str, kind: str, payload: dict[str, Any],
                  needs_enrichment: bool = False) -> bool:
        """Store a new pending entry durably; False (and nothing stored) when ``dedupe_key``
        or ``id`` is already present."""
        ...

    async def claim_due(self, *, now: float, limit: int, lease: float) -> list[OutboxEntry]:
        """Pending entries whose next attempt is due and that nobody holds, leased to the caller."""
        ...

    async def mark_sent(self, id: str, *, now: float) -> None: ...

    async def retry_later(self, id: str, *, next_attempt_at: float, error: str,
                          payload: dict[str, Any] | None = None,
                          needs_enrichment: bool | None = None) -> None:
        """Count a failed attempt, release the lease and schedule the next one."""
        ...

    async def mark_dead(self, id: str, *, error: str) -> None:
        """Give up on an entry that can never be sent (kept for an operator to inspect)."""
        ...

    async def get(self, id: str) -> OutboxEntry | None: ...

    async def counts(self) -> dict[str, int]:
        """Entries per status (``pending``, ``sent``, ``dead``)."""
        ...

    async def next_due_at(self) -> float | None:
        """When the earliest pending entry becomes due (None when nothing is pending)."""
        ...

    async def oldest_pending_at(self) -> float | None:
        """When the oldest pending entry was added (None when nothing is pending)."""
        ...

    async def purge_sent(self, *, before: float) -> int: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------


class MemoryOutbox:
    """In-process outbox for tests: same semantics, no durability."""

    def __init__(self) -> None:
        self._entries: dict[str, OutboxEntry] = {}
        self._keys: dict[str, str] = {}
        self._leases: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def add(self, *, id: str, dedupe_key: str, kind: str, payload: dict[str, Any],
                  needs_enrichment: bool = False) -> bool:
        async with self._lock:
            if dedupe_key in self._keys or id in self._entries:
                return False
            now = time.time()
            self._entries[id] = OutboxEntry(id, dedupe_key, kind, json.loads(json.dumps(payload)),
                                            needs_enrichment, "pending", 0, now, now)
            self._keys[dedupe_key] = id
            return True

    async def claim_due(self, *, now: float, limit: int, lease: float) -> list[OutboxEntry]:
        async with self._lock:
            due = sorted((e for e in self._entries.values()
                          if e.status == "pending" and e.next_attempt_at <= now
                          and self._leases.get(e.id, 0.0) < now), key=lambda e: e.next_attempt_at)[:limit]
            for e in due:
                self._leases[e.id] = now + lease
            return due

    def _update(self, id: str, **changes: Any) -> None:
        entry = self._entries.get(id)
        if entry is not None:
            self._entries[id] = replace(entry, **changes)
        self._leases.pop(id, None)

    async def mark_sent(self, id: str, *, now: float) -> None:
        async with self._lock:
            self._update(id, status="sent", sent_at=now, last_error=None)

    async def retry_later(self, id: str, *, next_attempt_at: float, error: str,
                          payload: dict[str, Any] | None = None,
                          needs_enrichment: bool | None = None) -> None:
        async with self._lock:
            entry = self._entries.get(id)
            if entry is None:
                return
            enrich = entry.needs_enrichment if needs_enrichment is None else needs_enrichment
            self._update(id, attempts=entry.attempts + 1, next_attempt_at=next_attempt_at, last_error=error,
                         payload=entry.payload if payload is None else payload, needs_enrichment=enrich)

    async def mark_dead(self, id: str, *, error: str) -> None:
        async with self._lock:
            entry = self._entries.get(id)
            if entry is not None:
                self._update(id, status="dead", attempts=entry.attempts + 1, last_error=error)

    async def get(self, id: str) -> OutboxEntry | None:
        return self._entries.get(id)

    async def counts(self) -> dict[str, int]:
        out = {"pending": 0, "sent": 0, "dead": 0}
        for e in self._entries.values():
            out[e.status] += 1
        return out

    async def next_due_at(self) -> float | None:
        due = [e.next_attempt_at for e in self._entries.values() if e.status == "pending"]
        return min(due) if due else None

    async def oldest_pending_at(self) -> float | None:
        added = [e.created_at for e in self._entries.values() if e.status == "pending"]
        return min(added) if added else None

    async def purge_sent(self, *, before: float) -> int:
        async with self._lock:
            gone = [e for e in self._entries.values() if e.status == "sent" and (e.sent_at or 0) < before]
            for e in gone:
                del self._entries[e.id]
                self._keys.pop(e.dedupe_key, None)
            return len(gone)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id               TEXT PRIMARY KEY,
    dedupe_key       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    needs_enrichment INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       REAL NOT NULL,
    next_attempt_at  REAL NOT NULL,
    lease_until      REAL NOT NULL DEFAULT 0,
    sent_at          REAL,
    last_error       TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
"""

_COLUMNS = ("id, dedupe_key, kind, payload, needs_enrichment, status, attempts, created_at, "
            "next_attempt_at, sent_at, last_error")


def _row(row: tuple[Any, ...]) -> OutboxEntry:
    return OutboxEntry(id=row[0], dedupe_key=row[1], kind=row[2], payload=json.loads(row[3]),
                       needs_enrichment=bool(row[4]), status=row[5], attempts=row[6], created_at=row[7],
                       next_attempt_at=row[8], sent_at=row[9], last_error=row[10])


class SqliteOutbox:
    """The durable default. One connection, used from worker threads under a lock so the event
    loop never waits on disk; ``BEGIN IMMEDIATE`` makes claims atomic across processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.executescript(_SCHEMA)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            with self._lock:
                return fn(self._conn)
        return await asyncio.to_thread(call)

    async def add(self, *, id: str, dedupe_key: str, kind: str, payload: dict[str, Any],
                  needs_enrichment: bool = False) -> bool:
        now = time.time()
        body = json.dumps(payload, separators=(",", ":"))

        def insert(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO outbox (id, dedupe_key, kind, payload, needs_enrichment, created_at, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (id, dedupe_key, kind, body, int(needs_enrichment), now, now))
            return cur.rowcount == 1

        return await self._run(insert)

    async def claim_due(self, *, now: float, limit: int, lease: float) -> list[OutboxEntry]:
        def claim(conn: sqlite3.Connection) -> list[OutboxEntry]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "  # noqa: S608
                    "AND lease_until < ? ORDER BY next_attempt_at LIMIT ?", (now, now, limit)).fetchall()
                conn.executemany("UPDATE outbox SET lease_until = ? WHERE id = ?",
                                 [(now + lease, r[0]) for r in rows])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return [_row(r) for r in rows]

        return await self._run(claim)

    async def mark_sent(self, id: str, *, now: float) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = 0, last_error = NULL WHERE id = ?",
            (now, id)))

    async def retry_later(self, id: str, *, next_attempt_at: float, error: str,
                          payload: dict[str, Any] | None = None,
                          needs_enrichment: bool | None = None) -> None:
        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
                "lease_until = 0, payload = COALESCE(?, payload), "
                "needs_enrichment = COALESCE(?, needs_enrichment) WHERE id = ?",
                (next_attempt_at, error[:500],
                 None if payload is None else json.dumps(payload, separators=(",", ":")),
                 None if needs_enrichment is None else int(needs_enrichment), id))

        await self._run(update)

    async def mark_dead(self, id: str, *, error: str) -> None:
        await self._run(lambda c: c.execute(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, lease_until = 0 "
            "WHERE id = ?", (error[:500], id)))

    async def get(self, id: str) -> OutboxEntry | None:
        def select(conn: sqlite3.Connection) -> OutboxEntry | None:
            row = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (id,)).fetchone()  # noqa: S608
            return _row(row) if row else None

        return await self._run(select)

    async def counts(self) -> dict[str, int]:
        def count(conn: sqlite3.Connection) -> dict[str, int]:
            out = {"pending": 0, "sent": 0, "dead": 0}
            for status, n in conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"):
                out[status] = n
            return out

        return await self._run(count)

    async def next_due_at(self) -> float | None:
        def first(conn: sqlite3.Connection) -> float | None:
            row = conn.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'").fetchone()
            return float(row[0]) if row and row[0] is not None else None

        return await self._run(first)

    async def oldest_pending_at(self) -> float | None:
        def oldest(conn: sqlite3.Connection) -> float | None:
            row = conn.execute("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'").fetchone()
            return float(row[0]) if row and row[0] is not None else None

        return await self._run(oldest)

    async def purge_sent(self, *, before: float) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            cur = conn.execute("DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?", (before,))
            return cur.rowcount

        return await self._run(purge)

    async def ping(self) -> bool:
        def check(conn: sqlite3.Connection) -> bool:
            return bool(conn.execute("SELECT 1").fetchone() == (1,))

        return await self._run(check)

    async def close(self) -> None:
        await self._run(lambda c: c.close())


def open_outbox(url: str, *, region: str = "eu-west-1", endpoint_url: str | None = None) -> Outbox:
    """``sqlite:///relative/or/absolute/path``, ``dynamodb://table`` or ``memory://``. A DynamoDB
    table is created when the endpoint is local (moto); in AWS it must exist (docs/signup.md)."""
    if url.startswith("memory://"):
        return MemoryOutbox()
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return SqliteOutbox(url.removeprefix("sqlite:///"))
    if url.startswith("dynamodb://") and len(url) > len("dynamodb://"):
        from bff.signup import aws
        from bff.signup.outbox_dynamodb import DynamoDBOutbox, ensure_table

        table = url.removeprefix("dynamodb://").strip("/")
        client = aws.client("dynamodb", region=region, endpoint_url=endpoint_url)
        if aws.is_local(endpoint_url):
            ensure_table(client, table)
        return DynamoDBOutbox(client, table)
    raise ValueError(f"BFF_OUTBOX must be sqlite:///path, dynamodb://table or memory://, got {url!r}")
