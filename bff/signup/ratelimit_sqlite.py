"""The rate limiter on SQLite: one instance (one host) whose session store is
``sqlite:///path``; every process serving from that file (several uvicorn workers, a restart)
shares the counts, in a table of the same database file::

    bff_rate_limits(key TEXT PRIMARY KEY, n INTEGER, reset_at REAL)

A hit is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement (atomic in SQLite:
writers are serialised by the database lock; ``busy_timeout`` waits for it): a new or expired
key starts a window at 1, a live one counts up. Expired rows are deleted now and then. Keys are
keyed hashes (:func:`~bff.signup.ratelimit.hashed_key`). Calls run on a worker thread.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bff.signup.ratelimit import Decision, hashed_key

_SCHEMA = "CREATE TABLE IF NOT EXISTS bff_rate_limits (key TEXT PRIMARY KEY, n INTEGER NOT NULL, " \
          "reset_at REAL NOT NULL)"
_HIT = """
INSERT INTO bff_rate_limits (key, n, reset_at) VALUES (?1, 1, ?2 + ?3)
ON CONFLICT (key) DO UPDATE SET
    n = CASE WHEN reset_at <= ?2 THEN 1 ELSE n + 1 END,
    reset_at = CASE WHEN reset_at <= ?2 THEN ?2 + ?3 ELSE reset_at END
RETURNING n, reset_at
"""
_PURGE_EVERY = 1000


class SQLiteRateLimiter:
    def __init__(self, path: str, salt: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute(_SCHEMA)
        self._lock = threading.Lock()
        self._salt = salt
        self._clock = clock
        self._hits = 0

    @classmethod
    def from_url(cls, url: str, salt: bytes) -> SQLiteRateLimiter:
        """``url`` is the session store's ``sqlite:///path``."""
        return cls(url.removeprefix("sqlite:///") or ":memory:", salt)

    def _hit(self, name: str, window: int) -> tuple[int, float]:
        now = self._clock()
        with self._lock:
            row = self._conn.execute(_HIT, (name, now, float(window))).fetchone()
            self._hits += 1
            if self._hits % _PURGE_EVERY == 0:
                self._conn.execute("DELETE FROM bff_rate_limits WHERE reset_at <= ?", (now,))
        return int(row[0]), float(row[1])

    async def hit(self, bucket: str, key: str, *, limit: int, window: int) -> Decision:
        name = hashed_key(self._salt, bucket, key)
        count, reset_at = await asyncio.to_thread(self._hit, name, window)
        return Decision(count <= limit, count, max(1, math.ceil(reset_at - self._clock())))

    async def close(self) -> None:
        with self._lock:
            self._conn.close()
