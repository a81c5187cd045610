"""SQLite session store (``sqlite:///path``): the embedded default for one host.

Survives a restart and is safe for several processes sharing one file (e.g. several uvicorn
workers): the database runs in WAL mode (readers never block the writer), every operation
that must be atomic is ONE SQL statement (an upsert guarded by ``WHERE``, or ``DELETE ...
RETURNING``), and the rare multi-statement work (schema, purge) runs inside ``BEGIN
IMMEDIATE``. SQLite's own file locks then make locks, one-use transactions and conditional
replaces atomic across processes; ``busy_timeout`` makes a contended writer wait instead of
failing.

Writes, and every other multi-row or locking call, run on one dedicated thread per store (the
event loop never waits for a writer); that connection lives on that thread only. The session
read of every request is a primary-key lookup that WAL mode lets run beside any writer, so it
runs on the event loop on a second connection with no busy timeout (~10 us for a page-cached
row, against ~250 us of CPU for a trip to a thread under load), and while ``PRAGMA
data_version`` says no connection committed since, a row already read is answered again
without the SELECT (so a session ended by any process is still refused on the next request);
when the read cannot proceed at once (the database is busy or not created yet) it joins the
batched trip to the thread.
Expired rows are ignored on read and purged every few minutes. ``synchronous=NORMAL`` (the WAL
recommendation): a crash of the process loses nothing; a power cut may lose the last few
commits, never corrupts the file.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bff.sessions.store import SessionExists, SessionRecord, StoreUnavailable

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_SCHEMA_VERSION = 1
_READ_CHUNK = 500  # ids per SELECT ... IN (...) of a batched read (SQLite allows 32,766 variables)
_BATCH_SELECT = ("SELECT id, user_id, idp_sid, created_at, expires_at, version, data FROM sessions "
                 "WHERE id IN ({}) AND expires_at > ?")
_SELECT_ONE = ("SELECT id, user_id, idp_sid, created_at, expires_at, version, data FROM sessions "
               "WHERE id = ? AND expires_at > ?")
# The per-user index is ``sessions_by_user`` (below): each of these is one index range, never a
# scan of the table (tests/unit/sessions/test_sqlite_plans.py asks SQLite's query planner).
_COLUMNS = "id, user_id, idp_sid, created_at, expires_at, version, data"
_FORGET_EXPIRED_OF = "DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?"
_SESSIONS_OF = (f"SELECT {_COLUMNS} FROM sessions WHERE user_id = ? AND expires_at > ? "  # noqa: S608 (constants)
                "ORDER BY created_at, id")
_END_SESSIONS = (f"DELETE FROM sessions WHERE user_id = ? AND (? IS NULL OR id <> ?) "  # noqa: S608 (constants)
                 "AND (? IS NULL OR idp_sid = ?) AND (? IS NULL OR created_at < ?) "
                 f"RETURNING {_COLUMNS}")
_PURGE_EVERY = 600.0
_ROWS_MEMO = 4096  # rows the loop's reader keeps while the database is unchanged


class _Deferred:
    """The loop's read could not answer at once: the thread's batched read will."""


_DEFER = _Deferred()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    idp_sid TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    version INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_by_idp_sid ON sessions (idp_sid) WHERE idp_sid IS NOT NULL;
CREATE TABLE IF NOT EXISTS kv (
    kind TEXT NOT NULL,          -- 'tx' (one-use transaction) | 'lock' | 'once'
    key TEXT NOT NULL,
    value BLOB NOT NULL,         -- the transaction value, the lock token, or b''
    expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
# Insert or take over an expired row, atomically: the row is written only when no live one exists.
_CLAIM = ("INSERT INTO kv (kind, key, value, expires_at) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
          "WHERE kv.expires_at <= ?")


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")


def _record(row: tuple[str, str, str | None, float, float, int, bytes]) -> SessionRecord:
    return SessionRecord(id=row[0], user_id=row[1], idp_sid=row[2], created_at=row[3],
                         expires_at=row[4], version=row[5], data=bytes(row[6]))


class SQLiteStore:
    """A :class:`~bff.sessions.store.SessionStore` in one SQLite file (parent dirs created,
    file mode 0600)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time,
                 busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bff-sqlite")
        self._conn: sqlite3.Connection | None = None  # touched only on the executor's thread
        self._last_purge = 0.0
        self._closed = False
        self._reads: list[tuple[str, asyncio.Future[SessionRecord | None]]] | None = None  # this turn's
        self._reader: sqlite3.Connection | None = None  # the event loop's read-only use
        self._read_version: int | None = None  # the reader's PRAGMA data_version of _rows
        self._rows: dict[str, SessionRecord | None] = {}  # read at _read_version

    # -- plumbing ----------------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the session store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._connection())
        except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreUnavailable(f"SQLite session store {self.path.name}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        now = self._clock()
        if now - self._last_purge > _PURGE_EVERY:
            self._last_purge = now
            self._purge(self._conn, now)
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Create it owner-only before SQLite does (SQLite's -wal/-shm files copy this mode).
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != _SCHEMA_VERSION:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    # one statement at a time: executescript() would COMMIT behind our back
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: float) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM kv WHERE expires_at <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- sessions ----------------------------------------------------------------------------

    def _read_now(self, session_id: str) -> SessionRecord | None | _Deferred:
        """The session read on the calling (event loop) thread, or :data:`_DEFER` when it cannot
        be answered at once (no database file yet, busy, or any SQLite error: the thread's
        path then answers, and reports real failures as StoreUnavailable)."""
        conn = self._reader
        try:
            if conn is None:
                if self._conn is None and not self.path.exists():
                    return _DEFER  # the writer's thread creates the file and the schema
                conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA busy_timeout = 0")
                conn.execute("PRAGMA mmap_size = 67108864")  # page reads without a read() each
                self._reader = conn
            # PRAGMA data_version changes whenever any other connection (this store's writer,
            # another process) committed: while it stands still, the rows read since are current.
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            now = self._clock()
            if version != self._read_version:
                self._read_version = version
                self._rows.clear()
            elif session_id in self._rows:
                known = self._rows[session_id]
                if known is None or known.expires_at > now:
                    return known
            row = conn.execute(_SELECT_ONE, (session_id, now)).fetchone()
        except sqlite3.Error:
            return _DEFER
        found = _record(row) if row is not None else None
        if len(self._rows) >= _ROWS_MEMO:
            self._rows.clear()
        self._rows[session_id] = found
        return found

    async def get(self, session_id: str) -> SessionRecord | None:
        # The hot path (every proxied request): on the loop when it can be (see the module
        # docstring). Otherwise, since a trip to the store's thread costs ~250 us of CPU under
        # load (future, thread wake-up, GIL hand-over), the deferred reads of one event-loop
        # turn share ONE trip: the first caller schedules the batch, the others join it.
        if self._closed:
            raise StoreUnavailable("the session store is closed")
        found = self._read_now(session_id)
        if not isinstance(found, _Deferred):
            return found
        loop = asyncio.get_running_loop()
        batch = self._reads
        if batch is None:
            batch = self._reads = []
            loop.call_soon(self._read_batch, loop, batch)
        future: asyncio.Future[SessionRecord | None] = loop.create_future()
        batch.append((session_id, future))
        return await future

    def _read_batch(self, loop: asyncio.AbstractEventLoop,
                    batch: list[tuple[str, asyncio.Future[SessionRecord | None]]]) -> None:
        self._reads = None
        ids = list({session_id for session_id, _ in batch})
        now = self._clock()

        def op(c: sqlite3.Connection) -> dict[str, SessionRecord]:
            found: dict[str, SessionRecord] = {}
            for start in range(0, len(ids), _READ_CHUNK):
                chunk = ids[start:start + _READ_CHUNK]
                sql = _BATCH_SELECT.format(",".join("?" * len(chunk)))  # only placeholders are inserted
                for row in c.execute(sql, (*chunk, now)):
                    found[row[0]] = _record(row)
            return found

        def deliver(done: asyncio.Future[dict[str, SessionRecord]]) -> None:
            error = done.exception() if not done.cancelled() else StoreUnavailable("session read cancelled")
            for session_id, future in batch:
                if future.done():  # the caller went away
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result().get(session_id))

        try:
            trip = loop.run_in_executor(self._executor, self._call, op)
        except RuntimeError as exc:  # the executor was shut down (store closed meanwhile)
            trip = loop.create_future()
            trip.set_exception(StoreUnavailable(f"the session store is closed ({exc})"))
        trip.add_done_callback(deliver)

    async def create(self, record: SessionRecord) -> None:
        now = self._clock()
        r = record

        def op(c: sqlite3.Connection) -> int:
            return c.execute(
                "INSERT INTO sessions (id, user_id, idp_sid, created_at, expires_at, version, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, idp_sid = excluded.idp_sid, "
                "created_at = excluded.created_at, expires_at = excluded.expires_at, "
                "version = excluded.version, data = excluded.data WHERE sessions.expires_at <= ?",
                (r.id, r.user_id, r.idp_sid, r.created_at, r.expires_at, r.version, r.data, now),
            ).rowcount

        if await self._run(op) != 1:
            raise SessionExists("a live session already has this id")

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        if record.version != expected_version + 1:
            raise ValueError("record.version must be expected_version + 1")
        now = self._clock()
        r = record

        def op(c: sqlite3.Connection) -> int:
            return c.execute(
                "UPDATE sessions SET user_id = ?, idp_sid = ?, created_at = ?, expires_at = ?, "
                "version = ?, data = ? WHERE id = ? AND version = ? AND expires_at > ?",
                (r.user_id, r.idp_sid, r.created_at, r.expires_at, r.version, r.data, r.id,
                 expected_version, now),
            ).rowcount

        return await self._run(op) == 1

    async def delete(self, session_id: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM sessions WHERE id = ?", (session_id,)))

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        if user_id is None and idp_sid is None:
            raise ValueError("delete_for needs user_id or idp_sid")
        now = self._clock()

        def op(c: sqlite3.Connection) -> int:
            rows = c.execute("DELETE FROM sessions WHERE user_id = ? OR idp_sid = ? RETURNING expires_at",
                             (user_id, idp_sid)).fetchall()
            return sum(1 for (expires_at,) in rows if expires_at > now)

        return await self._run(op)

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        now = self._clock()

        def op(c: sqlite3.Connection) -> list[SessionRecord]:
            c.execute(_FORGET_EXPIRED_OF, (user_id, now))
            return [_record(row) for row in c.execute(_SESSIONS_OF, (user_id, now))]

        return await self._run(op)

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        now = self._clock()

        def op(c: sqlite3.Connection) -> list[SessionRecord]:
            c.execute(_FORGET_EXPIRED_OF, (user_id, now))
            rows = c.execute(_END_SESSIONS, (user_id, keep, keep, idp_sid, idp_sid, created_before,
                                             created_before)).fetchall()
            return sorted((r for r in map(_record, rows) if r.expires_at > now),
                          key=lambda r: (r.created_at, r.id))

        return await self._run(op)

    # -- one-use transactions, locks, claim_once --------------------------------------------

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None:
        _check_ttl(ttl)
        expires_at = self._clock() + ttl
        await self._run(lambda c: c.execute(
            "INSERT OR REPLACE INTO kv (kind, key, value, expires_at) VALUES ('tx', ?, ?, ?)",
            (key, bytes(value), expires_at)))

    async def take_transaction(self, key: str) -> bytes | None:
        now = self._clock()

        def op(c: sqlite3.Connection) -> bytes | None:
            row = c.execute("DELETE FROM kv WHERE kind = 'tx' AND key = ? RETURNING value, expires_at",
                            (key,)).fetchone()
            return bytes(row[0]) if row is not None and row[1] > now else None

        return await self._run(op)

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        _check_ttl(ttl)
        now = self._clock()
        token = secrets.token_urlsafe(16)
        won = await self._run(
            lambda c: c.execute(_CLAIM, ("lock", key, token.encode(), now + ttl, now)).rowcount)
        return token if won == 1 else None

    async def release_lock(self, key: str, token: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM kv WHERE kind = 'lock' AND key = ? AND value = ?",
                                            (key, token.encode())))

    async def claim_once(self, key: str, ttl: float) -> bool:
        _check_ttl(ttl)
        now = self._clock()
        won = await self._run(lambda c: c.execute(_CLAIM, ("once", key, b"", now + ttl, now)).rowcount)
        return won == 1

    async def ping(self) -> bool:
        try:
            return await self._run(lambda c: c.execute("SELECT 1").fetchone() == (1,))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.close()
            self._reader = None

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
