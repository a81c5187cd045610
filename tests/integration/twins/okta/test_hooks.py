"""Event hooks: verification, delivery of user.lifecycle.create, retries, never blocking the API."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import API_TOKEN, refresh, tokens_for
from tests.integration.twins.okta.receiver import receiver

SSWS = {"Authorization": f"SSWS {API_TOKEN}"}
SECRET = "hook-shared-secret-value"


def user(email: str) -> dict[str, object]:
    return {"profile": {"firstName": "Hook", "lastName": "Tester", "email": email, "login": email}}


async def create(http: httpx.AsyncClient, okta: OktaTwin, email: str) -> httpx.Response:
    response = await http.post(f"{okta.base_url}/api/v1/users?activate=true", json=user(email), headers=SSWS)
    assert response.status_code == 200, response.text
    return response


async def test_verification_then_delivery_of_user_create(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        registered = okta.register_event_hook(hook.url, auth_value=SECRET)
        created = (await create(http, okta, "hooked@acme.test")).json()
        async with asyncio.timeout(5):
            await okta.idle()

        assert [r.method for r in hook.requests] == ["GET", "POST"]
        verify = hook.gets[0]
        assert verify.headers["authorization"] == SECRET and verify.headers["x-okta-verification-challenge"]
        post = hook.posts[0]
        assert post.headers["authorization"] == SECRET
        assert post.headers["content-type"] == "application/json"
        payload = json.loads(post.body)
        assert payload["eventType"] == "com.okta.event_hook" and payload["cloudEventsVersion"] == "0.1"
        assert payload["eventTypeVersion"] == "1.0" and payload["contentType"] == "application/json"
        assert payload["source"] == f"{okta.base_url}/api/v1/eventHooks/{registered.id}"
        assert payload["eventId"] and payload["eventTime"].endswith("Z")
        (event,) = payload["data"]["events"]
        assert event["eventType"] == "user.lifecycle.create"
        assert event["uuid"] and event["published"].endswith("Z")
        assert event["outcome"]["result"] == "SUCCESS"
        assert event["actor"]["type"] == "User"
        assert event["target"] == [
            {
                "id": created["id"],
                "type": "User",
                "alternateId": "hooked@acme.test",
                "displayName": "Hook Tester",
                "detailEntry": None,
            }
        ]

        # verified once: the next event is delivered without another GET
        await create(http, okta, "hooked2@acme.test")
        async with asyncio.timeout(5):
            await okta.idle()
        assert [r.method for r in hook.requests] == ["GET", "POST", "POST"]
        uuids = {json.loads(p.body)["data"]["events"][0]["uuid"] for p in hook.posts}
        assert len(uuids) == 2


async def test_failed_verification_means_no_delivery(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        hook.verify = lambda challenge: {"verification": "something else"}
        okta.register_event_hook(hook.url, auth_value=SECRET)
        await create(http, okta, "unverified@acme.test")
        async with asyncio.timeout(5):
            await okta.idle()
        assert [r.method for r in hook.requests] == ["GET"]
        assert okta.hooks.deliveries[0].kind == "verify" and not okta.hooks.deliveries[0].ok
        assert okta.hooks.deliveries[1].attempts == []


async def test_retry_once_on_5xx_but_not_on_4xx(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        okta.register_event_hook(hook.url, auth_value=SECRET)
        hook.post_statuses = [503, 200]
        await create(http, okta, "retry@acme.test")
        async with asyncio.timeout(5):
            await okta.idle()
        assert len(hook.posts) == 2
        assert json.loads(hook.posts[0].body) == json.loads(hook.posts[1].body)  # same event, same uuid
        hook.post_statuses = [500, 500]
        await create(http, okta, "retry2@acme.test")
        async with asyncio.timeout(5):
            await okta.idle()
        assert len(hook.posts) == 4  # one retry, then given up
        hook.post_statuses = [400]
        await create(http, okta, "retry3@acme.test")
        async with asyncio.timeout(5):
            await okta.idle()
        assert len(hook.posts) == 5
        assert [d.attempts for d in okta.hooks.deliveries if d.kind == "event"] == [
            [503, 200],
            [500, 500],
            [400],
        ]


async def test_slow_hook_never_blocks_the_api(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        hook.delay = 1.0
        okta.register_event_hook(hook.url, auth_value=SECRET)
        started = time.monotonic()
        await create(http, okta, "fast@acme.test")
        assert time.monotonic() - started < 0.5
        async with asyncio.timeout(10):
            await okta.idle()
        assert len(hook.posts) == 1


async def test_only_subscribed_event_types_are_sent(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        okta.register_event_hook(hook.url, auth_value=SECRET, events=["user.lifecycle.deactivate"])
        uid = (await create(http, okta, "sub@acme.test")).json()["id"]
        await http.post(f"{okta.base_url}/api/v1/users/{uid}/lifecycle/deactivate", headers=SSWS)
        async with asyncio.timeout(5):
            await okta.idle()
        types = [json.loads(p.body)["data"]["events"][0]["eventType"] for p in hook.posts]
        assert types == ["user.lifecycle.deactivate"]


async def test_unreachable_hook_is_recorded_not_raised(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    okta.register_event_hook("http://127.0.0.1:9/hook", auth_value=SECRET)
    await create(http, okta, "nowhere@acme.test")
    async with asyncio.timeout(5):
        await okta.idle()
    assert okta.hooks.deliveries[0].attempts == [0] and okta.counters["server_error"] == 0


async def test_clearing_a_users_sessions_ends_them_revokes_tokens_and_emits_session_clear(
        okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver() as hook:
        okta.register_event_hook(hook.url, auth_value=SECRET, events=("user.session.clear",))
        tokens = await tokens_for(http, okta, "alice@acme.test", scope="openid offline_access")
        alice = next(u for u in okta.directory.users.values() if u.login == "alice@acme.test")
        assert any(s.user_id == alice.id for s in okta.sessions.values())
        r = await http.delete(f"{okta.base_url}/api/v1/users/{alice.id}/sessions?oauthTokens=true",
                              headers=SSWS)
        assert r.status_code == 204
        assert not any(s.user_id == alice.id for s in okta.sessions.values())
        assert (await refresh(http, okta, tokens["refresh_token"])).status_code == 400  # revoked
        async with asyncio.timeout(5):
            await okta.idle()
        (event,) = json.loads(hook.posts[0].body)["data"]["events"]
        assert event["eventType"] == "user.session.clear"
        assert event["target"][0]["id"] == alice.id
        assert event["actor"]["alternateId"] == "api-admin@okta-twin.test"
        missing = await http.delete(f"{okta.base_url}/api/v1/users/00unosuch/sessions", headers=SSWS)
        assert missing.status_code == 404
        unauthenticated = await http.delete(f"{okta.base_url}/api/v1/users/{alice.id}/sessions")
        assert unauthenticated.status_code == 401
