"""The session store interface. Adapters: SQLite (the embedded default; survives a restart),
Redis, DynamoDB, memory; one contract test (tests/integration/sessions/test_store_contract.py)
runs against each.

A store keeps opaque, already-encrypted session records plus three small primitives the BFF
needs across processes:

* one-use login transactions (``put_transaction`` / ``take_transaction``: atomic get-and-delete,
  so a replayed ``state`` finds nothing);
* short locks (``acquire_lock`` / ``release_lock``) that serialise token refresh per session
  across every process sharing the store, with conditional writes (``replace`` with
  ``expected_version``) as the second line of defence;
* ``claim_once``: a set-if-absent with expiry, for deduplicating webhooks and replayed
  logout tokens.

Records expire at ``expires_at`` (epoch seconds): every adapter checks it on read, because
some back-ends (DynamoDB TTL) delete lazily.

Rules every adapter follows (the contract test checks each one):

* ``create`` refuses an id that is already live (:class:`SessionExists`); an expired leftover
  with the same id is overwritten.
* ``replace`` requires ``record.version == expected_version + 1`` (``ValueError`` otherwise)
  and fails (False) when the stored version differs or the session is gone or expired.
* ``delete_for`` removes matching sessions, expired leftovers included, and returns how many
  LIVE sessions it ended.
* Every adapter keeps a per-user index of sessions (SQLite: the ``sessions_by_user`` index of
  the sessions table; Redis: a set per user; memory: a dict of sets; DynamoDB: the
  ``by_user_id`` GSI), so ``sessions_of`` and ``end_sessions`` are ONE index lookup, never a
  scan of the store. ``delete``, ``delete_for`` and ``end_sessions`` leave no index entry
  behind; ``sessions_of`` and ``end_sessions`` drop the expired sessions (and their index
  entries) they meet, so expiry does not leave the index growing either.
* ``sessions_of`` returns the user's LIVE sessions, oldest first.
* ``end_sessions`` deletes the user's sessions that match every filter given (all of them; all
  but ``keep``; only those of the IdP session ``idp_sid``; only those created before
  ``created_before``) and returns the LIVE records it deleted, so the caller can revoke their
  refresh tokens. Another user's session is never touched, whatever the filters.
* TTLs (``ttl``) are seconds, may be fractional, must be > 0.
* Back-end failures (unreachable server, timeouts) raise :class:`StoreUnavailable`, a 503
  ``Unavailable``; ``ping`` returns False instead of raising.

Adapters: ``bff.sessions.memory.MemoryStore``, ``bff.sessions.sqlite.SQLiteStore``,
``bff.sessions.redis.RedisStore``, ``bff.sessions.dynamodb.DynamoDBStore``; pick one from
settings with ``bff.sessions.open_store(settings)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bff.errors import Unavailable


class StoreUnavailable(Unavailable):
    """The session store's back-end failed or cannot be reached (503; the session is kept)."""

    code = "session_store_unavailable"
    title = "Session store unavailable"


class SessionExists(ValueError):
    """``create`` was given the id of a live session (ids are random: this is a bug)."""


@dataclass(frozen=True)
class SessionRecord:
    id: str  # random, >= 256 bits, URL-safe; never derived from user data
    user_id: str  # ID token ``sub``; for back-channel logout by ``sub``
    idp_sid: str | None  # the IdP session id (ID token ``sid``); for back-channel logout by ``sid``
    created_at: float
    expires_at: float  # when the store may forget it: min(idle deadline, absolute, refresh token expiry)
    version: int  # 1 on create; each replace writes version + 1
    data: bytes  # AES-GCM ciphertext (tokens, claims, flags); the store never sees plaintext


class SessionStore(Protocol):
    async def get(self, session_id: str) -> SessionRecord | None:
        """The record, or None when missing or past ``expires_at``."""
        ...

    async def create(self, record: SessionRecord) -> None: ...

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        """Write ``record`` only if the stored version is ``expected_version``; False otherwise
        (someone else wrote first, or the session is gone)."""
        ...

    async def delete(self, session_id: str) -> None: ...

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        """Delete every session of this user or of this IdP session; returns how many."""
        ...

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, oldest first (one index lookup)."""
        ...

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        """Delete the user's sessions matching every given filter; the live ones deleted."""
        ...

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None: ...

    async def take_transaction(self, key: str) -> bytes | None:
        """Atomically read and delete; None when absent or expired (so it works once)."""
        ...

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        """A token when the lock was taken, None when someone else holds it."""
        ...

    async def release_lock(self, key: str, token: str) -> None:
        """Release only if ``token`` still owns the lock."""
        ...

    async def claim_once(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is claimed within ``ttl``; False afterwards."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def ends(record: SessionRecord, user_id: str, *, keep: str | None, idp_sid: str | None,
         created_before: float | None) -> bool:
    """Whether ``end_sessions(user_id, ...)`` with these filters ends ``record`` (the adapters
    that filter in Python share this; SQL and Lua spell the same rule out)."""
    return (record.user_id == user_id and record.id != keep
            and (idp_sid is None or record.idp_sid == idp_sid)
            and (created_before is None or record.created_at < created_before))
