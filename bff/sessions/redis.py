"""Redis session store (``redis://`` / ``rediss://``), for several BFF instances.

Works with Redis >= 6.2 or Valkey, standalone or a primary/replica group (ElastiCache with
cluster mode disabled): the Lua scripts below touch keys they derive at run time, which Redis
Cluster forbids.

Layout under ``prefix`` (default ``bff:``; tests use a unique one each)::

    {prefix}s:{session id}   hash u, i, c, e, v, d (user, idp sid, created, expires, version, data)
    {prefix}u:{user id}      set of session ids (index for delete_for(user_id=...))
    {prefix}i:{idp sid}      set of session ids (index for delete_for(idp_sid=...))
    {prefix}tx:{key}         one-use transaction value        SET PX / GETDEL
    {prefix}lock:{key}       lock token                       SET NX PX / compare-and-delete
    {prefix}once:{key}       "1"                              SET NX PX

Every key carries an exact expiry (PX). Session hashes also keep ``expires_at`` and every read
compares it with the clock, like the other adapters. Multi-key changes (create, replace, delete,
delete_for) are Lua scripts, so they are atomic; index sets live at least as long as their
longest session and stale members are skipped (and dropped) by ``delete_for``.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from bff.sessions.store import SessionExists, SessionRecord, StoreUnavailable

__all__ = ["RedisStore"]

T = TypeVar("T")

_INDEX = """
local function index(key, member, px)
  redis.call('SADD', key, member)
  if redis.call('PTTL', key) < px then redis.call('PEXPIRE', key, px) end
end
"""

# KEYS: session, user index, idp-sid index. ARGV: now, u, i, c, e, v, d, px
_CREATE = _INDEX + """
local cur = redis.call('HGET', KEYS[1], 'e')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
local px = tonumber(ARGV[8])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'i', ARGV[3], 'c', ARGV[4], 'e', ARGV[5],
           'v', ARGV[6], 'd', ARGV[7])
redis.call('PEXPIRE', KEYS[1], px)
index(KEYS[2], ARGV[9], px)
if ARGV[3] ~= '' then index(KEYS[3], ARGV[9], px) end
return 1
"""

# KEYS: session, user index, idp-sid index. ARGV: now, expected version, u, i, c, e, v, d, px, id
_REPLACE = _INDEX + """
local cur = redis.call('HMGET', KEYS[1], 'v', 'e')
if not cur[1] or not cur[2] then return 0 end
if tonumber(cur[2]) <= tonumber(ARGV[1]) or tonumber(cur[1]) ~= tonumber(ARGV[2]) then return 0 end
local px = tonumber(ARGV[9])
redis.call('HSET', KEYS[1], 'u', ARGV[3], 'i', ARGV[4], 'c', ARGV[5], 'e', ARGV[6],
           'v', ARGV[7], 'd', ARGV[8])
redis.call('PEXPIRE', KEYS[1], px)
index(KEYS[2], ARGV[10], px)
if ARGV[4] ~= '' then index(KEYS[3], ARGV[10], px) end
return 1
"""

# Deletes sessions and their index entries. ARGV: prefix, now, then one or more session ids.
_DELETE_IDS = """
local live = 0
for n = 3, #ARGV do
  local id = ARGV[n]
  local key = ARGV[1] .. 's:' .. id
  local cur = redis.call('HMGET', key, 'u', 'i', 'e')
  if cur[3] then
    redis.call('DEL', key)
    if tonumber(cur[3]) > tonumber(ARGV[2]) then live = live + 1 end
  end
  if cur[1] then redis.call('SREM', ARGV[1] .. 'u:' .. cur[1], id) end
  if cur[2] and cur[2] ~= '' then redis.call('SREM', ARGV[1] .. 'i:' .. cur[2], id) end
end
return live
"""

# KEYS: an index set. ARGV: prefix, now, field ('u' | 'i'), value.
_DELETE_INDEXED = """
local live = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 's:' .. id
  local cur = redis.call('HMGET', key, 'u', 'i', 'e')
  local mine = (ARGV[3] == 'u' and cur[1] == ARGV[4]) or (ARGV[3] == 'i' and cur[2] == ARGV[4])
  if cur[3] and mine then
    redis.call('DEL', key)
    if tonumber(cur[3]) > tonumber(ARGV[2]) then live = live + 1 end
    if ARGV[3] == 'i' then redis.call('SREM', ARGV[1] .. 'u:' .. cur[1], id) end
    if ARGV[3] == 'u' and cur[2] ~= '' then redis.call('SREM', ARGV[1] .. 'i:' .. cur[2], id) end
  end
end
redis.call('DEL', KEYS[1])
return live
"""

# KEYS: lock. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _px(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _check_ttl(ttl: float) -> None:
    if not ttl > 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")


def _num(value: float) -> str:
    return repr(float(value))


class RedisStore:
    """A :class:`~bff.sessions.store.SessionStore` on Redis. Build it with
    :meth:`from_url` or pass a ``redis.asyncio.Redis`` created with ``decode_responses=False``."""

    def __init__(self, client: Redis, *, prefix: str = "bff:", clock: Callable[[], float] = time.time,
                 owns_client: bool = False) -> None:
        if not prefix:
            raise ValueError("RedisStore needs a non-empty key prefix")
        self._r = client
        self._prefix = prefix
        self._clock = clock
        self._owns_client = owns_client
        self._create = client.register_script(_CREATE)
        self._replace = client.register_script(_REPLACE)
        self._delete_ids = client.register_script(_DELETE_IDS)
        self._delete_indexed = client.register_script(_DELETE_INDEXED)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "bff:", clock: Callable[[], float] = time.time,
                 connect_timeout: float = 2.0, timeout: float = 5.0, max_connections: int = 50) -> RedisStore:
        """A store with its own client. The pool BLOCKS (up to ``timeout``) when all
        ``max_connections`` are busy, instead of failing a burst of requests."""
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=timeout, decode_responses=False,
            socket_connect_timeout=connect_timeout, socket_timeout=timeout, health_check_interval=30)
        return cls(Redis.from_pool(pool), prefix=prefix, clock=clock, owns_client=True)

    @property
    def prefix(self) -> str:
        return self._prefix

    def _k(self, kind: str, key: str) -> str:
        return f"{self._prefix}{kind}:{key}"

    async def _call(self, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except RedisError as exc:
            raise StoreUnavailable(f"Redis session store: {type(exc).__name__}") from exc

    # -- sessions ----------------------------------------------------------------------------

    async def get(self, session_id: str) -> SessionRecord | None:
        # decode_responses=False: keys and values are bytes
        raw = cast(dict[bytes, bytes], await self._call(self._r.hgetall(self._k("s", session_id))))
        if not raw or b"e" not in raw:
            return None
        expires_at = float(raw[b"e"])
        if expires_at <= self._clock():
            return None
        idp_sid = raw[b"i"].decode()
        return SessionRecord(id=session_id, user_id=raw[b"u"].decode(), idp_sid=idp_sid or None,
                             created_at=float(raw[b"c"]), expires_at=expires_at,
                             version=int(raw[b"v"]), data=raw[b"d"])

    def _fields(self, r: SessionRecord) -> list[Any]:
        return [r.user_id, r.idp_sid or "", _num(r.created_at), _num(r.expires_at), str(r.version), r.data]

    def _index_keys(self, r: SessionRecord) -> list[str]:
        return [self._k("s", r.id), self._k("u", r.user_id), self._k("i", r.idp_sid or "")]

    async def create(self, record: SessionRecord) -> None:
        now = self._clock()
        px = _px(record.expires_at - now)
        created = await self._call(self._create(
            keys=self._index_keys(record), args=[_num(now), *self._fields(record), px, record.id]))
        if created != 1:
            raise SessionExists("a live session already has this id")

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        if record.version != expected_version + 1:
            raise ValueError("record.version must be expected_version + 1")
        now = self._clock()
        px = _px(record.expires_at - now)
        done = await self._call(self._replace(
            keys=self._index_keys(record),
            args=[_num(now), expected_version, *self._fields(record), px, record.id]))
        return bool(done == 1)

    async def delete(self, session_id: str) -> None:
        await self._call(self._delete_ids(args=[self._prefix, _num(self._clock()), session_id]))

    async def delete_for(self, *, user_id: str | None = None, idp_sid: str | None = None) -> int:
        if user_id is None and idp_sid is None:
            raise ValueError("delete_for needs user_id or idp_sid")
        now = _num(self._clock())
        total = 0
        if user_id is not None:
            total += int(await self._call(self._delete_indexed(
                keys=[self._k("u", user_id)], args=[self._prefix, now, "u", user_id])))
        if idp_sid is not None:
            total += int(await self._call(self._delete_indexed(
                keys=[self._k("i", idp_sid)], args=[self._prefix, now, "i", idp_sid])))
        return total

    # -- one-use transactions, locks, claim_once --------------------------------------------

    async def put_transaction(self, key: str, value: bytes, ttl: float) -> None:
        _check_ttl(ttl)
        await self._call(self._r.set(self._k("tx", key), bytes(value), px=_px(ttl)))

    async def take_transaction(self, key: str) -> bytes | None:
        return cast(bytes | None, await self._call(self._r.getdel(self._k("tx", key))))

    async def acquire_lock(self, key: str, ttl: float) -> str | None:
        _check_ttl(ttl)
        token = secrets.token_urlsafe(16)
        won = await self._call(self._r.set(self._k("lock", key), token, nx=True, px=_px(ttl)))
        return token if won else None

    async def release_lock(self, key: str, token: str) -> None:
        await self._call(self._release(keys=[self._k("lock", key)], args=[token]))

    async def claim_once(self, key: str, ttl: float) -> bool:
        _check_ttl(ttl)
        won = await self._call(self._r.set(self._k("once", key), b"1", nx=True, px=_px(ttl)))
        return bool(won)

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._r.ping()))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        if self._owns_client:
            await self._r.aclose()
