"""bff.signin.transactions: the browser binding cookie, encrypted records bound to their id,
expiry at Okta's expiresAt, conditional updates and the per-transaction lock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from bff.sessions.memory import MemoryStore
from bff.signin.transactions import (
    MAX_TTL,
    RECORD_PREFIX,
    SigninBusy,
    SigninTransactions,
    transaction_id,
)
from tests.support.env import TEST_SECRET

STATE = {"stateHandle": "02secret-handle", "remediation": {"type": "array", "value": []}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def txns(store: MemoryStore, clock: Clock) -> SigninTransactions:
    return SigninTransactions(store, (TEST_SECRET,), default_ttl=600, lock_ttl=10, clock=clock)


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


async def test_the_cookie_carries_the_binding_and_latest_transaction(txns: SigninTransactions) -> None:
    binding = txns.new_binding()
    txn_id = transaction_id("some-state")
    cookie = txns.cookie_value(binding, txn_id)
    parsed = txns.binding_of(cookie)
    assert parsed is not None and (parsed.binding, parsed.current) == (binding, txn_id)
    assert txns.binding_of(cookie[:-2] + "xx") is None  # tampered
    assert txns.binding_of("") is None
    other = SigninTransactions(MemoryStore(), ("another-secret-key-0123456789abcdef",),
                               default_ttl=1, lock_ttl=1)
    assert other.binding_of(cookie) is None  # signed by someone else


async def test_records_are_encrypted_and_bound_to_their_id(txns: SigninTransactions, store: MemoryStore,
                                                           clock: Clock) -> None:
    txn = txns.new(binding=txns.new_binding(), return_to="/x", scopes=("openid",))
    assert txn.id == transaction_id(txn.state)
    stored = await txns.create(txn, STATE, _at(clock.now + 300))
    record = await store.get(RECORD_PREFIX + txn.id)
    assert record is not None
    assert b"02secret-handle" not in record.data and txn.code_verifier.encode() not in record.data
    assert record.expires_at == clock.now + 300  # Okta's expiresAt
    loaded = await txns.get(txn.id)
    assert loaded is not None and loaded.idx == STATE and loaded.code_verifier == txn.code_verifier
    assert "02secret-handle" not in repr(loaded) and txn.code_verifier not in repr(loaded)
    # the same blob under another id does not decrypt
    other = transaction_id("other-state")
    await store.create(dataclasses.replace(record, id=RECORD_PREFIX + other))
    assert await txns.get(other) is None
    assert await txns.get("not-an-id") is None
    assert stored.version == 1


async def test_expiry_is_capped_and_defaults(txns: SigninTransactions, clock: Clock) -> None:
    txn = txns.new(binding=txns.new_binding(), return_to="/", scopes=())
    far = await txns.create(txn, STATE, _at(clock.now + 86400))
    assert far.expires_at == clock.now + MAX_TTL
    txn2 = txns.new(binding=txns.new_binding(), return_to="/", scopes=())
    none = await txns.create(txn2, STATE, None)
    assert none.expires_at == clock.now + 600
    clock.now += 601
    assert await txns.get(txn2.id) is None


async def test_belongs_only_to_its_browser(txns: SigninTransactions) -> None:
    mine, theirs = txns.new_binding(), txns.new_binding()
    txn = await txns.create(txns.new(binding=mine, return_to="/", scopes=()), STATE, None)
    assert txns.belongs(txn, txns.binding_of(txns.cookie_value(mine, txn.id)))
    assert not txns.belongs(txn, txns.binding_of(txns.cookie_value(theirs, txn.id)))
    assert not txns.belongs(txn, None)


async def test_updates_are_conditional(txns: SigninTransactions, clock: Clock) -> None:
    txn = await txns.create(txns.new(binding=txns.new_binding(), return_to="/", scopes=()), STATE, None)
    newer = await txns.update(txn, {**STATE, "n": 2}, _at(clock.now + 100), identifier="bob@acme.test")
    assert newer.version == 2 and newer.identifier == "bob@acme.test"
    with pytest.raises(SigninBusy):
        await txns.update(txn, {**STATE, "n": 3}, None)  # based on version 1: someone wrote first
    loaded = await txns.get(txn.id)
    assert loaded is not None and loaded.idx["n"] == 2


async def test_an_update_past_expiry_ends_it(txns: SigninTransactions, clock: Clock) -> None:
    txn = await txns.create(txns.new(binding=txns.new_binding(), return_to="/", scopes=()), STATE, None)
    await txns.update(txn, STATE, _at(clock.now - 1))
    assert await txns.get(txn.id) is None


async def test_one_step_at_a_time(txns: SigninTransactions) -> None:
    txn_id = transaction_id("s")
    async with txns.lock(txn_id):
        with pytest.raises(SigninBusy):
            async with txns.lock(txn_id):
                pass
    async with txns.lock(txn_id):  # released
        pass
