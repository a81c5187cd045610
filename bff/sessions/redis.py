"""Redis session store (``redis://`` / ``rediss://``), for several BFF instances.

Works with Redis >= 6.2 or Valkey, standalone or a primary/replica group (ElastiCache with
cluster mode disabled): the Lua scripts below touch keys they derive at run time, which Redis
Cluster forbids.

Layout under ``prefix`` (default ``bff:``; tests use a unique one each)::

    {prefix}s:{session id}   hash u, i, c, e, v, d (user, idp sid, created, expires, version, data)
    {prefix}u:{user id}      set of session ids (the per-user index: sessions_of, end_sessions,
                             delete_for(user_id=...))
    {prefix}i:{idp sid}      set of session ids (index for delete_for(idp_sid=...))
    {prefix}tx:{key}         one-use transaction value        SET PX / GETDEL
    {prefix}lock:{key}       lock token                       SET NX PX / compare-and-delete
    {prefix}once:{key}       "1"                              SET NX PX

Every key carries an exact expiry (PX). Session hashes also keep ``expires_at`` and every read
compares it with the clock, like the other adapters. Multi-key changes (create, replace, delete,
delete_for) are Lua scripts, so they are atomic; index sets live at least as long as their
longest session and stale members are skipped (and dropped) by ``delete_for``.

The hot path. ``get`` runs on every proxied request, so it does not go through redis-py: a
redis-py command costs about 65 us of CPU on this kind of machine (connection pool checkout,
retry wrapper, per-command parser plumbing) whatever the command, HGETALL or a plain GET
(``benchmarks/bench_proxy.py`` and docs/proxy.md have the measurements). Reads instead share ONE
multiplexed connection (:class:`ReadChannel`): each ``HMGET`` is packed with hiredis, queued and
written together with the others of the same event-loop turn; Redis answers in order on a
connection, so replies are matched to waiters first-in-first-out (about 9 us per read). It
connects, authenticates and selects the database exactly as the redis-py client is configured
(host, port, db, username/password, TLS context, timeouts); a client it cannot mirror (a
credential provider, Unix sockets, cluster) keeps reading through redis-py. Writes, scripts,
locks and transactions always use redis-py. The read sees every write acknowledged before it
was sent, as any other connection to the same server would.
"""

from __future__ import annotations

import asyncio
import collections
import math
import secrets
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import hiredis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import Connection, SSLConnection
from redis.exceptions import AuthenticationError, ConnectionError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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

# The user's sessions through their index set, for sessions_of (ARGV[4] == '0') and
# end_sessions (ARGV[4] == '1'). Members whose hash is gone or belongs to someone else are dropped
# from the set; expired sessions met are deleted with their index entries; with ARGV[4] == '1'
# the live sessions matching every filter are deleted too. Returns the live records it kept
# (sessions_of) or deleted (end_sessions), 7 strings each: id, u, i, c, e, v, d.
# KEYS: the user's index set. ARGV: prefix, now, user id, mode, keep id or '',
# idp sid filter ('1' + sid, or ''), created-before bound or ''.
_OF_USER = """
local out = {}
local now = tonumber(ARGV[2])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 's:' .. id
  local cur = redis.call('HMGET', key, 'u', 'i', 'c', 'e', 'v', 'd')
  if not cur[4] or cur[1] ~= ARGV[3] then
    redis.call('SREM', KEYS[1], id)
  else
    local live = tonumber(cur[4]) > now
    local doomed = not live
    if live and ARGV[4] == '1' then
      doomed = id ~= ARGV[5]
        and (ARGV[6] == '' or cur[2] == string.sub(ARGV[6], 2))
        and (ARGV[7] == '' or tonumber(cur[3]) < tonumber(ARGV[7]))
    end
    if doomed then
      redis.call('DEL', key)
      redis.call('SREM', KEYS[1], id)
      if cur[2] ~= '' then redis.call('SREM', ARGV[1] .. 'i:' .. cur[2], id) end
    end
    if live and (doomed == (ARGV[4] == '1')) then
      table.insert(out, id)
      for n = 1, 6 do table.insert(out, cur[n]) end
    end
  end
end
return out
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


#: hiredis's stub types its argument as a 1-tuple; it takes any tuple of command parts.
_pack = cast(Callable[[tuple[Any, ...]], bytes], hiredis.pack_command)
_HMGET = ("HMGET",)
#: The session hash's fields in the order ``get`` unpacks them.
_FIELDS = ("u", "i", "c", "e", "v", "d")


class _Wire(asyncio.Protocol):
    """One connection of a :class:`ReadChannel`: commands go out in order, replies come back
    in the same order (Redis guarantees it per connection) and resolve the oldest waiter."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        self.loop = loop
        self.timeout = timeout
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._parser = hiredis.Reader()
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._out: list[bytes] = []
        self._watchdog: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        parser.feed(data)
        waiting = self._waiting
        while True:
            try:
                reply = parser.gets()
            except hiredis.ProtocolError:
                self._fail(ConnectionError("Redis sent a malformed reply"))
                return
            if reply is False:
                return
            if not waiting:
                self._fail(ConnectionError("Redis sent a reply nobody asked for"))
                return
            future = waiting.popleft()[0]
            if future.done():  # the caller was cancelled: its reply is dropped, order is kept
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(ResponseError(str(reply)))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError("Redis closed the connection"))

    # -- commands ------------------------------------------------------------------------------

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        """Queue one packed command; its reply resolves the returned future."""
        future = self.loop.create_future()
        if self.closed:
            future.set_exception(ConnectionError("the Redis connection is closed"))
            return future
        now = self.loop.time()
        self._waiting.append((future, now + self.timeout if self.timeout else math.inf))
        if not self._out:
            self.loop.call_soon(self._flush)
        self._out.append(packed)
        if self._watchdog is None and self.timeout:
            self._watchdog = self.loop.call_at(now + self.timeout, self._check_timeouts)
        return future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and not self.closed and self._transport is not None:
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _check_timeouts(self) -> None:
        self._watchdog = None
        if not self._waiting or self.closed:
            return
        deadline = self._waiting[0][1]
        if deadline <= self.loop.time():
            # The oldest command got no answer in time: the connection is unusable (later
            # replies would be out of step), so everything waiting on it fails.
            self._fail(RedisTimeoutError("Redis did not answer in time"))
        else:
            self._watchdog = self.loop.call_at(deadline, self._check_timeouts)

    def _fail(self, exc: RedisError) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._out.clear()
        while self._waiting:
            future = self._waiting.popleft()[0]
            if not future.done():
                future.set_exception(exc)
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        if not self.closed:
            self._fail(ConnectionError("the Redis connection was closed by the store"))


class ReadChannel:
    """Single-key reads over one shared, auto-pipelined connection (see the module docstring).

    Built from a redis-py client's pool settings with :meth:`mirroring`; connects lazily (one
    connect shared by concurrent callers) and again after the connection broke. A command that
    fails because the connection broke is retried once on a fresh connection (reads only: safe);
    a timeout is not retried. Errors are redis-py's (``ConnectionError``, ``TimeoutError``,
    ``ResponseError``, ``AuthenticationError``)."""

    def __init__(self, *, host: str, port: int, db: int = 0, username: str | None = None,
                 password: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 connect_timeout: float | None = 5.0, timeout: float | None = 5.0) -> None:
        self.host, self.port, self.db = host, port, db
        self._username, self._password = username, password
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._wire: _Wire | None = None
        self._connecting: asyncio.Future[_Wire] | None = None

    @classmethod
    def mirroring(cls, client: Redis) -> ReadChannel | None:
        """A channel to the server ``client`` talks to, with the same credentials, database, TLS
        and timeouts; None when the client's set-up is not one this channel reproduces."""
        pool = client.connection_pool
        if pool.connection_class not in (Connection, SSLConnection):
            return None
        kwargs = dict(pool.connection_kwargs)
        if kwargs.get("credential_provider") is not None or kwargs.get("redis_connect_func") is not None:
            return None
        conn = pool.connection_class(**kwargs)  # no I/O: only to read the resolved settings
        context = conn.ssl_context.get() if isinstance(conn, SSLConnection) else None
        return cls(host=conn.host, port=conn.port, db=int(conn.db or 0), username=conn.username,
                   password=conn.password, ssl_context=context,
                   connect_timeout=conn.socket_connect_timeout, timeout=conn.socket_timeout)

    async def call(self, *args: str | bytes | int | float) -> Any:
        packed = _pack(args)
        wire = await self._ready()
        try:
            return await wire.send(packed)
        except ConnectionError:
            if not wire.closed:
                raise
        return await (await self._ready()).send(packed)  # the connection broke: once more

    async def _ready(self) -> _Wire:
        wire = self._wire
        if wire is not None and not wire.closed and wire.loop is asyncio.get_running_loop():
            return wire
        if self._connecting is None or self._connecting.get_loop() is not asyncio.get_running_loop():
            self._connecting = asyncio.ensure_future(self._connect())
        connecting = self._connecting
        try:
            self._wire = await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None
        return self._wire

    async def _connect(self) -> _Wire:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                transport, wire = await loop.create_connection(
                    lambda: _Wire(loop, self._timeout), self.host, self.port, ssl=self._ssl)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot connect to Redis: {type(exc).__name__}") from exc
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            except OSError:  # not fatal: a slower or less watched connection
                pass
        try:
            if self._password is not None or self._username is not None:
                auth = ([self._username] if self._username else []) + [self._password or ""]
                try:
                    await wire.send(_pack(("AUTH", *auth)))
                except ResponseError as exc:
                    raise AuthenticationError("Redis refused the credentials") from exc
            if self.db:
                await wire.send(_pack(("SELECT", self.db)))
        except BaseException:
            wire.close()
            raise
        return wire

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
            self._wire = None


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
        self._of_user = client.register_script(_OF_USER)
        self._reads = ReadChannel.mirroring(client)

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
        key = self._k("s", session_id)
        if self._reads is not None:
            raw = await self._call(self._reads.call(*_HMGET, key, *_FIELDS))
        else:
            raw = await self._call(self._r.hmget(key, _FIELDS))
        # bytes values (decode_responses=False), None for an absent field or key
        user_id, idp_sid, created_at, expires_at, version, data = cast(list[bytes | None], raw)
        if expires_at is None or user_id is None or idp_sid is None or created_at is None \
                or version is None or data is None:
            return None
        expires = float(expires_at)
        if expires <= self._clock():
            return None
        return SessionRecord(id=session_id, user_id=user_id.decode(), idp_sid=idp_sid.decode() or None,
                             created_at=float(created_at), expires_at=expires, version=int(version),
                             data=data)

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

    async def sessions_of(self, user_id: str) -> list[SessionRecord]:
        return await self._user_sessions(user_id, "0", "", "", "")

    async def end_sessions(self, user_id: str, *, keep: str | None = None, idp_sid: str | None = None,
                           created_before: float | None = None) -> list[SessionRecord]:
        return await self._user_sessions(user_id, "1", keep or "", "" if idp_sid is None else "1" + idp_sid,
                                         "" if created_before is None else _num(created_before))

    async def _user_sessions(self, user_id: str, mode: str, keep: str, idp_sid: str,
                             created_before: str) -> list[SessionRecord]:
        flat = cast(list[bytes], await self._call(self._of_user(
            keys=[self._k("u", user_id)],
            args=[self._prefix, _num(self._clock()), user_id, mode, keep, idp_sid, created_before])))
        records = []
        for n in range(0, len(flat), 7):
            sid, user, idp, created, expires, version, data = flat[n:n + 7]
            records.append(SessionRecord(id=sid.decode(), user_id=user.decode(), idp_sid=idp.decode() or None,
                                         created_at=float(created), expires_at=float(expires),
                                         version=int(version), data=bytes(data)))
        return sorted(records, key=lambda r: (r.created_at, r.id))

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
        if self._reads is not None:
            self._reads.close()
        if self._owns_client:
            await self._r.aclose()
