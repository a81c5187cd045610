"""In-process session store (``memory://``): for unit tests and single-process experiments.

Nothing survives a restart and nothing is shared between processes. Every method runs to
completion without awaiting, under one ``threading.Lock``, so operations are atomic for all
coroutines (and threads) of the process. Expired entries are ignored on read and purged lazily.
The per-user index is a dict of sets of session ids (``_by_user``), kept in step with
``_sessions`` by every write.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bff.sessions.store import SessionExists, SessionRecord, ends

__all__ = ["MemoryStore"]

_PURGE_EVERY = 600.0


@dataclass
class _Expiring:
    value: bytes
    expires_at: float


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")


class MemoryStore:
    """A :class:`~bff.sessions.store.SessionStore` in a few dicts. ``clock`` (epoch seconds)
    is injectable for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionRecord] = {}
        self._by_user: dict[str, set[str]] = {}  # user id -> ids of their sessions in _sessions
        self._transactions: dict[str, _Expiring] = {}
        self._locks: dict[str, _Expiring] = {}
        self._once: dict[str, _Expiring] = {}
        self._last_purge = clock()

    # -- helpers (call with self._lock held) -------------------------------------------------

    def _now(self) -> float:
        now = self._clock()
        if now - self._last_purge > _PURGE_EVERY:
            self._last_purge = now
            for record in [r for r in self._sessions.values() if r.expires_at <= now]:
                self._forget(record.id)
            for table in (self._transactions, self._locks, self._once):
                for key in [k for k, e in table.items() if e.expires_at <= now]:
                    del table[key]
        return now

    def _put(self, record: SessionRecord) -> None:
        old = self._sessions.get(record.id)
        if old is not None and old.user_id != record.user_id:
            self._forget(old.id)
        self._sessions[record.id] = record
        self._by_user.setdefault(record.user_id, set()).add(record.id)

    def _forget(self, session_id: str) -> SessionRecord | None:
        record = self._sessions.pop(session_id, None)
        if record is not None:
            ids = self._by_user.get(record.user_id)
            if ids is not None:
                ids.discard(session_id)
                if not ids:
                    del self._by_user[record.user_id]
        return record

    def _of(self, user_id: str, now: float) -> list[SessionRecord]:
        """The user's live sessions through the index; expired ones met are forgotten."""
        live: list[SessionRecord] = []
        for session_id in list(self._by_user.get(user_id, ())):
            record = self._sessions[session_id]
            if record.expires_at > now:
                live.append(record)
            else:
                self._forget(session_id)
        return sorted(live, key=lambda r: (r.created_at, r.id))

    def _live(self, session_id: str, now: float) -> SessionRecord | None:
        record = self._sessions.get(session_id)
        return record if record is not None and record.expires_at > now else None

    # -- sessions ----------------------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        with self._lock:
            return self._live(session_id, self._now())

    async def create(self, record: SessionRecord) -> None:
        with self._lock:
            if self._live(record.id, self._now()) is not None:
                raise SessionExists("a live session already has this id")
            self._put(record)

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        if record.version != expected_version + 1:
            raise ValueError("record.version must be expected_version + 1")
        with self._lock:
            current = self._live(record.id, self._now())
            if current is None or current.version != expected_version:
                return False
            self._put(record)
            return True

    async def delete(self, session_id: str) -> None:
        with self._lock:
            self._forget(session_id)

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        if user_id is None and idp_sid is None:
            raise ValueError("delete_for needs user_id or idp_sid")
        with self._lock:
            now = self._now()
            doomed = [r for r in self._sessions.values()
                      if (user_id is not None and r.user_id == user_id)
                      or (idp_sid is not None and r.idp_sid == idp_sid)]
            for r in doomed:
                self._forget(r.id)
            return sum(1 for r in doomed if r.expires_at > now)

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        with self._lock:
            return self._of(user_id, self._now())

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        with self._lock:
            doomed = [r for r in self._of(user_id, self._now())
                      if ends(r, user_id, keep=keep, idp_sid=idp_sid, created_before=created_before)]
            for r in doomed:
                self._forget(r.id)
            return doomed

    # -- one-use transactions, locks, claim_once --------------------------------------------

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None:
        _check_ttl(ttl)
        with self._lock:
            self._transactions[key] = _Expiring(bytes(value), self._now() + ttl)

    async def take_transaction(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._transactions.pop(key, None)
            if entry is None or entry.expires_at <= self._now():
                return None
            return entry.value

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        _check_ttl(ttl)
        with self._lock:
            now = self._now()
            held = self._locks.get(key)
            if held is not None and held.expires_at > now:
                return None
            token = secrets.token_urlsafe(16)
            self._locks[key] = _Expiring(token.encode(), now + ttl)
            return token

    async def release_lock(self, key: str, token: str) -> None:
        with self._lock:
            held = self._locks.get(key)
            if held is not None and held.value == token.encode():
                del self._locks[key]

    async def claim_once(self, key: str, ttl: float) -> bool:
        _check_ttl(ttl)
        with self._lock:
            now = self._now()
            held = self._once.get(key)
            if held is not None and held.expires_at > now:
                return False
            self._once[key] = _Expiring(b"1", now + ttl)
            return True

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None
