"""Hot-path session reads. The Redis store's read channel (one auto-pipelined connection, bff.sessions.redis
.ReadChannel) against the real Redis at 127.0.0.1:6379, a password-protected redis-server
started for the test, and small fake servers for the failure modes (no answer, slow answers).
Plus what the per-process memos of SessionManager must never break: two instances sharing the
real Redis see a session ended on either at once. And the SQLite store's batched reads."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import hiredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request

from bff.auth.oidc import TokenSet
from bff.auth.sessions import SessionManager
from bff.sessions.redis import ReadChannel, RedisStore
from bff.sessions.store import SessionRecord, StoreUnavailable
from bff_dev.serving import free_port
from tests.integration.sessions.conftest import REDIS_URL

SECRET = "redis-reads-test-secret-0123456789abcdef"
COOKIE = "__Host-bff"


def record(session_id: str, *, version: int = 1, data: bytes = b"\x01ciphertext") -> SessionRecord:
    now = time.time()
    return SessionRecord(id=session_id, user_id="00u1", idp_sid="sid1", created_at=now,
                         expires_at=now + 600, version=version, data=data)


@pytest.fixture
async def store(redis_prefix: str) -> AsyncIterator[RedisStore]:
    s = RedisStore.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        yield s
    finally:
        await s.close()


async def test_reads_go_through_the_channel_and_see_every_acknowledged_write(store: RedisStore) -> None:
    assert store._reads is not None  # a plain redis:// client is mirrored
    written = record("a")
    await store.create(written)
    got = await store.get("a")
    assert got is not None
    assert (got.id, got.user_id, got.idp_sid) == ("a", "00u1", "sid1")
    assert (got.version, got.data) == (1, b"\x01ciphertext")
    assert (got.created_at, got.expires_at) == (written.created_at, written.expires_at)
    assert await store.replace(record("a", version=2, data=b"\x01v2"), expected_version=1)
    got = await store.get("a")  # written by redis-py, read on the other connection right after
    assert got is not None and (got.version, got.data) == (2, b"\x01v2")
    await store.delete("a")
    assert await store.get("a") is None
    # many concurrent reads share the one connection and each gets its own answer
    for i in range(20):
        await store.create(record(f"k{i}", data=f"\x01data-{i}".encode()))
    results = await asyncio.gather(*(store.get(f"k{i % 20}") for i in range(200)))
    assert [r.data if r else None for r in results] == [f"\x01data-{i % 20}".encode() for i in range(200)]


async def test_a_killed_connection_is_replaced_without_failing_a_read(store: RedisStore) -> None:
    await store.create(record("b"))
    assert await store.get("b") is not None
    reads = store._reads
    assert reads is not None and reads._wire is not None and reads._wire._transport is not None
    host, port = reads._wire._transport.get_extra_info("sockname")[:2]
    admin = Redis.from_url(REDIS_URL)
    try:
        assert await admin.client_kill_filter(addr=f"{host}:{port}") == 1
    finally:
        await admin.aclose()
    got = await store.get("b")  # the dead connection is noticed and replaced
    assert got is not None and got.id == "b"
    assert reads._wire is not None and reads._wire._transport is not None
    assert reads._wire._transport.get_extra_info("sockname")[1] != port


async def test_the_database_number_is_selected(redis_prefix: str) -> None:
    other = RedisStore.from_url(REDIS_URL.rsplit("/", 1)[0] + "/14", prefix=redis_prefix)
    main = RedisStore.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        await other.create(record("c"))
        assert await main.get("c") is None  # db 0 does not see db 14's key
        assert await other.get("c") is not None
    finally:
        await other.delete("c")
        await other.close()
        await main.close()


@pytest.fixture
def protected_redis() -> Any:
    """A real redis-server with a password, on a free port, nothing persisted."""
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is part of the test environment"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret-pw",
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_credentials_are_sent_like_redis_py_does(protected_redis: int) -> None:
    good = RedisStore.from_url(f"redis://default:s3cret-pw@127.0.0.1:{protected_redis}/2", prefix="t:")
    password_only = RedisStore.from_url(f"redis://:s3cret-pw@127.0.0.1:{protected_redis}/2", prefix="t:")
    wrong = RedisStore.from_url(f"redis://:wrong@127.0.0.1:{protected_redis}/2", prefix="t:",
                                connect_timeout=1, timeout=1)
    try:
        await good.create(record("d"))
        got = await good.get("d")
        assert got is not None and got.data == b"\x01ciphertext"
        assert await password_only.get("d") is not None
        with pytest.raises(StoreUnavailable):
            await wrong.get("d")
    finally:
        for s in (good, password_only, wrong):
            await s.close()


@contextlib.asynccontextmanager
async def fake_server(handle: Callable[[list[bytes]], bytes | None],
                      delay: float = 0.0) -> AsyncIterator[int]:
    """A RESP server answering each command with ``handle(command)`` after ``delay`` (None: never)."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while (command := parser.gets()) is not False:
                    answer = handle(cast(list[bytes], command))
                    if answer is None:
                        continue
                    if delay:
                        await asyncio.sleep(delay)
                    writer.write(answer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    port = free_port()
    server = await asyncio.start_server(client, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


async def test_no_answer_in_time_is_store_unavailable() -> None:
    async with fake_server(lambda command: None) as port:
        channel = ReadChannel(host="127.0.0.1", port=port, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            await channel.call("GET", "x")
        assert time.monotonic() - started < 2
        channel.close()


async def test_cancelled_callers_do_not_shift_the_replies_of_others() -> None:
    def echo(command: list[bytes]) -> bytes:
        value = b"value-of-" + command[1]
        return b"$%d\r\n%s\r\n" % (len(value), value)

    async with fake_server(echo, delay=0.02) as port:
        channel = ReadChannel(host="127.0.0.1", port=port, timeout=5)
        tasks = [asyncio.create_task(channel.call("GET", f"k{i}")) for i in range(10)]
        await asyncio.sleep(0.005)  # all sent, no reply yet
        for i in (2, 5, 6):
            tasks[i].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for i, result in enumerate(results):
            if i in (2, 5, 6):
                assert isinstance(result, asyncio.CancelledError)
            else:
                assert result == f"value-of-k{i}".encode()
        assert await channel.call("GET", "after") == b"value-of-after"  # still in step
        channel.close()


async def test_unreachable_redis_is_store_unavailable() -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5, timeout=0.5)
    try:
        with pytest.raises(StoreUnavailable):
            await store.get("x")
    finally:
        await store.close()


# -- two BFF instances sharing the real Redis: the memos never outlive a session ---------------


def request_with(cookie: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/",
                    "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]})


def manager(store: RedisStore) -> SessionManager:
    # No token endpoint is needed for create/load/end (the OIDC client is never called here).
    return SessionManager(store=store, oidc=cast(Any, None), secret_keys=(SECRET,), cookie_name=COOKIE,
                          idle_timeout=3600, absolute_lifetime=8 * 3600, refresh_skew=60)


async def new_session(m: SessionManager, sub: str = "00u1", sid: str = "idp-sid-1") -> tuple[str, str]:
    tokens = TokenSet(access_token="at-" + sub, expires_at=time.time() + 3600, refresh_token="rt-" + sub,
                      id_token="idt", scope=frozenset({"openid", "admin"}), refresh_expires_at=None)
    session, cookie = await m.create(tokens=tokens, id_claims={"sub": sub, "sid": sid},
                                     access_claims={"sub": sub + "@acme.test", "scp": ["openid", "admin"]},
                                     requested_scopes=("openid",))
    return session.id, cookie


async def test_a_session_ended_on_one_instance_is_refused_by_the_other_at_once(redis_prefix: str) -> None:
    a_store = RedisStore.from_url(REDIS_URL, prefix=redis_prefix)
    b_store = RedisStore.from_url(REDIS_URL, prefix=redis_prefix)
    a, b = manager(a_store), manager(b_store)
    try:
        # logout on A
        sid, cookie = await new_session(a)
        for _ in range(3):  # B has it memoised (cookie and decoded record)
            loaded = await b.load(request_with(cookie))
            assert loaded is not None and await loaded.access_token() == "at-00u1"
        await a.end(sid)
        assert await b.load(request_with(cookie)) is None
        # back-channel logout by IdP session id, and by subject
        _, cookie2 = await new_session(a, sub="00u2", sid="idp-sid-2")
        _, cookie3 = await new_session(a, sub="00u3", sid="idp-sid-3")
        assert await b.load(request_with(cookie2)) is not None
        assert await b.load(request_with(cookie3)) is not None
        assert await a.end_for(idp_sid="idp-sid-2") == 1
        assert await a.end_for(user_id="00u3") == 1
        assert await b.load(request_with(cookie2)) is None
        assert await b.load(request_with(cookie3)) is None
        # a change written by A (a new record version) is what B serves next
        _, cookie4 = await new_session(a, sub="00u4", sid="idp-sid-4")
        on_b = await b.load(request_with(cookie4))
        assert on_b is not None and not on_b.principal.preview
        on_a = await a.load(request_with(cookie4))
        assert on_a is not None
        await on_a.set_flag("preview", True)
        on_b = await b.load(request_with(cookie4))
        assert on_b is not None and on_b.principal.preview
    finally:
        await a_store.close()
        await b_store.close()


# -- the SQLite store's reads: on the loop, else one trip to its thread per event-loop turn ----


def _counting_trips(store: Any) -> list[int]:
    trips = [0]
    inner = store._call

    def counting(fn: Any) -> Any:
        trips[0] += 1
        return inner(fn)

    store._call = counting
    return trips


async def test_sqlite_reads_run_on_the_loop_and_see_other_writers_at_once(tmp_path: Any) -> None:
    from bff.sessions.sqlite import SQLiteStore

    fresh = SQLiteStore(tmp_path / "new" / "s.sqlite3")
    try:  # no file yet: the read defers to the thread, which creates it
        trips = _counting_trips(fresh)
        assert await fresh.get("nothing") is None and trips[0] == 1
    finally:
        await fresh.close()

    a, b = SQLiteStore(tmp_path / "s.sqlite3"), SQLiteStore(tmp_path / "s.sqlite3")
    try:
        await a.create(record("s1", data=b"\x01one"))
        expired = record("old")
        await a.create(SessionRecord(**{**expired.__dict__, "expires_at": time.time() - 1}))
        trips = _counting_trips(a)
        got = await a.get("s1")
        assert got is not None and got.data == b"\x01one"
        assert await a.get("old") is None and await a.get("missing") is None
        assert trips[0] == 0  # answered on the loop
        await b.delete("s1")  # another process/instance ends it: seen on the very next read
        assert await a.get("s1") is None
        await b.create(record("s2"))
        assert (await a.get("s2")) is not None
    finally:
        await a.close()
        await b.close()


async def test_sqlite_reads_that_cannot_run_on_the_loop_share_one_trip(tmp_path: Any) -> None:
    from bff.sessions import sqlite
    from bff.sessions.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.sqlite3")
    try:
        for i in range(10):
            await store.create(record(f"s{i}", data=f"\x01data-{i}".encode()))
        expired = record("old")
        await store.create(SessionRecord(**{**expired.__dict__, "expires_at": time.time() - 1}))
        store._read_now = lambda session_id: sqlite._DEFER  # type: ignore[method-assign]  # e.g. busy
        trips = _counting_trips(store)
        ids = [f"s{i % 12}" if i % 12 < 10 else ("old" if i % 12 == 10 else "missing") for i in range(120)]
        results = await asyncio.gather(*(store.get(i) for i in ids))
        assert trips[0] == 1
        for wanted, got in zip(ids, results, strict=True):
            if wanted in ("old", "missing"):
                assert got is None
            else:
                assert got is not None and got.id == wanted and got.data == f"\x01data-{wanted[1:]}".encode()
        # a caller that gives up does not disturb the others
        tasks = [asyncio.create_task(store.get(f"s{i}")) for i in range(5)]
        await asyncio.sleep(0)
        tasks[2].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[2], asyncio.CancelledError)
        assert [r.id for i, r in enumerate(done) if i != 2] == ["s0", "s1", "s3", "s4"]  # type: ignore[union-attr]
    finally:
        await store.close()
    with pytest.raises(StoreUnavailable):
        await store.get("s1")


async def test_sqlite_loop_reads_answer_again_only_while_nothing_was_committed(tmp_path: Any) -> None:
    from bff.sessions.sqlite import SQLiteStore

    now = [time.time()]
    store = SQLiteStore(tmp_path / "s.sqlite3", clock=lambda: now[0])
    try:
        first = record("s1", data=b"\x01one")
        await store.create(SessionRecord(**{**first.__dict__, "expires_at": now[0] + 60}))
        got = await store.get("s1")
        assert got is not None and got.version == first.version
        selects = [0]
        reader = store._reader
        assert reader is not None
        reader.set_trace_callback(lambda sql: selects.__setitem__(0, selects[0] + sql.startswith("SELECT")))
        assert (await store.get("s1")) == got and selects[0] == 0  # unchanged database: no SELECT
        # this store's own write (its writer thread is another connection) is seen at once
        newer = SessionRecord(**{**got.__dict__, "version": got.version + 1, "data": b"\x01two",
                                 "expires_at": now[0] + 60})
        assert await store.replace(newer, expected_version=got.version)
        again = await store.get("s1")
        assert again is not None and again.data == b"\x01two" and selects[0] == 1
        now[0] += 61  # past its expiry: a remembered row is not answered
        assert await store.get("s1") is None
    finally:
        await store.close()
