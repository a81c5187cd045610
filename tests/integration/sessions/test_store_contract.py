"""The ONE contract every SessionStore adapter honours (bff/sessions/store.py), run against
memory, SQLite, Redis (real server) and DynamoDB (boto3 against moto server)."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bff.sessions import open_store
from bff.sessions.cookies import new_session_id
from bff.sessions.dynamodb import DynamoDBStore, ensure_table
from bff.sessions.memory import MemoryStore
from bff.sessions.redis import RedisStore
from bff.sessions.sqlite import SQLiteStore
from bff.sessions.store import SessionExists, SessionRecord, SessionStore, StoreUnavailable
from bff_dev.serving import free_port
from tests.integration.sessions import race_worker
from tests.integration.sessions.conftest import AWS_REGION, REDIS_URL, Backend, dynamodb_client
from tests.support.env import make_settings


def record(backend: Backend, *, user: str = "00ualice", sid: str | None = "102idp-session",
           lifetime: float = 3600.0, data: bytes = b"\x01ciphertext\x00\xff") -> SessionRecord:
    now = backend.clock()
    return SessionRecord(id=new_session_id(), user_id=user, idp_sid=sid, created_at=now,
                         expires_at=now + lifetime, version=1, data=data)


# -- sessions ------------------------------------------------------------------------------


async def test_create_then_get_round_trips_exactly(backend: Backend) -> None:
    store = backend.store
    with_sid = record(backend, data=bytes(range(256)) * 40)
    without_sid = record(backend, sid=None, user="00ubob")
    await store.create(with_sid)
    await store.create(without_sid)
    assert await store.get(with_sid.id) == with_sid
    assert await store.get(without_sid.id) == without_sid
    assert await store.get(new_session_id()) is None


async def test_records_are_shared_by_every_instance_on_the_back_end(backend: Backend) -> None:
    rec = record(backend)
    await backend.store.create(rec)
    other = backend.make()
    assert await other.get(rec.id) == rec


async def test_create_refuses_a_live_id_but_reuses_an_expired_one(backend: Backend) -> None:
    store = backend.store
    rec = record(backend, lifetime=60)
    await store.create(rec)
    with pytest.raises(SessionExists):
        await store.create(replace(rec, user_id="00uattacker"))
    assert (await store.get(rec.id)) == rec
    backend.clock.advance(61)
    fresh = replace(rec, user_id="00ucarol", created_at=backend.clock(), expires_at=backend.clock() + 60)
    await store.create(fresh)
    assert await store.get(rec.id) == fresh


async def test_replace_with_version_and_the_stale_writer_loses(backend: Backend) -> None:
    store = backend.store
    v1 = record(backend)
    await store.create(v1)
    v2 = replace(v1, version=2, data=b"rotated refresh token", expires_at=v1.expires_at + 10)
    assert await store.replace(v2, expected_version=1) is True
    assert await store.get(v1.id) == v2
    stale = replace(v1, version=2, data=b"the other writer")
    assert await store.replace(stale, expected_version=1) is False
    assert await store.get(v1.id) == v2
    v3 = replace(v2, version=3, idp_sid="102other-sid")
    assert await store.replace(v3, expected_version=2) is True
    assert await store.get(v1.id) == v3


async def test_replace_fails_on_a_missing_or_expired_session(backend: Backend) -> None:
    store = backend.store
    ghost = record(backend)
    assert await store.replace(replace(ghost, version=2), expected_version=1) is False
    assert await store.get(ghost.id) is None
    rec = record(backend, lifetime=60)
    await store.create(rec)
    backend.clock.advance(61)
    assert await store.replace(replace(rec, version=2, expires_at=backend.clock() + 600),
                               expected_version=1) is False
    assert await store.get(rec.id) is None


async def test_replace_insists_on_version_plus_one(backend: Backend) -> None:
    rec = record(backend)
    await backend.store.create(rec)
    with pytest.raises(ValueError):
        await backend.store.replace(replace(rec, version=5), expected_version=1)
    assert await backend.store.get(rec.id) == rec


async def test_concurrent_replaces_exactly_one_wins(backend: Backend) -> None:
    store = backend.store
    rec = record(backend)
    await store.create(rec)
    results = await asyncio.gather(*(
        store.replace(replace(rec, version=2, data=f"writer {i}".encode()), expected_version=1)
        for i in range(20)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert (await store.get(rec.id)) == replace(rec, version=2, data=f"writer {winner}".encode())


async def test_expired_record_is_none_even_while_the_back_end_still_holds_it(backend: Backend) -> None:
    store = backend.store
    rec = record(backend, lifetime=60)
    await store.create(rec)
    assert await store.get(rec.id) == rec
    backend.clock.advance(60.5)
    assert await store.get(rec.id) is None
    assert await backend.holds(rec.id), "the back-end deleted it: this test no longer proves read-time expiry"


async def test_delete(backend: Backend) -> None:
    store = backend.store
    keep, gone = record(backend), record(backend)
    await store.create(keep)
    await store.create(gone)
    await store.delete(gone.id)
    assert await store.get(gone.id) is None
    assert not await backend.holds(gone.id)
    assert await store.get(keep.id) == keep
    await store.delete(gone.id)  # deleting twice is fine
    await store.delete(new_session_id())


async def test_delete_for_user(backend: Backend) -> None:
    store = backend.store
    alice1 = record(backend, user="00ualice", sid="sid-a1")
    alice2 = record(backend, user="00ualice", sid=None)
    alice_old = record(backend, user="00ualice", sid="sid-a3", lifetime=30)
    bob = record(backend, user="00ubob", sid="sid-b")
    for r in (alice1, alice2, alice_old, bob):
        await store.create(r)
    backend.clock.advance(31)  # alice_old has expired but is still stored
    assert await store.delete_for(user_id="00ualice") == 2
    for r in (alice1, alice2, alice_old):
        assert await store.get(r.id) is None
        assert not await backend.holds(r.id)
    assert await store.get(bob.id) == bob
    assert await store.delete_for(user_id="00ualice") == 0
    assert await store.delete_for(user_id="00unobody") == 0


async def test_delete_for_idp_sid(backend: Backend) -> None:
    store = backend.store
    tab1 = record(backend, user="00ualice", sid="sid-shared")
    tab2 = record(backend, user="00ualice", sid="sid-shared")
    other_device = record(backend, user="00ualice", sid="sid-phone")
    for r in (tab1, tab2, other_device):
        await store.create(r)
    assert await store.delete_for(idp_sid="sid-shared") == 2
    assert await store.get(tab1.id) is None and await store.get(tab2.id) is None
    assert await store.get(other_device.id) == other_device
    # the user index no longer lists the deleted sessions
    assert await store.delete_for(user_id="00ualice") == 1
    assert await store.get(other_device.id) is None


async def test_delete_for_follows_a_replaced_idp_sid(backend: Backend) -> None:
    store = backend.store
    rec = record(backend, sid="sid-before")
    await store.create(rec)
    await store.replace(replace(rec, version=2, idp_sid="sid-after"), expected_version=1)
    assert await store.delete_for(idp_sid="sid-before") == 0
    assert await store.get(rec.id) is not None
    assert await store.delete_for(idp_sid="sid-after") == 1
    assert await store.get(rec.id) is None


async def test_delete_for_by_both_counts_each_session_once(backend: Backend) -> None:
    store = backend.store
    a = record(backend, user="00ualice", sid="sid-x")
    b = record(backend, user="00ualice", sid="sid-y")
    c = record(backend, user="00ubob", sid="sid-x")
    for r in (a, b, c):
        await store.create(r)
    assert await store.delete_for(user_id="00ualice", idp_sid="sid-x") == 3
    with pytest.raises(ValueError):
        await store.delete_for()


# -- the per-user index: sessions_of, end_sessions ------------------------------------------


async def test_sessions_of_lists_the_users_live_sessions_oldest_first(backend: Backend) -> None:
    store = backend.store
    first = record(backend, user="00ualice", sid="sid-1")
    backend.clock.advance(1)
    second = record(backend, user="00ualice", sid=None)
    backend.clock.advance(1)
    third = record(backend, user="00ualice", sid="sid-3", lifetime=30)
    bob = record(backend, user="00ubob")
    for r in (third, bob, first, second):
        await store.create(r)
    assert await store.sessions_of("00ualice") == [first, second, third]
    assert await backend.make().sessions_of("00ubob") == [bob]
    assert await store.sessions_of("00unobody") == []
    backend.clock.advance(31)  # third expires (still stored): not listed, and dropped from the index
    assert await store.sessions_of("00ualice") == [first, second]
    assert await backend.indexed("00ualice") == {first.id, second.id}
    assert not await backend.holds(third.id)


async def test_sessions_of_sees_a_replaced_record(backend: Backend) -> None:
    rec = record(backend)
    await backend.store.create(rec)
    v2 = replace(rec, version=2, data=b"refreshed", idp_sid="sid-new")
    assert await backend.store.replace(v2, expected_version=1)
    assert await backend.store.sessions_of(rec.user_id) == [v2]


async def test_end_sessions_ends_all_of_a_users_sessions_and_returns_them(backend: Backend) -> None:
    store = backend.store
    alice = [record(backend, user="00ualice", sid=s) for s in ("sid-a", "sid-b", None)]
    stale = record(backend, user="00ualice", lifetime=10)
    bob = record(backend, user="00ubob", sid="sid-a")  # same IdP sid, another user: untouched
    for r in (*alice, stale, bob):
        await store.create(r)
    backend.clock.advance(11)
    ended = await store.end_sessions("00ualice")
    assert sorted(r.id for r in ended) == sorted(r.id for r in alice)  # the live ones only
    assert {r.data for r in ended} == {alice[0].data}  # the records as stored (to revoke their tokens)
    other = backend.make()
    for r in (*alice, stale):
        assert await other.get(r.id) is None
        assert not await backend.holds(r.id)
    assert await backend.indexed("00ualice") == set()
    assert await store.get(bob.id) == bob
    assert await store.end_sessions("00ualice") == []


async def test_end_sessions_all_but_one(backend: Backend) -> None:
    store = backend.store
    mine, laptop, phone = (record(backend, user="00ualice", sid=s) for s in ("sid-1", "sid-2", "sid-3"))
    for r in (mine, laptop, phone):
        await store.create(r)
    ended = await store.end_sessions("00ualice", keep=mine.id)
    assert sorted(r.id for r in ended) == sorted([laptop.id, phone.id])
    assert await store.sessions_of("00ualice") == [mine]
    assert await backend.indexed("00ualice") == {mine.id}
    # keep names a session of someone else: it protects nothing of alice's
    bob = record(backend, user="00ubob")
    await store.create(bob)
    assert [r.id for r in await store.end_sessions("00ualice", keep=bob.id)] == [mine.id]
    assert await store.get(bob.id) == bob


async def test_end_sessions_of_one_idp_session(backend: Backend) -> None:
    store = backend.store
    tab = record(backend, user="00ualice", sid="sid-okta-1")
    other = record(backend, user="00ualice", sid="sid-okta-2")
    no_sid = record(backend, user="00ualice", sid=None)
    for r in (tab, other, no_sid):
        await store.create(r)
    assert [r.id for r in await store.end_sessions("00ualice", idp_sid="sid-okta-1")] == [tab.id]
    assert await store.end_sessions("00ualice", idp_sid="sid-unknown") == []
    assert await store.end_sessions("00ubob", idp_sid="sid-okta-2") == []  # bob has no such session
    assert {r.id for r in await store.sessions_of("00ualice")} == {other.id, no_sid.id}
    assert await backend.indexed("00ualice") == {other.id, no_sid.id}
    # the idp-sid index no longer lists the ended session either
    assert await store.delete_for(idp_sid="sid-okta-1") == 0


async def test_end_sessions_created_before(backend: Backend) -> None:
    store = backend.store
    old = record(backend, user="00ualice")
    backend.clock.advance(10)
    cutoff = backend.clock()
    backend.clock.advance(10)
    new = record(backend, user="00ualice")
    for r in (old, new):
        await store.create(r)
    assert [r.id for r in await store.end_sessions("00ualice", created_before=cutoff)] == [old.id]
    assert await store.sessions_of("00ualice") == [new]
    both = await store.end_sessions("00ualice", keep=new.id, created_before=backend.clock() + 1)
    assert both == []


async def test_the_index_stays_clean_through_every_kind_of_ending(backend: Backend) -> None:
    store = backend.store
    deleted, by_user, by_sid, ended, expired, live = (
        record(backend, user="00ualice", sid=f"sid-{n}", lifetime=30 if n == 4 else 3600) for n in range(6))
    for r in (deleted, by_user, by_sid, ended, expired, live):
        await store.create(r)
    everyone = {r.id for r in (deleted, by_user, by_sid, ended, expired, live)}
    assert await backend.indexed("00ualice") == everyone
    await store.delete(deleted.id)
    assert await store.delete_for(idp_sid="sid-2") == 1
    assert [r.id for r in await store.end_sessions("00ualice", idp_sid="sid-3")] == [ended.id]
    backend.clock.advance(31)
    assert await store.sessions_of("00ualice") == [by_user, live]
    assert await backend.indexed("00ualice") == {by_user.id, live.id}
    assert await store.delete_for(user_id="00ualice") == 2
    assert await backend.indexed("00ualice") == set()
    assert await store.sessions_of("00ualice") == []


# -- one-use transactions ------------------------------------------------------------------


async def test_transaction_is_taken_once(backend: Backend) -> None:
    store = backend.store
    await store.put_transaction("state:abc#1/ü", b"\x00verifier,nonce\xff", ttl=600)
    assert await store.take_transaction("state:abc#1/ü") == b"\x00verifier,nonce\xff"
    assert await store.take_transaction("state:abc#1/ü") is None
    assert await store.take_transaction("never-put") is None


async def test_transactions_are_independent_and_put_overwrites(backend: Backend) -> None:
    store = backend.store
    await store.put_transaction("t1", b"one", ttl=600)
    await store.put_transaction("t2", b"two", ttl=600)
    await store.put_transaction("t1", b"uno", ttl=600)
    assert await backend.make().take_transaction("t1") == b"uno"
    assert await store.take_transaction("t2") == b"two"


async def test_fifty_concurrent_takes_exactly_one_gets_the_value(backend: Backend) -> None:
    store = backend.store
    await store.put_transaction("contended", b"the code verifier", ttl=600)
    results = await asyncio.gather(*(store.take_transaction("contended") for _ in range(50)))
    assert [r for r in results if r is not None] == [b"the code verifier"]


# -- locks ---------------------------------------------------------------------------------


async def test_lock_is_exclusive_and_released_only_by_its_owner(backend: Backend) -> None:
    store = backend.store
    token = await store.acquire_lock("refresh:s1", ttl=30)
    assert token
    assert await store.acquire_lock("refresh:s1", ttl=30) is None
    assert await backend.make().acquire_lock("refresh:s1", ttl=30) is None
    assert await store.acquire_lock("refresh:s2", ttl=30)  # other keys are independent
    await store.release_lock("refresh:s1", "not-the-token")
    assert await store.acquire_lock("refresh:s1", ttl=30) is None
    await store.release_lock("refresh:s1", token)
    again = await store.acquire_lock("refresh:s1", ttl=30)
    assert again and again != token
    await store.release_lock("refresh:s1", token)  # the old owner cannot release the new lock
    assert await store.acquire_lock("refresh:s1", ttl=30) is None


async def test_fifty_concurrent_acquires_exactly_one_winner(backend: Backend) -> None:
    store = backend.store
    results = await asyncio.gather(*(store.acquire_lock("refresh:hot", ttl=30) for _ in range(50)))
    assert len([r for r in results if r is not None]) == 1


# -- claim_once ----------------------------------------------------------------------------


async def test_claim_once(backend: Backend) -> None:
    store = backend.store
    assert await store.claim_once("logout-jti:abc", ttl=600) is True
    assert await store.claim_once("logout-jti:abc", ttl=600) is False
    assert await backend.make().claim_once("logout-jti:abc", ttl=600) is False
    assert await store.claim_once("logout-jti:def", ttl=600) is True
    results = await asyncio.gather(*(store.claim_once("webhook:42", ttl=600) for _ in range(30)))
    assert results.count(True) == 1


# -- expiry of the short-lived primitives (real time: Redis expires them itself) ---------------


async def test_transactions_locks_and_claims_expire_after_their_ttl(backend: Backend) -> None:
    store = backend.store
    await store.put_transaction("tx-short", b"v", ttl=0.3)
    await store.put_transaction("tx-long", b"w", ttl=60)
    old_token = await store.acquire_lock("lock-short", ttl=0.3)
    assert old_token
    assert await store.claim_once("once-short", ttl=0.3) is True
    await asyncio.sleep(0.5)
    assert await store.take_transaction("tx-short") is None
    assert await store.take_transaction("tx-long") == b"w"
    new_token = await store.acquire_lock("lock-short", ttl=30)
    assert new_token
    await store.release_lock("lock-short", old_token)  # the expired owner cannot release it
    assert await store.acquire_lock("lock-short", ttl=30) is None
    assert await store.claim_once("once-short", ttl=30) is True


@pytest.mark.parametrize("ttl", [0, -1.0])
async def test_non_positive_ttls_are_refused(backend: Backend, ttl: float) -> None:
    with pytest.raises(ValueError):
        await backend.store.put_transaction("k", b"v", ttl=ttl)
    with pytest.raises(ValueError):
        await backend.store.acquire_lock("k", ttl=ttl)
    with pytest.raises(ValueError):
        await backend.store.claim_once("k", ttl=ttl)


async def test_a_burst_of_concurrent_reads_is_served(backend: Backend) -> None:
    """More concurrent calls than the Redis pool (50) or the DynamoDB thread pool (10) hold:
    they queue, none fails."""
    rec = record(backend)
    await backend.store.create(rec)
    results = await asyncio.gather(*(backend.store.get(rec.id) for _ in range(200)))
    assert results == [rec] * 200


async def test_ping(backend: Backend) -> None:
    assert await backend.store.ping() is True


# -- open_store picks the adapter from BFF_SESSION_STORE --------------------------------------


async def test_open_store_builds_each_working_adapter(
        tmp_path: Path, moto_endpoint: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ensure_table(dynamodb_client(moto_endpoint), "bff-open-store")
    cases = {
        "memory://": MemoryStore,
        f"sqlite:///{tmp_path}/a/b/s.sqlite3": SQLiteStore,
        f"{REDIS_URL}?prefix={redis_prefix}": RedisStore,
        "dynamodb://bff-open-store": DynamoDBStore,
    }
    for url, kind in cases.items():
        settings = make_settings(BFF_SESSION_STORE=url, BFF_AWS_REGION=AWS_REGION,
                                 BFF_AWS_ENDPOINT_URL=moto_endpoint)
        store = open_store(settings)
        try:
            assert isinstance(store, kind)
            assert await store.ping() is True
            await store.put_transaction("k", b"v", ttl=5)
            assert await store.take_transaction("k") == b"v"
        finally:
            await store.close()
    assert (tmp_path / "a" / "b" / "s.sqlite3").is_file()
    assert (tmp_path / "a" / "b" / "s.sqlite3").stat().st_mode & 0o077 == 0


async def test_sqlite_survives_a_restart(tmp_path: Path) -> None:

    path = tmp_path / "s.sqlite3"
    first = SQLiteStore(path)
    now = time.time()
    rec = SessionRecord(id=new_session_id(), user_id="u", idp_sid=None, created_at=now,
                        expires_at=now + 60, version=1, data=b"d")
    await first.create(rec)
    await first.put_transaction("t", b"v", ttl=60)
    await first.close()
    second = SQLiteStore(path)
    try:
        assert await second.get(rec.id) == rec
        assert await second.take_transaction("t") == b"v"
    finally:
        await second.close()


async def test_unreachable_back_ends_ping_false_and_raise_store_unavailable(tmp_path: Path) -> None:

    dead = free_port()
    stores: list[SessionStore] = [
        RedisStore.from_url(f"redis://127.0.0.1:{dead}/0", connect_timeout=0.5, timeout=0.5),
        DynamoDBStore.connect("t-dead", region=AWS_REGION, endpoint_url=f"http://127.0.0.1:{dead}",
                              aws_access_key_id="x", aws_secret_access_key="x"),
    ]
    (tmp_path / "dir-not-file").mkdir()
    stores.append(SQLiteStore(tmp_path / "dir-not-file"))
    for store in stores:
        try:
            assert await store.ping() is False
            with pytest.raises(StoreUnavailable):
                await store.get("x")
        finally:
            await store.close()


# -- several OS processes sharing one back-end -------------------------------------------------

ROUNDS = 15


def run_race(kind: str, target: str) -> list[list[tuple[bool, bytes | None, bool]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    out = ctx.Queue()
    procs = [ctx.Process(target=race_worker.race, args=(kind, target, ROUNDS, barrier, out, f"p{i}"))
             for i in range(2)]
    for p in procs:
        p.start()
    try:
        results = dict(out.get(timeout=120) for _ in procs)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    for name, value in results.items():
        assert isinstance(value, list), f"{name} failed: {value}"
    return [results["p0"], results["p1"]]


def assert_one_winner_per_round(results: list[list[tuple[bool, bytes | None, bool]]]) -> None:
    for i in range(ROUNDS):
        locks = [r[i][0] for r in results]
        txs = [r[i][1] for r in results]
        claims = [r[i][2] for r in results]
        assert locks.count(True) == 1, f"round {i}: lock winners {locks}"
        assert [t for t in txs if t is not None] == [f"value-{i}".encode()], f"round {i}: {txs}"
        assert claims.count(True) == 1, f"round {i}: claim winners {claims}"


async def test_two_processes_race_on_sqlite(tmp_path: Path) -> None:

    path = tmp_path / "shared.sqlite3"
    store = SQLiteStore(path)
    try:
        for i in range(ROUNDS):
            await store.put_transaction(f"race-tx-{i}", f"value-{i}".encode(), ttl=120)
    finally:
        await store.close()
    results = await asyncio.to_thread(run_race, "sqlite", str(path))
    assert_one_winner_per_round(results)


async def test_two_processes_race_on_redis(redis_prefix: str) -> None:

    store = RedisStore.from_url(REDIS_URL, prefix=redis_prefix)
    try:
        for i in range(ROUNDS):
            await store.put_transaction(f"race-tx-{i}", f"value-{i}".encode(), ttl=120)
    finally:
        await store.close()
    results = await asyncio.to_thread(run_race, "redis", f"{redis_prefix}|{REDIS_URL}")
    assert_one_winner_per_round(results)
