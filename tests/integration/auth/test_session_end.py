"""Sessions end everywhere when the account changes at Okta (issue 12, section 1), end to end
over loopback: the Okta twin, TWO BFF instances (uvicorn, each its own app, store client and
memos) sharing the real Redis, the event hook delivered by the twin or posted as Okta would.

A session signed in through instance A ends on instance A when the hook lands on instance B;
each ended session's refresh token is dead at Okta afterwards (RFC 7662 introspection)."""

from __future__ import annotations

import contextlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bff.app import create_app
from bff.auth.revocation import EVENT_TYPES
from bff.sessions.crypto import TokenCipher
from bff.sessions.redis import RedisStore
from bff.settings import Settings
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.okta import OktaTwin
from tests.support.env import TEST_SECRET, base_env
from tests.support.login import SESSION_COOKIE, login_as
from tests.support.okta import running_okta_twin

REDIS = "redis://127.0.0.1:6379/0"
HOOK_SECRET = "session-end-hook-secret-0123456789"
API_TOKEN = "session-end-ssws-token-0123456789"
BOB = "bob@acme.test"


@dataclass
class Cluster:
    okta: OktaTwin
    settings: Settings
    a: httpx.AsyncClient  # instance A
    b: httpx.AsyncClient  # instance B
    prefix: str

    def user_id(self, login: str) -> str:
        return next(u.id for u in self.okta.directory.users.values() if u.login == login)

    async def sign_in(self, login: str = BOB) -> str:
        async with httpx.AsyncClient(base_url=str(self.a.base_url)) as fresh:
            return await login_as(fresh, login)

    async def user(self, client: httpx.AsyncClient, cookie: str) -> httpx.Response:
        return await client.get("/bff/user", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})

    async def refresh_token(self, cookie: str) -> str:
        store = RedisStore.from_url(REDIS, prefix=self.prefix)
        try:
            record = await store.get(cookie.split(".")[0])
        finally:
            await store.close()
        assert record is not None
        data = json.loads(TokenCipher((TEST_SECRET,)).decrypt(record.data, aad=record.id.encode()))
        token: str = data["refresh_token"]
        return token

    async def active(self, token: str) -> bool:
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{self.okta.issuer}/v1/introspect", data={"token": token},
                                auth=(self.settings.okta.client_id, self.settings.okta.client_secret or ""))
        return bool(r.json()["active"])

    async def deliver(self, *events: dict[str, Any]) -> httpx.Response:
        """A delivery as Okta posts it, to instance B."""
        body = {"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
                "eventId": str(uuid.uuid4()), "data": {"events": list(events)}}
        return await self.b.post("/bff/hooks/okta", json=body, headers={"Authorization": HOOK_SECRET})

    def event(self, event_type: str, login: str = BOB, *, external_session_id: str | None = None,
              published: datetime | None = None, actor_self: bool = False) -> dict[str, Any]:
        user = {"id": self.user_id(login), "type": "User", "alternateId": login, "displayName": login}
        admin = {"id": "00uadmin000000000001", "type": "User", "alternateId": "admin@acme.test"}
        return {"uuid": str(uuid.uuid4()), "eventType": event_type, "version": "0",
                "published": (published or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
                "outcome": {"result": "SUCCESS"}, "actor": user if actor_self else admin,
                "target": [] if actor_self else [user],
                "authenticationContext": {"externalSessionId": external_session_id}}


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    prefix = f"test-session-end-{secrets.token_hex(4)}:"
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    async with contextlib.AsyncExitStack() as stack:
        okta = await stack.enter_async_context(running_okta_twin())
        okta.add_api_token(API_TOKEN)
        env = base_env(BFF_OKTA_ISSUER=okta.issuer, BFF_PUBLIC_URL=url_a, BFF_LOG_LEVEL="WARNING",
                       BFF_SESSION_STORE=f"{REDIS}?prefix={prefix}", BFF_OKTA_HOOK_SECRET=HOOK_SECRET)
        settings = Settings.from_env(env)
        # No back-channel logout URI: what ends the sessions here is the event hook alone.
        okta.register_client(settings.okta.client_id, secret=settings.okta.client_secret,
                             redirect_uris=[f"{url_a}/bff/callback"],
                             post_logout_redirect_uris=[f"{url_a}/"])
        okta.register_event_hook(f"{url_b}/bff/hooks/okta", auth_value=HOOK_SECRET,
                                 events=("user.lifecycle.create", *sorted(EVENT_TYPES)))
        await serve_asgi(stack, create_app(settings), port_a, name="bff-a")
        await serve_asgi(stack, create_app(settings), port_b, name="bff-b")
        a = await stack.enter_async_context(httpx.AsyncClient(base_url=url_a, timeout=10))
        b = await stack.enter_async_context(httpx.AsyncClient(base_url=url_b, timeout=10))
        try:
            yield Cluster(okta, settings, a, b, prefix)
        finally:
            redis = Redis.from_url(REDIS)
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()


def ended(r: httpx.Response) -> bool:
    return r.status_code == 401 and r.json()["code"] == "session_ended"


async def test_an_admins_clear_at_okta_ends_the_sessions_on_every_instance(cluster: Cluster) -> None:
    laptop, phone = await cluster.sign_in(), await cluster.sign_in()
    carol = await cluster.sign_in("carol@acme.test")
    for cookie in (laptop, phone):
        assert (await cluster.user(cluster.a, cookie)).status_code == 200
        assert (await cluster.user(cluster.b, cookie)).status_code == 200  # both instances hold it
    # The admin API's call (Okta's own API, not the BFF's): "clear user sessions"; the twin
    # delivers user.session.clear to B.
    async with httpx.AsyncClient() as http:
        r = await http.delete(f"{cluster.okta.base_url}/api/v1/users/{cluster.user_id(BOB)}/sessions",
                              params={"oauthTokens": "true"}, headers={"Authorization": f"SSWS {API_TOKEN}"})
    assert r.status_code == 204
    await cluster.okta.idle()
    assert [d.ok for d in cluster.okta.hooks.deliveries if d.event_type == "user.session.clear"] == [True]
    for cookie in (laptop, phone):
        assert ended(await cluster.user(cluster.a, cookie))
        assert ended(await cluster.user(cluster.b, cookie))
    assert (await cluster.user(cluster.a, carol)).status_code == 200  # another user: untouched


async def test_the_hook_revokes_each_ended_sessions_refresh_token(cluster: Cluster) -> None:
    laptop, phone = await cluster.sign_in(), await cluster.sign_in()
    tokens = [await cluster.refresh_token(c) for c in (laptop, phone)]
    assert all([await cluster.active(t) for t in tokens])
    r = await cluster.deliver(cluster.event("user.lifecycle.suspend"))
    assert r.status_code == 200 and r.json()["sessionsEnded"] == 2
    assert ended(await cluster.user(cluster.a, laptop)) and ended(await cluster.user(cluster.a, phone))
    assert not any([await cluster.active(t) for t in tokens])  # revoked by the BFF at /v1/revoke
    again = await cluster.deliver(cluster.event("user.lifecycle.suspend"))  # at least once: harmless
    assert again.status_code == 200 and again.json()["sessionsEnded"] == 0


async def test_session_end_ends_only_the_named_okta_session(cluster: Cluster) -> None:
    laptop, phone = await cluster.sign_in(), await cluster.sign_in()
    claims = await cluster.a.get("/bff/user", headers={"Cookie": f"{SESSION_COOKIE}={laptop}"})
    assert claims.status_code == 200
    store = RedisStore.from_url(REDIS, prefix=cluster.prefix)
    try:
        record = await store.get(laptop.split(".")[0])
    finally:
        await store.close()
    assert record is not None and record.idp_sid
    unknown = await cluster.deliver(cluster.event("user.session.end", external_session_id="102nosuchsession",
                                                  actor_self=True))
    assert unknown.json()["sessionsEnded"] == 0
    r = await cluster.deliver(cluster.event("user.session.end", external_session_id=record.idp_sid,
                                            actor_self=True))
    assert r.json()["sessionsEnded"] == 1
    assert ended(await cluster.user(cluster.a, laptop))
    assert (await cluster.user(cluster.a, phone)).status_code == 200


async def test_a_password_change_keeps_the_session_that_made_it(cluster: Cluster) -> None:
    mine, other = await cluster.sign_in(), await cluster.sign_in()
    store = RedisStore.from_url(REDIS, prefix=cluster.prefix)
    try:
        record = await store.get(mine.split(".")[0])
    finally:
        await store.close()
    assert record is not None
    event = cluster.event("user.account.update_password", external_session_id=record.idp_sid, actor_self=True)
    failed = {**event, "uuid": str(uuid.uuid4()), "outcome": {"result": "FAILURE"}}
    assert (await cluster.deliver(failed)).json()["sessionsEnded"] == 0
    assert (await cluster.deliver(event)).json()["sessionsEnded"] == 1
    assert (await cluster.user(cluster.b, mine)).status_code == 200
    assert ended(await cluster.user(cluster.b, other))


async def test_a_late_reset_event_spares_the_session_signed_in_after_it(cluster: Cluster) -> None:
    before = await cluster.sign_in()
    reset_at = datetime.now(UTC)
    after = await cluster.sign_in()
    r = await cluster.deliver(cluster.event("user.account.reset_password", published=reset_at))
    assert r.json()["sessionsEnded"] == 1
    assert ended(await cluster.user(cluster.a, before))
    assert (await cluster.user(cluster.a, after)).status_code == 200
    # a disabling event ends everything, whenever it was published
    lock = await cluster.deliver(cluster.event("user.account.lock", published=reset_at, actor_self=True))
    assert lock.json()["sessionsEnded"] == 1
    assert ended(await cluster.user(cluster.a, after))
