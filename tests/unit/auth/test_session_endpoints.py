"""/bff/sessions in-process: the user's own sessions, listed without anything usable as a cookie,
ended everywhere else or one by one (CSRF), each ending revoking the refresh token; problem+json
for every refusal."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.unit.auth.fake_idp import FakeIdP
from tests.unit.auth.test_endpoints import COOKIE, FETCH, ORIGIN, Env, environment

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


@contextlib.asynccontextmanager
async def browser(env: Env, ua: str, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookie jar, User-Agent and address) on the same app."""
    transport = httpx.ASGITransport(app=env.app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"User-Agent": ua}) as client:
        other = Env(env.idp, client, env.app)
        await other.login()
        assert other.session_cookie()
        assert (await client.get("/bff/user")).status_code == 200  # its first request: device noted
        yield client


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    idp = FakeIdP()
    async with environment(idp) as e:
        await e.login()
        yield e


def is_problem(r: httpx.Response, status: int, code: str) -> bool:
    return (r.status_code == status and r.headers["content-type"] == "application/problem+json"
            and r.json()["code"] == code)


async def test_the_list_shows_each_session_coarsely_and_nothing_usable_as_a_cookie(env: Env) -> None:
    async with browser(env, FIREFOX, "203.0.113.9") as laptop, \
            browser(env, IPHONE, "2001:db8:77:1::5") as phone:
        r = await env.client.get("/bff/sessions")
        assert r.status_code == 200 and r.headers["cache-control"].startswith("no-store")
        assert "Cookie" in r.headers["vary"]
        listed = r.json()["sessions"]
        assert len(listed) == 3
        assert [s["current"] for s in listed] == [True, False, False]
        assert {(s["device"], s["network"]) for s in listed[1:]} == {
            ("Firefox on Linux", "203.0.113.0/24"), ("Safari on iOS", "2001:db8:77::/48")}
        for s in listed:
            assert set(s) == {"handle", "createdAt", "lastSeenAt", "device", "network", "current"}
            assert isinstance(s["createdAt"], int) and s["lastSeenAt"] >= s["createdAt"]
        cookies = [c.cookies.get(COOKIE) for c in (env.client, laptop, phone)]
        ids = [value.split(".")[0] for value in cookies if value]
        body = r.text
        assert len(ids) == 3 and not any(i in body for i in ids)  # neither id nor cookie
        for s in listed:  # a handle presented as the cookie is no session
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url=ORIGIN,
                                         cookies={COOKIE: s["handle"]}) as forger:
                assert (await forger.get("/bff/user")).status_code == 401
        # the phone sees the same list, with itself as the current one
        mine = (await phone.get("/bff/sessions")).json()["sessions"]
        assert [s["handle"] for s in mine] == [s["handle"] for s in listed]
        assert [s["current"] for s in mine] == [False, False, True]


async def test_sign_out_everywhere_else(env: Env) -> None:
    async with browser(env, FIREFOX, "203.0.113.9") as laptop, browser(env, IPHONE, "198.51.100.1") as phone:
        revoked = len(env.idp.revoked)
        r = await env.client.delete("/bff/sessions", headers=FETCH)
        assert r.status_code == 200 and r.json() == {"ended": 2}
        assert len(env.idp.revoked) == revoked + 2
        for other in (laptop, phone):
            assert is_problem(await other.get("/bff/sessions"), 401, "session_ended")
            gone = await other.get("/bff/user")  # which also clears the dead cookie
            assert is_problem(gone, 401, "session_ended") and "set-cookie" in gone.headers
        assert (await env.client.get("/bff/user")).status_code == 200
        assert len((await env.client.get("/bff/sessions")).json()["sessions"]) == 1
        assert (await env.client.delete("/bff/sessions", headers=FETCH)).json() == {"ended": 0}


async def test_end_one_session_by_its_handle(env: Env) -> None:
    async with browser(env, FIREFOX, "203.0.113.9") as laptop, browser(env, IPHONE, "198.51.100.1") as phone:
        listed = (await env.client.get("/bff/sessions")).json()["sessions"]
        laptop_handle = next(s["handle"] for s in listed if s["device"] == "Firefox on Linux")
        revoked = len(env.idp.revoked)
        r = await env.client.delete(f"/bff/sessions/{laptop_handle}", headers=FETCH)
        assert r.status_code == 204 and len(env.idp.revoked) == revoked + 1
        assert is_problem(await laptop.get("/bff/user"), 401, "session_ended")
        assert (await phone.get("/bff/user")).status_code == 200
        again = await env.client.delete(f"/bff/sessions/{laptop_handle}", headers=FETCH)
        assert is_problem(again, 404, "session_not_found")
        current = next(s["handle"] for s in listed if s["current"])
        assert is_problem(await env.client.delete(f"/bff/sessions/{current}", headers=FETCH), 409,
                          "current_session")
        assert (await env.client.get("/bff/user")).status_code == 200


async def test_another_users_handle_ends_nothing() -> None:
    idp = FakeIdP()
    async with environment(idp) as env:
        await env.login()
        theirs = (await env.client.get("/bff/sessions")).json()["sessions"][0]["handle"]
        idp.user = {**idp.user, "sub": "00uMALLORY", "email": "mallory@evil.test"}
        async with browser(env, FIREFOX, "192.0.2.1") as mallory:
            r = await mallory.delete(f"/bff/sessions/{theirs}", headers=FETCH)
            assert is_problem(r, 404, "session_not_found")
        assert (await env.client.get("/bff/user")).status_code == 200


@pytest.mark.parametrize("path", ["/bff/sessions", "/bff/sessions/AAAAAAAAAAAAAAAAAAAAAA"])
@pytest.mark.parametrize("headers", [
    {}, {"X-CSRF": "0"}, {**FETCH, "Origin": "https://evil.example"},
    {**FETCH, "Sec-Fetch-Site": "cross-site"},
])
async def test_deleting_needs_csrf(env: Env, path: str, headers: dict[str, str]) -> None:
    async with browser(env, FIREFOX, "203.0.113.9") as laptop:
        assert is_problem(await env.client.delete(path, headers=headers), 403, "csrf")
        assert (await laptop.get("/bff/user")).status_code == 200


@pytest.mark.parametrize("handle", ["short", "A" * 23, "AAAAAAAAAAAAAAAAAAAAA%20", "..%2F..%2Fuser",
                                    "AAAAAAAAAAAAAAAAAAAA\u00e9\u00e9"])
async def test_malformed_handles_are_400(env: Env, handle: str) -> None:
    r = await env.client.delete(f"/bff/sessions/{handle}", headers=FETCH)
    assert is_problem(r, 400, "invalid_handle") or r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_without_a_session(env: Env) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app), base_url=ORIGIN) as nobody:
        assert is_problem(await nobody.get("/bff/sessions"), 401, "unauthenticated")
        assert is_problem(await nobody.delete("/bff/sessions", headers=FETCH), 401, "unauthenticated")


async def test_other_methods_and_oversized_bodies(env: Env) -> None:
    r = await env.client.post("/bff/sessions", headers=FETCH)
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    r = await env.client.request("DELETE", "/bff/sessions", headers=FETCH, content=b"x" * 2_000_000)
    assert r.status_code < 500
    assert (await env.client.get("/bff/user")).status_code == 200
