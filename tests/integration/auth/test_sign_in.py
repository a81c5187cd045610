"""The sign-in core against the Okta twin over loopback: real HTTP, real sign-in form, real
token endpoint with PKCE, rotation and reuse detection. Assertions read the twin's counters."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from bff.auth.endpoints import AuthArea
from bff.errors import Unavailable
from tests.support.login import SESSION_COOKIE, LoginFailed, login_as
from tests.support.okta import browser_sign_in

FETCH = {"X-CSRF": "1", "Origin": "https://app.example.test"}


def area(app: Starlette) -> AuthArea:
    a: AuthArea = app.state.services.auth
    return a


def conn_with(cookie: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/",
                    "headers": [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]})


@pytest.mark.parametrize("email, sub, groups", [
    ("alice@acme.test", "00ualice000000000001", ["customer-admins"]),
    ("gina@acme.test", "00ugina0000000000001", ["customer-admins", "acme-sales"]),
    ("bob@acme.test", "00ubob00000000000001", ["acme-sales"]),
    ("carol@acme.test", "00ucarol000000000001", ["content-authors"]),
])
async def test_each_seeded_user_signs_in(client: httpx.AsyncClient, okta: Any, email: str, sub: str,
                                         groups: list[str]) -> None:
    await login_as(client, email)
    r = await client.get("/bff/user")
    assert r.status_code == 200
    user = r.json()
    assert (user["sub"], user["login"], user["email"], user["orgId"]) == (sub, email, email, "acme")
    assert sorted(user["groups"]) == sorted(groups)
    assert "admin" not in user["scopes"] and "adminRole" not in user
    assert okta.counters["token:authorization_code"] == 1 and okta.counters["signin"] == 1


async def test_wrong_password_does_not_sign_in(client: httpx.AsyncClient) -> None:
    with pytest.raises(LoginFailed, match="idp_sign_in_failed"):
        await login_as(client, "bob@acme.test", "wrong")
    assert (await client.get("/bff/user")).status_code == 401


async def test_stepup_admin_for_alice_and_gina(client: httpx.AsyncClient) -> None:
    await login_as(client, "alice@acme.test", scope="admin")
    user = (await client.get("/bff/user")).json()
    assert user["adminRole"] == "org_admin" and "admin" in user["scopes"]
    await login_as(client, "gina@acme.test", scope="admin")
    user = (await client.get("/bff/user")).json()
    assert user["adminRole"] == "group_admin" and user["adminGroups"] == ["acme-sales"]


async def test_stepup_admin_for_bob_is_access_denied_and_keeps_his_session(client: httpx.AsyncClient,
                                                                           okta: Any) -> None:
    browser = httpx.AsyncClient()  # one browser: the twin's SSO session carries over
    try:
        cookie = await login_as(client, "bob@acme.test", browser=browser)
        with pytest.raises(LoginFailed) as failed:
            await login_as(client, "bob@acme.test", scope="admin", browser=browser)
    finally:
        await browser.aclose()
    assert failed.value.code == "access_denied"
    assert okta.counters["authorize:access_denied"] == 1
    r = await client.get("/bff/user", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert r.status_code == 200 and "adminRole" not in r.json()


async def test_several_tabs_in_flight(client: httpx.AsyncClient, okta: Any) -> None:
    starts = [await client.get("/bff/login", params={"returnTo": f"/tab{i}"}) for i in range(3)]
    binding = client.cookies.get(f"{SESSION_COOKIE}-login")
    assert binding and all(s.status_code == 302 for s in starts)
    async with httpx.AsyncClient() as browser:
        backs = [await browser_sign_in(browser, s.headers["location"], username="carol@acme.test")
                 for s in starts]
    assert okta.counters["signin"] == 1  # the SSO session served tabs 2 and 3
    for i, back in reversed(list(enumerate(backs))):
        target = urlsplit(back.headers["location"])
        done = await client.get(f"{target.path}?{target.query}")
        assert done.status_code == 302 and done.headers["location"] == f"/tab{i}", done.headers["location"]
    assert okta.counters["token:authorization_code"] == 3


async def test_replayed_callback_is_refused(client: httpx.AsyncClient, okta: Any) -> None:
    start = await client.get("/bff/login")
    async with httpx.AsyncClient() as browser:
        back = await browser_sign_in(browser, start.headers["location"], username="bob@acme.test")
    target = urlsplit(back.headers["location"])
    first = await client.get(f"{target.path}?{target.query}")
    assert "auth_error" not in first.headers["location"]
    again = await client.get(f"{target.path}?{target.query}")
    assert parse_qs(urlsplit(again.headers["location"]).query)["auth_error"] == ["invalid_state"]


async def test_prompt_none_without_idp_session_is_login_required(client: httpx.AsyncClient) -> None:
    with pytest.raises(LoginFailed) as failed:
        await login_as(client, "bob@acme.test", prompt="none")
    assert failed.value.code == "login_required"


async def test_authorization_response_iss_from_the_twin(client: httpx.AsyncClient, okta: Any) -> None:
    okta.authorization_response_iss = True
    await login_as(client, "bob@acme.test")
    assert (await client.get("/bff/user")).status_code == 200


async def test_fifty_concurrent_requests_on_an_expired_token_one_refresh(client: httpx.AsyncClient,
                                                                          okta: Any) -> None:
    okta.access_token_ttl = 30  # under BFF_TOKEN_REFRESH_SKEW (60): every request needs a new token
    await login_as(client, "bob@acme.test")
    okta.access_token_ttl = 3600
    okta.delay_next("/v1/token", 0.2)  # a slow token call: the 50 requests truly overlap
    responses = await asyncio.gather(*(client.get("/bff/user") for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert okta.counters["token:refresh_token"] == 1
    # The rotated refresh token is the one used next (the twin revokes everything on reuse).
    okta.access_token_ttl = 30
    await client.get("/bff/user")  # still fresh: no call
    assert okta.counters["token:refresh_token"] == 1


async def test_rotation_chain_never_reuses(client: httpx.AsyncClient, app: Starlette, okta: Any) -> None:
    okta.access_token_ttl = 30
    cookie = await login_as(client, "bob@acme.test")
    for i in range(4):
        assert (await client.get("/bff/user")).status_code == 200
        assert okta.counters["token:refresh_token"] == i + 1
    session = await area(app).sessions.load(conn_with(cookie))
    assert session is not None
    await session.access_token(force_refresh=True)
    assert okta.counters["token:refresh_token"] == 5


async def test_invalid_grant_ends_the_session(client: httpx.AsyncClient, app: Starlette, okta: Any,
                                              settings: Any) -> None:
    okta.access_token_ttl = 30
    cookie = await login_as(client, "bob@acme.test")
    session = await area(app).sessions.load(conn_with(cookie))
    assert session is not None and session.data.refresh_token
    async with httpx.AsyncClient() as http:  # revoke it at the IdP, on the wire
        r = await http.post(f"{okta.issuer}/v1/revoke", auth=(settings.okta.client_id,
                                                               settings.okta.client_secret),
                            data={"token": session.data.refresh_token, "token_type_hint": "refresh_token"})
        assert r.status_code == 200
    assert (await client.get("/bff/user")).status_code == 401
    assert (await client.get("/bff/user")).status_code == 401
    assert okta.counters["token:refresh_token"] == 1
    assert await area(app).sessions.load(conn_with(cookie)) is None


async def test_idp_down_is_503_and_the_session_is_kept(client: httpx.AsyncClient, app: Starlette,
                                                       okta: Any) -> None:
    okta.access_token_ttl = 30
    cookie = await login_as(client, "bob@acme.test")
    okta.fail_next("/v1/token", 503)
    session = await area(app).sessions.load(conn_with(cookie))
    assert session is not None
    with pytest.raises(Unavailable):
        await session.access_token()
    okta.delay_next("/v1/token", 2.0)  # longer than BFF_OKTA_TIMEOUT=1: a timeout
    with pytest.raises(Unavailable):
        await session.access_token()
    r = await client.get("/bff/user")  # the IdP is back
    assert r.status_code == 200
    assert okta.counters["http:POST /oauth2/default/v1/token"] == 4  # code, 503, timeout, success
    assert okta.counters["token:refresh_token"] == 1


async def test_logout_revokes_and_ends_at_the_idp(client: httpx.AsyncClient, okta: Any) -> None:
    cookie = await login_as(client, "bob@acme.test")
    r = await client.post("/bff/logout", headers=FETCH)
    assert r.status_code == 200
    url = r.json()["logoutUrl"]
    assert url.startswith(f"{okta.issuer}/v1/logout?")
    assert okta.counters["revoke"] == 1
    async with httpx.AsyncClient() as browser:  # the browser follows it: the twin accepts the hint
        end = await browser.get(url)
    assert end.status_code == 302 and end.headers["location"].startswith("https://app.example.test/")
    r = await client.get("/bff/user", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert r.status_code == 401


async def test_backchannel_logout_from_the_twin(client: httpx.AsyncClient, okta: Any) -> None:
    await login_as(client, "bob@acme.test")
    sub = (await client.get("/bff/user")).json()["sub"]
    r = await client.post("/bff/backchannel-logout", data={"logout_token": okta.logout_token(sub=sub)})
    assert r.status_code == 200
    assert (await client.get("/bff/user")).status_code == 401
    bad = okta.logout_token(sub=sub, overrides={"events": None})
    assert (await client.post("/bff/backchannel-logout", data={"logout_token": bad})).status_code == 400


async def test_signing_key_rotation_at_the_twin(client: httpx.AsyncClient, okta: Any) -> None:
    await login_as(client, "bob@acme.test")
    keys_before = okta.counters["keys"]
    okta.rotate_keys()
    await login_as(client, "alice@acme.test")  # an ID token under a kid the BFF has not seen
    assert (await client.get("/bff/user")).json()["email"] == "alice@acme.test"
    assert okta.counters["keys"] == keys_before + 1


@pytest.mark.parametrize("store", ["sqlite", "redis"])
async def test_one_refresh_over_each_persistent_store(okta: Any, store: str, tmp_path: Any) -> None:
    import secrets

    from redis.asyncio import Redis

    from bff.app import create_app
    from tests.support.env import make_settings
    from tests.support.login import bff_client, register_bff_client

    prefix = f"test-auth-{secrets.token_hex(4)}:"
    url = f"sqlite:///{tmp_path / 'sessions.sqlite3'}" if store == "sqlite" \
        else f"redis://127.0.0.1:6379/0?prefix={prefix}"
    # BFF_CACHE_BUS set apart: the content area's bus does not take the store's ?prefix= option.
    settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_SESSION_STORE=url,
                             BFF_CACHE_BUS="redis://127.0.0.1:6379/0")
    register_bff_client(okta, settings)
    try:
        async with bff_client(create_app(settings)) as client:
            okta.access_token_ttl = 30
            await login_as(client, "gina@acme.test", scope="admin")
            okta.access_token_ttl = 3600
            okta.delay_next("/v1/token", 0.2)
            responses = await asyncio.gather(*(client.get("/bff/user") for _ in range(50)))
            assert {r.status_code for r in responses} == {200}
            assert {r.json()["adminRole"] for r in responses} == {"group_admin"}
            assert okta.counters["token:refresh_token"] == 1
    finally:
        if store == "redis":
            redis = Redis.from_url("redis://127.0.0.1:6379/0")
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()
