from __future__ import annotations

import pytest

from bff.auth.transactions import LoginTransactions, TransactionError
from bff.sessions.memory import MemoryStore
from tests.support.env import TEST_SECRET


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def txns(clock: Clock) -> LoginTransactions:
    return LoginTransactions(MemoryStore(clock=clock), (TEST_SECRET,), ttl=600, clock=clock)


async def test_state_works_once(txns: LoginTransactions) -> None:
    t = await txns.begin(binding="b1", return_to="/x", scopes=("openid",))
    got = await txns.take(t.state, "b1")
    assert (got.nonce, got.code_verifier, got.return_to) == (t.nonce, t.code_verifier, "/x")
    with pytest.raises(TransactionError) as info:
        await txns.take(t.state, "b1")
    assert info.value.code == "invalid_state"


async def test_several_logins_in_flight_each_complete(txns: LoginTransactions) -> None:
    started = [await txns.begin(binding="b1", return_to=f"/tab{i}", scopes=("openid",)) for i in range(4)]
    for t in reversed(started):
        assert (await txns.take(t.state, "b1")).return_to == t.return_to


async def test_other_browser_cannot_complete(txns: LoginTransactions) -> None:
    t = await txns.begin(binding="victim", return_to="/", scopes=("openid",))
    for binding in (None, "attacker"):
        t = await txns.begin(binding="victim", return_to="/", scopes=("openid",))
        with pytest.raises(TransactionError):
            await txns.take(t.state, binding)


async def test_expired(txns: LoginTransactions, clock: Clock) -> None:
    t = await txns.begin(binding="b1", return_to="/", scopes=("openid",))
    clock.now += 601
    with pytest.raises(TransactionError):
        await txns.take(t.state, "b1")


@pytest.mark.parametrize("state", [None, "", "x" * 300, "unknown", "é"])
async def test_unknown_or_malformed_state(txns: LoginTransactions, state: str | None) -> None:
    with pytest.raises(TransactionError):
        await txns.take(state, "b1")


async def test_stored_encrypted(txns: LoginTransactions) -> None:
    t = await txns.begin(binding="b1", return_to="/secret-path", scopes=("openid",))
    raw = txns.store._transactions  # type: ignore[attr-defined]
    blob = next(iter(raw.values())).value
    assert t.code_verifier.encode() not in blob and b"secret-path" not in blob
    assert t.state.encode() not in next(iter(raw)).encode()


def test_binding_cookie_is_signed(txns: LoginTransactions) -> None:
    value = txns.binding_cookie("b1")
    assert txns.binding_of(value) == "b1"
    assert txns.binding_of(value[:-2] + "xx") is None
    assert txns.binding_of("b1") is None
    other = LoginTransactions(MemoryStore(), ("another-secret-key-0123456789abcdef",), ttl=600)
    assert other.binding_of(value) is None
