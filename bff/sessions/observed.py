"""A :class:`~bff.sessions.store.SessionStore` that traces and times another one.

Used only while telemetry is on (:func:`observed` returns the store unchanged otherwise, so
the hot path pays nothing): every operation but ``get`` (the request's ``session.read`` span
covers that one) gets a ``session.<operation>`` CLIENT span (``db.system`` the back-end, never
a key or a session id), and every one its latency in
``bff_session_store_duration_seconds{operation}``; a failure counts in
``bff_session_store_errors_total{operation}`` and is re-raised unchanged. The contract of
the store is the wrapped one's (``tests/integration/sessions/test_store_contract.py`` runs over
it too).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bff.observability import metrics, tracing
from bff.sessions.store import SessionRecord, SessionStore

T = TypeVar("T")


class ObservedStore:
    def __init__(self, inner: SessionStore, system: str) -> None:
        self.inner = inner
        self.system = system

    async def _timed(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        with tracing.span(f"session.{operation}", {"db.system": self.system, "db.operation": operation},
                          kind=tracing.SpanKind.CLIENT):
            return await self._measured(operation, call)

    @staticmethod
    async def _measured(operation: str, call: Callable[[], Awaitable[T]]) -> T:
        began = time.perf_counter()
        try:
            return await call()
        except Exception:
            metrics.SESSION_STORE_ERRORS.inc(operation)
            raise
        finally:
            metrics.SESSION_STORE_SECONDS.observe(time.perf_counter() - began, operation)

    async def get(self, session_id: str) -> SessionRecord | None:
        # Timed, without a span of its own: the read of every request is the session manager's
        # ``session.read`` span (one span fewer per request on the hot path).
        # Written out rather than through _measured: this is on every request's path.
        began = time.perf_counter()
        try:
            return await self.inner.get(session_id)
        except Exception:
            metrics.SESSION_STORE_ERRORS.inc("get")
            raise
        finally:
            metrics.SESSION_STORE_SECONDS.observe(time.perf_counter() - began, "get")

    async def create(self, record: SessionRecord) -> None:
        await self._timed("create", lambda: self.inner.create(record))

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        return await self._timed("replace",
                                 lambda: self.inner.replace(record, expected_version=expected_version))

    async def delete(self, session_id: str) -> None:
        await self._timed("delete", lambda: self.inner.delete(session_id))

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        return await self._timed("delete_for",
                                 lambda: self.inner.delete_for(user_id=user_id, idp_sid=idp_sid))

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        return await self._timed("sessions_of", lambda: self.inner.sessions_of(user_id))

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        return await self._timed("end_sessions", lambda: self.inner.end_sessions(
            user_id, keep=keep, idp_sid=idp_sid, created_before=created_before))

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None:
        await self._timed("put_transaction", lambda: self.inner.put_transaction(key, value, ttl))

    async def take_transaction(self, key: str) -> bytes | None:
        return await self._timed("take_transaction", lambda: self.inner.take_transaction(key))

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        return await self._timed("acquire_lock", lambda: self.inner.acquire_lock(key, ttl))

    async def release_lock(self, key: str, token: str) -> None:
        await self._timed("release_lock", lambda: self.inner.release_lock(key, token))

    async def claim_once(self, key: str, ttl: float) -> bool:
        return await self._timed("claim_once", lambda: self.inner.claim_once(key, ttl))

    async def ping(self) -> bool:
        return await self._timed("ping", self.inner.ping)

    async def close(self) -> None:
        await self.inner.close()


def observed(store: SessionStore, url: str) -> SessionStore:
    """``store`` traced and timed while telemetry is on, else ``store`` itself."""
    if not (tracing.active() or metrics.enabled()):
        return store
    return ObservedStore(store, url.split(":", 1)[0].lower())
