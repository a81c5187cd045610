"""SessionManager over MemoryStore and the scripted provider: cookies, encryption, lifetimes,
key rotation, and the single-flight refresh (within a process and across two managers that
share one store, as two processes do)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from bff.auth.api import ENDED
from bff.auth.oidc import OIDCClient
from bff.auth.sessions import ManagedSession, SessionManager
from bff.errors import Unauthenticated, Unavailable
from bff.sessions.memory import MemoryStore
from bff.sessions.store import SessionRecord
from tests.support.env import TEST_SECRET, make_settings
from tests.unit.auth.fake_idp import FakeIdP, sign

OTHER_SECRET = "rotated-secret-key-abcdefghijklmnopqrstuvwxyz"
COOKIE = "__Host-bff"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class CountingStore(MemoryStore):
    """MemoryStore that counts calls (the hot-path budget is one read per request)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.reads = 0
        self.writes = 0

    async def get(self, session_id: str) -> SessionRecord | None:
        self.reads += 1
        return await super().get(session_id)

    async def replace(self, record: SessionRecord, *, expected_version: int) -> bool:
        self.writes += 1
        return await super().replace(record, expected_version=expected_version)


@dataclass
class World:
    clock: Clock
    idp: FakeIdP
    store: CountingStore
    http: httpx.AsyncClient
    oidc: OIDCClient

    def manager(self, keys: tuple[str, ...] = (TEST_SECRET,), **kw: Any) -> SessionManager:
        args: dict[str, Any] = dict(store=self.store, oidc=self.oidc, secret_keys=keys, cookie_name=COOKIE,
                                    idle_timeout=3600, absolute_lifetime=8 * 3600, refresh_skew=60,
                                    lock_ttl=5, clock=self.clock)
        args.update(kw)
        return SessionManager(**args)

    async def second_process(self) -> tuple[OIDCClient, SessionManager]:
        """Another 'process': its own OIDC client and manager, the same store and provider."""
        oidc = OIDCClient(make_settings(), self.http, clock=self.clock)
        await oidc.start()
        return oidc, self.manager(oidc=oidc)

    async def login(self, manager: SessionManager, scopes: tuple[str, ...] = (
            "openid", "profile", "email", "offline_access")) -> tuple[ManagedSession, str]:
        url = await self.oidc.authorization_url(state="s", nonce="n", code_verifier="v" * 64, scopes=scopes)
        tokens = await self.oidc.exchange_code(self.idp.authorize(url), "v" * 64)
        assert tokens.id_token
        id_claims = await self.oidc.validate_id_token(tokens.id_token, nonce="n")
        access_claims = await self.oidc.access_token_claims(tokens.access_token)
        return await manager.create(tokens=tokens, id_claims=id_claims, access_claims=access_claims,
                                    requested_scopes=scopes)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = Clock()
    idp = FakeIdP(clock=clock)
    store = CountingStore(clock=clock)
    async with idp.client() as http:
        oidc = OIDCClient(make_settings(), http, clock=clock)
        await oidc.start()
        yield World(clock, idp, store, http, oidc)


def request_with(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


# -- cookie and record --------------------------------------------------------------------------


async def test_create_then_load(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    assert cookie.split(".")[0] == session.id and len(session.id) >= 43
    loaded = await m.load(request_with(cookie))
    assert loaded is not None
    p = loaded.principal
    assert (p.user_id, p.login, p.email, p.org_id) == ("00uuser1", "bob@acme.test", "bob@acme.test", "acme")
    assert p.groups == ("Everyone", "acme-users")
    assert p.scopes == {"openid", "profile", "email", "offline_access"}
    assert p.access_claims["cid"] == "0oatestclient"
    assert p.admin_role is None


async def test_record_is_encrypted_and_carries_no_token(world: World) -> None:
    m = world.manager()
    session, _ = await world.login(m)
    record = await world.store.get(session.id)
    assert record is not None and record.version == 1
    for secret in (session.data.access_token, session.data.refresh_token, session.data.id_token,
                   "bob@acme.test"):
        assert secret and secret.encode() not in record.data
    assert "access_token" not in repr(session.data) and session.data.access_token not in repr(session.data)


@pytest.mark.parametrize("mutate", [
    # a signature byte from the middle: the LAST base64 character of a 32-byte MAC also holds
    # padding bits, so changing it can decode to the very same MAC (a flaky, not a real, pass)
    lambda c: c[:-10] + ("A" if c[-10] != "A" else "B") + c[-9:],
    lambda c: ("y" if c[0] == "x" else "x") + c[1:],  # session id byte
    lambda c: c.split(".")[0],  # unsigned id
    lambda c: c + ".extra",
    lambda c: "",
    lambda c: "garbage",
    lambda c: c * 30,  # oversized
    lambda c: "%00%ff",
])
async def test_tampered_cookies_are_no_session(world: World, mutate: Any) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    world.store.reads = 0
    assert await m.load(request_with(mutate(cookie))) is None
    assert world.store.reads == 0  # rejected before any store lookup


async def test_guessed_but_validly_signed_id_is_no_session(world: World) -> None:
    m = world.manager()
    assert await m.load(request_with(m.signer.sign("not-a-real-session-id"))) is None


async def test_record_moved_to_another_id_does_not_decrypt(world: World) -> None:
    m = world.manager()
    a, _ = await world.login(m)
    b, cookie_b = await world.login(m)
    rec_a = await world.store.get(a.id)
    rec_b = await world.store.get(b.id)
    assert rec_a and rec_b
    # A store-level attacker copies A's ciphertext into B's record: the AAD (session id) breaks it.
    world.store._sessions[b.id] = replace(rec_b, data=rec_a.data)
    assert await m.load(request_with(cookie_b)) is None


async def test_one_store_read_per_request_on_the_hot_path(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    assert await m.load(request_with(cookie)) is not None  # the first request notes the device
    world.store.reads = world.store.writes = 0
    for _ in range(5):
        s = await m.load(request_with(cookie))
        assert s is not None
        await s.access_token()
        await s.access_token()
    assert world.store.reads == 5 and world.store.writes == 0
    assert world.idp.calls["token:refresh_token"] == 0


# -- secret key rotation ------------------------------------------------------------------------


async def test_secret_key_rotation_keeps_sessions(world: World) -> None:
    old = world.manager(keys=(TEST_SECRET,))
    session, cookie = await world.login(old)
    rotated = world.manager(keys=(OTHER_SECRET, TEST_SECRET))  # new key first, old still listed
    loaded = await rotated.load(request_with(cookie))
    assert loaded is not None and loaded.principal.user_id == "00uuser1"
    # ... the record was re-encrypted under the new key on that read ...
    record = await world.store.get(session.id)
    assert record is not None and rotated.cipher.is_current(record.data)
    # ... new cookies are signed with the new key ...
    _, new_cookie = await world.login(rotated)
    assert await world.manager(keys=(OTHER_SECRET,)).load(request_with(new_cookie)) is not None
    # ... and removing the old key ends what only it could read.
    assert await world.manager(keys=(OTHER_SECRET,)).load(request_with(cookie)) is None


# -- lifetimes ----------------------------------------------------------------------------------


async def test_idle_timeout_slides_with_activity(world: World) -> None:
    m = world.manager(idle_timeout=600)
    _, cookie = await world.login(m)
    for _ in range(5):
        world.clock.now += 500  # under the idle timeout each time: the session stays
        assert await m.load(request_with(cookie)) is not None
    world.clock.now += 601
    assert await m.load(request_with(cookie)) is None


async def test_absolute_lifetime_ends_an_active_session(world: World) -> None:
    world.idp.access_ttl = 100_000
    m = world.manager(idle_timeout=3600, absolute_lifetime=7200)
    _, cookie = await world.login(m)
    world.clock.now += 3500
    assert await m.load(request_with(cookie)) is not None
    world.clock.now += 3500
    assert await m.load(request_with(cookie)) is not None
    world.clock.now += 300
    assert await m.load(request_with(cookie)) is None


async def test_session_never_outlives_the_refresh_token(world: World) -> None:
    world.idp.refresh_ttl = 1800
    m = world.manager(idle_timeout=3600)
    session, cookie = await world.login(m)
    assert session.principal.expires_at == pytest.approx(world.clock.now + 1800, abs=2)
    record = await world.store.get(session.id)
    assert record is not None and record.expires_at == pytest.approx(world.clock.now + 1800, abs=2)
    world.clock.now += 1801
    assert await m.load(request_with(cookie)) is None


async def test_without_refresh_token_the_session_ends_with_the_access_token(world: World) -> None:
    world.idp.access_ttl = 900
    m = world.manager()
    session, cookie = await world.login(m, scopes=("openid", "email"))
    assert session.data.refresh_token is None
    assert session.principal.expires_at == pytest.approx(world.clock.now + 900, abs=2)
    world.clock.now += 901
    assert await m.load(request_with(cookie)) is None


async def test_expired_token_without_refresh_token_is_unauthenticated(world: World) -> None:
    world.idp.access_ttl = 900
    m = world.manager()
    session, cookie = await world.login(m, scopes=("openid", "email"))
    world.clock.now += 850  # within the refresh skew: needs a new token, cannot get one
    s = await m.load(request_with(cookie))
    assert s is not None
    with pytest.raises(Unauthenticated):
        await s.access_token()
    assert await m.load(request_with(cookie)) is None


# -- refresh ------------------------------------------------------------------------------------


async def test_refresh_before_expiry_rotates_and_never_reuses(world: World) -> None:
    world.idp.access_ttl = 300
    m = world.manager()
    session, cookie = await world.login(m)
    first_rt = session.data.refresh_token
    world.clock.now += 250  # within the 60 s skew
    s = await m.load(request_with(cookie))
    assert s is not None
    old_at = s.data.access_token
    new_at = await s.access_token()
    assert new_at != old_at and world.idp.calls["token:refresh_token"] == 1
    world.clock.now += 250
    s = await m.load(request_with(cookie))
    assert s is not None
    await s.access_token()
    assert world.idp.calls["token:refresh_token"] == 2
    assert world.idp.refresh_tokens_seen[0] == first_rt
    assert world.idp.refresh_tokens_seen[1] != first_rt  # the rotated token was used
    assert len(set(world.idp.refresh_tokens_seen)) == 2


async def test_fifty_concurrent_requests_one_refresh(world: World) -> None:
    world.idp.access_ttl = 30  # always within the skew: every request needs a fresh token
    m = world.manager()
    _, cookie = await world.login(m)
    world.idp.access_ttl = 3600
    world.idp.token_delay = 0.05
    sessions = [await m.load(request_with(cookie)) for _ in range(50)]
    tokens = await asyncio.gather(*(s.access_token() for s in sessions if s))
    assert world.idp.calls["token:refresh_token"] == 1
    assert len(set(tokens)) == 1


async def test_two_processes_sharing_a_store_refresh_once(world: World) -> None:
    world.idp.access_ttl = 30
    a = world.manager()
    _, cookie = await world.login(a)
    world.idp.access_ttl = 3600
    world.idp.token_delay = 0.05
    _, b = await world.second_process()
    sessions = [await m.load(request_with(cookie)) for m in (a, b) for _ in range(25)]
    tokens = await asyncio.gather(*(s.access_token() for s in sessions if s))
    assert world.idp.calls["token:refresh_token"] == 1
    assert len(set(tokens)) == 1
    assert a.token_calls + b.token_calls == 1


async def test_process_that_saw_an_old_record_rereads_before_refreshing(world: World) -> None:
    """Process B loaded the session before A refreshed; B must not spend the old refresh token."""
    world.idp.access_ttl = 30
    a = world.manager()
    _, cookie = await world.login(a)
    world.idp.access_ttl = 3600
    _, b = await world.second_process()
    stale_b = await b.load(request_with(cookie))
    fresh_a = await a.load(request_with(cookie))
    assert stale_b and fresh_a
    token_a = await fresh_a.access_token()
    token_b = await stale_b.access_token()
    assert token_a == token_b
    assert world.idp.calls["token:refresh_token"] == 1


async def test_force_refresh_after_an_upstream_401(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    world.idp.token_delay = 0.02
    sessions = [await m.load(request_with(cookie)) for _ in range(10)]
    first = sessions[0]
    assert first
    rejected = await first.access_token()
    tokens = await asyncio.gather(*(s.access_token(force_refresh=True) for s in sessions if s))
    assert world.idp.calls["token:refresh_token"] == 1  # ten 401s, one refresh
    assert rejected not in tokens and len(set(tokens)) == 1


async def test_invalid_grant_ends_the_session(world: World) -> None:
    world.idp.access_ttl = 30
    m = world.manager()
    session, cookie = await world.login(m)
    world.idp.live_refresh.clear()  # the provider revoked the refresh token
    sessions = [await m.load(request_with(cookie)) for _ in range(5)]
    results = await asyncio.gather(*(s.access_token() for s in sessions if s), return_exceptions=True)
    assert all(isinstance(r, Unauthenticated) for r in results)
    assert world.idp.calls["token:refresh_token"] == 1
    assert await world.store.get(session.id) is None
    assert await m.load(request_with(cookie)) is None


async def test_provider_down_keeps_the_session(world: World) -> None:
    world.idp.access_ttl = 30
    m = world.manager()
    session, cookie = await world.login(m)
    world.idp.down_paths = ("/v1/token",)
    world.idp.token_delay = 0.05  # the connection attempt takes a while: requests overlap
    sessions = [await m.load(request_with(cookie)) for _ in range(5)]
    results = await asyncio.gather(*(s.access_token() for s in sessions if s), return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results)
    assert world.idp.calls["token"] == 2  # the code, then ONE refresh: waiters share the failure
    world.idp.down_paths = ()
    s = await m.load(request_with(cookie))
    assert s is not None  # the session was kept
    await s.access_token()
    assert world.idp.calls["token"] == 3 and world.idp.calls["token:refresh_token"] == 1


async def test_refreshed_id_token_for_another_subject_ends_the_session(world: World) -> None:
    world.idp.access_ttl = 30
    m = world.manager()
    session, cookie = await world.login(m)
    world.idp.id_claims = lambda c: {**c, "sub": "00uSOMEONEELSE"}
    s = await m.load(request_with(cookie))
    assert s is not None
    with pytest.raises(Unauthenticated):
        await s.access_token()
    assert await world.store.get(session.id) is None
    assert len(world.idp.revoked) == 1  # the freshly issued refresh token was handed back


async def test_refresh_updates_claims_and_scopes(world: World) -> None:
    world.idp.access_ttl = 30
    m = world.manager()
    _, cookie = await world.login(m)
    world.idp.user = {**world.idp.user, "groups": ["Everyone", "acme-sales"]}
    s = await m.load(request_with(cookie))
    assert s is not None
    await s.access_token()
    assert s.principal.groups == ("Everyone", "acme-sales")
    again = await m.load(request_with(cookie))
    assert again is not None and again.principal.groups == ("Everyone", "acme-sales")


async def test_opaque_access_tokens_are_fine(world: World) -> None:
    world.idp.jwt_access_tokens = False
    m = world.manager()
    session, _ = await world.login(m)
    p = session.principal
    assert p.access_claims == {} and p.login == "bob@acme.test"
    assert p.groups == ("Everyone", "acme-users")  # from the ID token then
    assert p.scopes == {"openid", "profile", "email", "offline_access"}


async def test_admin_claims_only_from_the_validated_access_token(world: World) -> None:
    world.idp.user = {**world.idp.user, "adminRole": "org_admin"}  # in the ID token only
    m = world.manager()
    session, _ = await world.login(m)
    assert session.principal.admin_role is None


# -- flags and write conflicts ------------------------------------------------------------------


async def test_set_flag_persists(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    s = await m.load(request_with(cookie))
    assert s is not None
    await s.set_flag("preview", True)
    assert s.principal.preview
    again = await m.load(request_with(cookie))
    assert again is not None and again.principal.preview and again.principal.flags == {"preview": True}


async def test_flag_written_during_a_refresh_is_not_lost(world: World) -> None:
    world.idp.access_ttl = 30
    world.idp.token_delay = 0.05
    m = world.manager()
    _, cookie = await world.login(m)
    world.idp.access_ttl = 3600
    s1 = await m.load(request_with(cookie))
    s2 = await m.load(request_with(cookie))
    assert s1 and s2
    await asyncio.gather(s1.access_token(), s2.set_flag("preview", True))
    final = await m.load(request_with(cookie))
    assert final is not None
    assert final.principal.preview
    assert final.data.access_token == s1.data.access_token  # and the refresh was kept too


@pytest.mark.parametrize("name, value", [("", 1), ("x" * 65, 1), ("big", "x" * 5000), ("obj", object())])
async def test_bad_flags(world: World, name: str, value: Any) -> None:
    from bff.errors import BadRequest

    m = world.manager()
    session, _ = await world.login(m)
    with pytest.raises(BadRequest):
        await session.set_flag(name, value)


# -- ending -------------------------------------------------------------------------------------


async def test_end_for_sub_and_sid(world: World) -> None:
    world.idp.user = {**world.idp.user, "sid": "idp-sid-1"}
    m = world.manager()
    a, ca = await world.login(m)
    b, cb = await world.login(m)
    assert await m.end_for(idp_sid="idp-sid-1") == 2
    assert await m.load(request_with(ca)) is None and await m.load(request_with(cb)) is None


async def test_no_cookie_no_session(world: World) -> None:
    assert await world.manager().load(request_with(None)) is None


async def test_unreadable_record_is_no_session(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    rec = await world.store.get(session.id)
    assert rec
    world.store._sessions[session.id] = replace(rec, data=b"\x01" + b"\x00" * 40)
    assert await m.load(request_with(cookie)) is None


def test_sign_helper_is_deterministic() -> None:  # guards the helper the tests rely on
    from tests.unit.auth.fake_idp import cached_rsa

    assert sign({"a": 1}, cached_rsa("k1")).count(".") == 2


# -- hot-path memos: cookie -> id, id -> decoded record ----------------------------------------


class CountingCipher:
    """Wraps a manager's cipher and counts decryptions."""

    def __init__(self, manager: SessionManager) -> None:
        self.inner = manager.cipher
        self.decrypts = 0
        manager.cipher = self  # type: ignore[assignment]

    def decrypt(self, blob: bytes, *, aad: bytes = b"") -> bytes:
        self.decrypts += 1
        return self.inner.decrypt(blob, aad=aad)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_record_is_decrypted_once_per_version_but_read_on_every_request(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    assert await m.load(request_with(cookie)) is not None  # the first request notes the device
    counting = CountingCipher(m)
    reads = world.store.reads
    first = await m.load(request_with(cookie))
    second = await m.load(request_with(cookie))
    assert first is not None and second is not None
    assert counting.decrypts == 1  # the same ciphertext came back: decoded once
    assert world.store.reads == reads + 2  # but the store is read on every request
    assert second.principal is first.principal  # built once too
    await second.set_flag("preview", True)  # a write: new ciphertext (fresh nonce)
    third = await m.load(request_with(cookie))
    assert third is not None and third.principal.preview is True
    assert counting.decrypts == 2


async def test_memoised_principal_is_read_only(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    loaded = await m.load(request_with(cookie))
    assert loaded is not None
    with pytest.raises(TypeError):
        loaded.principal.flags["preview"] = True  # type: ignore[index]
    with pytest.raises(TypeError):
        loaded.principal.access_claims["adminRole"] = "org_admin"  # type: ignore[index]


async def test_ended_session_is_refused_at_once_despite_the_memo(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    _, other = await world.second_process()
    assert await m.load(request_with(cookie)) is not None  # memoised here
    await other.end(session.id)  # logout handled by another instance
    assert await m.load(request_with(cookie)) is None
    assert session.id not in m._decoded  # its decrypted tokens are not kept either
    session2, cookie2 = await world.login(m)
    assert await m.load(request_with(cookie2)) is not None
    world.clock.now += 3601  # idle timeout, no write at all: the memo must not keep it alive
    assert await m.load(request_with(cookie2)) is None


async def test_a_refresh_by_another_instance_is_seen_on_the_next_request(world: World) -> None:
    m = world.manager()
    _, cookie = await world.login(m)
    _, other = await world.second_process()
    before = await m.load(request_with(cookie))
    assert before is not None
    elsewhere = await other.load(request_with(cookie))
    assert elsewhere is not None
    await elsewhere.access_token(force_refresh=True)
    after = await m.load(request_with(cookie))
    assert after is not None
    assert await after.access_token() == await elsewhere.access_token() != await before.access_token()


async def test_cookie_memo_holds_only_verified_values(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    assert m.session_id_of(request_with(cookie)) == session.id
    assert m.session_id_of(request_with(cookie)) == session.id  # from the memo
    tampered = cookie[:-10] + ("A" if cookie[-10] != "A" else "B") + cookie[-9:]
    assert m.session_id_of(request_with(tampered)) is None
    assert m.session_id_of(request_with(session.id)) is None  # the bare id, unsigned
    assert tampered not in "".join(m._cookie_ids) and len(m._cookie_ids) == 1
    # the exact header is the key: other cookies around it are parsed and verified afresh
    both = Request({"type": "http", "method": "GET", "path": "/",
                    "headers": [(b"cookie", f"theme=dark; {COOKIE}={cookie}".encode())]})
    assert m.session_id_of(both) == session.id
    split = Request({"type": "http", "method": "GET", "path": "/",
                     "headers": [(b"cookie", b"theme=dark"), (b"cookie", f"{COOKIE}={cookie}".encode())]})
    assert m.session_id_of(split) == session.id  # several Cookie headers, as Starlette reads them


async def test_memos_are_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from bff.auth import sessions as module

    monkeypatch.setattr(module, "MEMO_SIZE", 3)
    m = world.manager()
    cookies = [(await world.login(m))[1] for _ in range(5)]
    for cookie in cookies:
        assert await m.load(request_with(cookie)) is not None
    assert len(m._cookie_ids) == 3 and len(m._decoded) == 3
    assert await m.load(request_with(cookies[0])) is not None  # evicted entries are rebuilt


async def test_cookie_memo_keys_are_size_capped(world: World) -> None:
    """The memo key is the whole Cookie header, which the client pads at will: a valid cookie
    sent with ever-different large padding must not pile up in memory (it is verified afresh)."""
    from bff.auth.sessions import MEMO_KEY_MAX

    m = world.manager()
    session, cookie = await world.login(m)
    for n in range(20):
        padding = f"pad{n}=" + "x" * MEMO_KEY_MAX
        padded = Request({"type": "http", "method": "GET", "path": "/",
                          "headers": [(b"cookie", f"{padding}; {COOKIE}={cookie}".encode())]})
        assert m.session_id_of(padded) == session.id
    assert sum(len(key) for key in m._cookie_ids) <= MEMO_KEY_MAX
    assert m.session_id_of(request_with(cookie)) == session.id
    assert len(m._cookie_ids) == 1  # ordinary headers are still memoised


# -- the user's own sessions, ending them ---------------------------------------------------------


def browser_request(cookie: str, ua: str, ip: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "client": (ip, 50000),
                    "headers": [(b"cookie", f"{COOKIE}={cookie}".encode()), (b"user-agent", ua.encode())]})


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def test_the_first_request_notes_the_device_once_then_with_the_idle_touch(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    assert session.data.device is None
    world.store.writes = 0
    loaded = await m.load(browser_request(cookie, FIREFOX, "203.0.113.77"))
    assert loaded is not None and world.store.writes == 1
    assert (loaded.data.device, loaded.data.network) == ("Firefox on Linux", "203.0.113.0/24")
    await m.load(browser_request(cookie, "curl/8", "198.51.100.1"))
    assert world.store.writes == 1  # known device: no write until the next idle-time touch
    world.clock.now += m.touch_interval + 1
    moved = await m.load(browser_request(cookie, FIREFOX, "2001:db8:1234:5678::1"))
    assert moved is not None and world.store.writes == 2 and moved.data.network == "2001:db8:1234::/48"
    raw = (await world.store.get(session.id))
    assert raw is not None and b"203.0.113" not in raw.data and b"Firefox" not in raw.data  # encrypted


async def test_a_genuine_cookie_of_an_ended_session_marks_the_request(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    await m.end(session.id)
    ended = request_with(cookie)
    assert await m.load(ended) is None and ended.scope.get(ENDED) is True
    forged = request_with(cookie[:-2] + "xx")
    assert await m.load(forged) is None and ENDED not in forged.scope
    nothing = request_with(None)
    assert await m.load(nothing) is None and ENDED not in nothing.scope


async def test_end_sessions_of_ends_the_users_sessions_and_revokes_each_refresh_token(world: World) -> None:
    m = world.manager()
    keep, keep_cookie = await world.login(m)
    other, other_cookie = await world.login(m)
    third, _ = await world.login(m)
    refresh = {s.id: s.data.refresh_token for s in (keep, other, third)}
    assert all(refresh.values())
    # another instance holds a decoded copy of the session that is about to end
    _, peer = await world.second_process()
    assert await peer.load(request_with(other_cookie)) is not None
    assert await m.end_sessions_of("00uuser1", keep=keep.id) == 2
    assert sorted(world.idp.revoked) == sorted([refresh[other.id], refresh[third.id]])
    assert await peer.load(request_with(other_cookie)) is None  # refused on the next request
    assert await m.load(request_with(keep_cookie)) is not None
    assert [r.id for r, _ in await m.sessions_of("00uuser1")] == [keep.id]
    assert await m.end_sessions_of("00uuser1") == 1
    assert await m.sessions_of("00uuser1") == []


async def test_a_failed_revocation_still_ends_the_session(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    world.idp.down_paths = ["/v1/revoke"]
    assert await m.end_sessions_of("00uuser1") == 1
    assert await m.load(request_with(cookie)) is None


async def test_end_one_only_ends_a_session_of_that_user(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    assert await m.end_one("00uintruder", session.id) is False
    assert await m.load(request_with(cookie)) is not None
    assert await m.end_one("00uuser1", session.id) is True
    assert world.idp.revoked == [session.data.refresh_token]
    assert await m.load(request_with(cookie)) is None
    assert await m.end_one("00uuser1", session.id) is False


async def test_a_handle_is_stable_per_key_and_is_not_the_id_nor_a_cookie(world: World) -> None:
    m = world.manager()
    session, cookie = await world.login(m)
    handle = m.handle_of(session.id)
    assert handle == m.handle_of(session.id) and len(handle) == 22
    assert handle not in (session.id, cookie) and handle not in session.id
    assert await m.load(request_with(handle)) is None  # as a cookie it is nothing
    assert await m.load(request_with(m.signer.sign(handle))) is None  # nor as a signed one
    rotated = world.manager(keys=("another-secret-key-0123456789abcdefghij", TEST_SECRET))
    assert rotated.handle_of(session.id) != handle
