"""The sign-in endpoints in-process (ASGI), against the scripted provider (MockTransport) and
the memory store: the browser's view of login, callback, user, logout, back-channel logout."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from bff.app import create_app
from bff.auth.endpoints import AuthArea
from bff.auth.oidc import BACKCHANNEL_LOGOUT_EVENT
from bff.settings import Settings
from tests.support.env import make_settings
from tests.unit.auth.fake_idp import CLIENT_ID, ISSUER, FakeIdP, cached_rsa, sign, unsigned

ORIGIN = "https://app.example.test"
COOKIE = "__Host-bff"
FETCH = {"X-CSRF": "1", "Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}


def build_app(settings: Settings, http: httpx.AsyncClient) -> Starlette:
    """The whole app (other areas start offline: AEM answers through the fake IdP's transport,
    so the content area falls back to its bundled copy)."""
    return create_app(settings, http=http)


@dataclass
class Env:
    idp: FakeIdP
    client: httpx.AsyncClient
    app: Starlette

    @property
    def area(self) -> AuthArea:
        area: AuthArea = self.app.state.services.auth
        return area

    async def start_login(self, **params: str) -> tuple[httpx.Response, dict[str, str]]:
        r = await self.client.get("/bff/login", params=params)
        assert r.status_code == 302, r.text
        q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
        return r, q

    async def login(self, **params: str) -> httpx.Response:
        r, q = await self.start_login(**params)
        code = self.idp.authorize(r.headers["location"])
        return await self.client.get("/bff/callback", params={"code": code, "state": q["state"]})

    def session_cookie(self) -> str | None:
        for cookie in self.client.cookies.jar:
            if cookie.name == COOKIE:
                return cookie.value
        return None


@contextlib.asynccontextmanager
async def environment(idp: FakeIdP | None = None, **env: str) -> AsyncIterator[Env]:
    idp = idp or FakeIdP()
    settings = make_settings(**env)
    async with idp.client() as http:
        app = build_app(settings, http)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
                yield Env(idp, client, app)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with environment(BFF_OKTA_IDP_DISCOVERY="partner.test=0oapartneridp") as e:
        yield e


def cookie_attrs(response: httpx.Response, name: str) -> dict[str, str]:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            parts = [p.strip() for p in header.split(";")]
            attrs = {"value": parts[0].split("=", 1)[1]}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                attrs[k.lower()] = v
            return attrs
    raise AssertionError(f"no Set-Cookie for {name}")


def auth_error(response: httpx.Response) -> str | None:
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query).get("auth_error", [None])[0]


# -- /bff/login ----------------------------------------------------------------------------------


async def test_login_redirects_to_the_authorize_endpoint(env: Env) -> None:
    r, q = await env.start_login(returnTo="/admin")
    assert r.headers["location"].startswith(f"{ISSUER}/v1/authorize?")
    assert r.headers["cache-control"].startswith("no-store")
    assert q["scope"] == "openid profile email offline_access"
    assert q["redirect_uri"] == f"{ORIGIN}/bff/callback"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 43 and len(q["nonce"]) >= 43 and q["state"] != q["nonce"]
    binding = cookie_attrs(r, f"{COOKIE}-login")
    assert {"secure", "httponly"} <= binding.keys() and binding["path"] == "/"
    assert binding["samesite"].lower() == "lax" and "domain" not in binding


async def test_each_login_has_fresh_secrets(env: Env) -> None:
    _, a = await env.start_login()
    _, b = await env.start_login()
    for name in ("state", "nonce", "code_challenge"):
        assert a[name] != b[name]


async def test_stepup_scope_and_prompt_and_idp_discovery(env: Env) -> None:
    _, q = await env.start_login(scope="admin", prompt="login", login_hint="Eve@Partner.test")
    assert q["scope"].split() == ["openid", "profile", "email", "offline_access", "admin"]
    assert q["prompt"] == "login" and q["login_hint"] == "Eve@Partner.test" and q["idp"] == "0oapartneridp"
    _, q = await env.start_login(login_hint="bob@acme.test")
    assert "idp" not in q


@pytest.mark.parametrize("params, code", [
    ({"scope": "okta.users.manage"}, "scope_not_allowed"),
    ({"scope": "admin openid2"}, "scope_not_allowed"),
    ({"prompt": "always"}, "invalid_prompt"),
    ({"login_hint": "x" * 300}, "invalid_login_hint"),
    ({"login_hint": "a\nb@x.test"}, "invalid_login_hint"),
])
async def test_login_rejects_bad_parameters(env: Env, params: dict[str, str], code: str) -> None:
    r = await env.client.get("/bff/login", params=params)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


async def test_login_rejects_repeated_parameters(env: Env) -> None:
    r = await env.client.get("/bff/login?returnTo=/a&returnTo=//evil")
    assert r.status_code == 400


@pytest.mark.parametrize("return_to", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                       "/%2F%2Fevil.example", "/%5Cevil.example", "javascript:alert(1)"])
async def test_open_redirect_attempts_land_on_root(env: Env, return_to: str) -> None:
    r = await env.login(returnTo=return_to)
    assert r.headers["location"] == "/"
    assert env.session_cookie()


async def test_login_with_provider_down_redirects_with_a_code() -> None:
    idp = FakeIdP(down=True)
    async with environment(idp) as env:
        r = await env.client.get("/bff/login")
        assert auth_error(r) == "idp_unavailable"


# -- /bff/callback -------------------------------------------------------------------------------


async def test_callback_creates_a_session_and_sets_the_cookie(env: Env) -> None:
    r = await env.login(returnTo="/orders?x=1")
    assert r.headers["location"] == "/orders?x=1"
    c = cookie_attrs(r, COOKIE)
    assert {"secure", "httponly"} <= c.keys() and c["path"] == "/" and c["samesite"].lower() == "lax"
    assert "domain" not in c
    assert int(c["max-age"]) > 3000
    session_id = c["value"].split(".")[0]
    assert await env.area.sessions.store.get(session_id) is not None
    user = await env.client.get("/bff/user")
    assert user.status_code == 200 and user.json()["email"] == "bob@acme.test"


async def test_cookie_holds_only_a_signed_random_id(env: Env) -> None:
    r = await env.login()
    value = cookie_attrs(r, COOKIE)["value"]
    session_id, signature = value.split(".")
    assert len(session_id) == 43 and len(value) < 100
    assert "bob" not in value and "eyJ" not in value


async def test_new_session_id_on_every_login_and_the_old_one_ends(env: Env) -> None:
    await env.login()
    first = env.session_cookie()
    await env.login(scope="admin")  # a step-up login from the same browser
    second = env.session_cookie()
    assert first and second and first != second
    first_id = first.split(".")[0]
    assert await env.area.sessions.store.get(first_id) is None
    assert env.idp.revoked  # the old session's refresh token went back to the provider


async def test_session_fixation_a_planted_cookie_is_not_adopted(env: Env) -> None:
    planted = env.area.sessions.signer.sign("attacker-chosen-session-id-0000000000000000")
    env.client.cookies.set(COOKIE, planted, domain="app.example.test")
    r = await env.login()
    new = cookie_attrs(r, COOKIE)["value"]
    assert new != planted and not new.startswith("attacker-chosen")


async def test_state_is_single_use(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    ok = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    assert auth_error(ok) is None
    cookie = env.session_cookie()
    replay = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    assert auth_error(replay) == "invalid_state"
    assert env.session_cookie() == cookie  # the session stands


async def test_state_mismatch(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q["state"] + "x"})
    assert auth_error(bad) == "invalid_state"
    assert env.idp.calls["token:authorization_code"] == 0


async def test_callback_from_another_browser_is_refused(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    env.client.cookies.clear()  # the victim's browser has no binding cookie for this state
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    assert auth_error(bad) == "invalid_state"
    assert not any(h.startswith(f"{COOKIE}=") for h in bad.headers.get_list("set-cookie"))


async def test_several_tabs_in_flight_each_complete(env: Env) -> None:
    flights = [await env.start_login(returnTo=f"/tab{i}") for i in range(3)]
    codes = [env.idp.authorize(r.headers["location"]) for r, _ in flights]
    for (_, q), code, i in reversed(list(zip(flights, codes, range(3), strict=True))):
        done = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
        assert done.headers["location"] == f"/tab{i}"


async def test_expired_transaction(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    env.area.transactions.clock = lambda: time.time() + 3600
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    assert auth_error(bad) == "invalid_state"


@pytest.mark.parametrize("error, expected", [
    ("access_denied", "access_denied"), ("login_required", "login_required"),
    ("consent_required", "consent_required"), ("<script>", "idp_error"), ("x" * 500, "idp_error"),
])
async def test_idp_errors_leave_an_existing_session_untouched(env: Env, error: str, expected: str) -> None:
    await env.login()
    cookie = env.session_cookie()
    r, q = await env.start_login(scope="admin")
    bad = await env.client.get("/bff/callback", params={"error": error, "error_description": "Policy",
                                                        "state": q["state"]})
    assert auth_error(bad) == expected
    assert env.session_cookie() == cookie
    assert (await env.client.get("/bff/user")).status_code == 200
    again = await env.client.get("/bff/callback", params={"code": "c", "state": q["state"]})
    assert auth_error(again) == "invalid_state"  # the error consumed the state


async def test_wrong_iss_in_the_authorization_response(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q["state"],
                                                        "iss": "https://evil.example/oauth2/default"})
    assert auth_error(bad) == "issuer_mismatch"
    assert env.idp.calls["token:authorization_code"] == 0


async def test_right_iss_in_the_authorization_response(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    ok = await env.client.get("/bff/callback", params={"code": code, "state": q["state"], "iss": ISSUER})
    assert auth_error(ok) is None


async def test_replayed_code(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    r2, q2 = await env.start_login()
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q2["state"]})
    assert auth_error(bad) == "invalid_grant"


async def test_missing_code(env: Env) -> None:
    _, q = await env.start_login()
    r = await env.client.get("/bff/callback", params={"state": q["state"]})
    assert auth_error(r) == "invalid_request"


async def test_repeated_callback_parameters(env: Env) -> None:
    _, q = await env.start_login()
    bad = await env.client.get(f"/bff/callback?state={q['state']}&state=x&code=a")
    assert auth_error(bad) == "invalid_request"


@pytest.mark.parametrize("hook", [
    lambda c: {**c, "nonce": "other"},
    lambda c: {**c, "aud": "0oaOTHER"},
    lambda c: {k: v for k, v in c.items() if k != "sub"},
    lambda c: {**c, "iss": "https://evil.example"},
])
async def test_bad_id_token_at_callback(env: Env, hook: Any) -> None:
    env.idp.id_claims = hook
    r = await env.login()
    assert auth_error(r) == "invalid_id_token"
    assert env.session_cookie() is None


async def test_alg_none_id_token_at_callback(env: Env) -> None:
    env.idp.id_token_factory = lambda c: unsigned(c)
    assert auth_error(await env.login()) == "invalid_id_token"


async def test_foreign_key_id_token_at_callback(env: Env) -> None:
    env.idp.sign_key = cached_rsa("attacker", "k1")
    assert auth_error(await env.login()) == "invalid_id_token"


async def test_token_endpoint_down_at_callback(env: Env) -> None:
    r, q = await env.start_login()
    code = env.idp.authorize(r.headers["location"])
    env.idp.down_paths = ("/v1/token",)
    bad = await env.client.get("/bff/callback", params={"code": code, "state": q["state"]})
    assert auth_error(bad) == "idp_unavailable"


async def test_userinfo_sub_differing_from_the_id_token() -> None:
    idp = FakeIdP()
    idp.id_claims = lambda c: {k: v for k, v in c.items() if k not in {"email", "name", "groups"}}
    idp.userinfo_claims = {"sub": "00uSOMEONEELSE", "email": "mallory@evil.example"}
    async with environment(idp) as env:
        assert auth_error(await env.login()) == "invalid_userinfo"
        idp.userinfo_claims = {"sub": "00uuser1", "email": "bob@acme.test", "name": "Bob"}
        assert auth_error(await env.login()) is None
        assert (await env.client.get("/bff/user")).json()["email"] == "bob@acme.test"


async def test_hostile_callback_input_never_500s(env: Env) -> None:
    for query in ["", "state=%00", "code=" + "x" * 5000 + "&state=a", "state=" + "é" * 50,
                  "error=access_denied&state=" + "x" * 10000, "x=" * 3000]:
        r = await env.client.get(f"/bff/callback?{query}")
        assert r.status_code in {302, 400}, query


# -- /bff/user -----------------------------------------------------------------------------------


async def test_user_without_session_is_401_problem_json(env: Env) -> None:
    r = await env.client.get("/bff/user")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert "location" not in r.headers


async def test_user_shows_claims_never_tokens(env: Env) -> None:
    await env.login()
    r = await env.client.get("/bff/user")
    body = r.json()
    assert body["sub"] == "00uuser1" and body["orgId"] == "acme"
    assert body["groups"] == ["Everyone", "acme-users"]
    assert body["expiresAt"] > time.time()
    assert "eyJ" not in r.text and "rt-" not in r.text and "token" not in r.text.lower()
    assert r.headers["cache-control"].startswith("no-store")


async def test_user_with_a_tampered_cookie_is_401_and_clears_it(env: Env) -> None:
    await env.login()
    value = env.session_cookie()
    assert value
    env.client.cookies.clear()
    r = await env.client.get("/bff/user", headers={"Cookie": f"{COOKIE}={value[:-3]}abc"})
    assert r.status_code == 401
    cleared = cookie_attrs(r, COOKIE)
    assert cleared["max-age"] == "0"


async def test_user_after_invalid_grant_is_401(env: Env) -> None:
    env.idp.access_ttl = 30
    await env.login()
    env.idp.live_refresh.clear()
    r = await env.client.get("/bff/user")
    assert r.status_code == 401
    assert (await env.client.get("/bff/user")).status_code == 401


async def test_user_while_the_provider_is_down_still_answers(env: Env) -> None:
    env.idp.access_ttl = 30
    await env.login()
    env.idp.down_paths = ("/v1/token",)
    r = await env.client.get("/bff/user")
    assert r.status_code == 200


# -- /bff/logout ---------------------------------------------------------------------------------


async def test_logout_via_fetch(env: Env) -> None:
    await env.login()
    value = env.session_cookie()
    assert value
    r = await env.client.post("/bff/logout", headers=FETCH)
    assert r.status_code == 200
    url = r.json()["logoutUrl"]
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{ISSUER}/v1/logout?")
    assert q["post_logout_redirect_uri"] == f"{ORIGIN}/" and q["state"] and q["id_token_hint"].count(".") == 2
    assert cookie_attrs(r, COOKIE)["max-age"] == "0"
    assert len(env.idp.revoked) == 1
    assert await env.area.sessions.store.get(value.split(".")[0]) is None
    assert (await env.client.get("/bff/user", headers={"Cookie": f"{COOKIE}={value}"})).status_code == 401


async def test_logout_return_to(env: Env) -> None:
    await env.login()
    r = await env.client.post("/bff/logout?returnTo=/%3Fsigned_out%3D1", headers=FETCH)
    q = parse_qs(urlsplit(r.json()["logoutUrl"]).query)
    assert q["post_logout_redirect_uri"] == [f"{ORIGIN}/?signed_out=1"]
    await env.login()
    r = await env.client.post("/bff/logout?returnTo=https://evil.example/", headers=FETCH)
    q = parse_qs(urlsplit(r.json()["logoutUrl"]).query)
    assert q["post_logout_redirect_uri"] == [f"{ORIGIN}/"]


async def test_logout_via_form_post(env: Env) -> None:
    await env.login()
    r = await env.client.post("/bff/logout", data={"X-CSRF": "1"},
                              headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 302 and r.headers["location"].startswith(f"{ISSUER}/v1/logout?")
    assert cookie_attrs(r, COOKIE)["max-age"] == "0"


async def test_logout_without_a_session(env: Env) -> None:
    r = await env.client.post("/bff/logout?returnTo=/bye", headers=FETCH)
    assert r.status_code == 200 and r.json() == {"logoutUrl": "/bye"}


@pytest.mark.parametrize("headers, data", [
    ({}, None),
    ({"X-CSRF": "0"}, None),
    ({"X-CSRF": "1", "Origin": "https://evil.example"}, None),
    ({"X-CSRF": "1", "Sec-Fetch-Site": "cross-site"}, None),
    ({"Origin": "https://evil.example"}, {"X-CSRF": "1"}),  # cross-site form
    ({"Sec-Fetch-Site": "cross-site"}, {"X-CSRF": "1"}),
    ({}, {"X-CSRF": "1"}),  # a form with no origin evidence at all
    ({"Origin": ORIGIN}, {"other": "1"}),  # a same-origin form without the field
])
async def test_logout_csrf_failures(env: Env, headers: dict[str, str], data: dict[str, str] | None) -> None:
    await env.login()
    cookie = env.session_cookie()
    r = await env.client.post("/bff/logout", headers=headers, data=data)
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    assert env.session_cookie() == cookie
    assert (await env.client.get("/bff/user")).status_code == 200  # still signed in


async def test_logout_oversized_form(env: Env) -> None:
    r = await env.client.post("/bff/logout", data={"X-CSRF": "1", "pad": "x" * 10_000},
                              headers={"Origin": ORIGIN})
    assert r.status_code == 413


async def test_logout_is_post_only(env: Env) -> None:
    assert (await env.client.get("/bff/logout")).status_code == 405


# -- /bff/backchannel-logout ---------------------------------------------------------------------


def logout_token(idp: FakeIdP, **over: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 120, "jti": f"j-{now}-{id(over)}",
              "events": {BACKCHANNEL_LOGOUT_EVENT: {}}, "sub": "00uuser1"}
    claims.update(over)
    return sign({k: v for k, v in claims.items() if v is not None}, idp.keys[0], header={"typ": "logout+jwt"})


async def post_logout_token(env: Env, token: str) -> httpx.Response:
    return await env.client.post("/bff/backchannel-logout", data={"logout_token": token})


async def test_backchannel_logout_by_sub(env: Env) -> None:
    await env.login()
    assert (await env.client.get("/bff/user")).status_code == 200
    r = await post_logout_token(env, logout_token(env.idp))
    assert r.status_code == 200 and r.headers["cache-control"].startswith("no-store")
    assert (await env.client.get("/bff/user")).status_code == 401


async def test_backchannel_logout_by_sid() -> None:
    idp = FakeIdP()
    idp.user = {**idp.user, "sid": "idp-sid-7"}
    async with environment(idp) as env:
        await env.login()
        r = await post_logout_token(env, logout_token(idp, sub=None, sid="idp-sid-7"))
        assert r.status_code == 200
        assert (await env.client.get("/bff/user")).status_code == 401


async def test_backchannel_logout_by_sid_and_sub() -> None:
    idp = FakeIdP()
    idp.user = {**idp.user, "sid": "idp-sid-7"}
    async with environment(idp) as env:
        await env.login()
        refresh = idp.revoked[:]
        r = await post_logout_token(env, logout_token(idp, sid="idp-sid-7"))
        assert r.status_code == 200
        assert (await env.client.get("/bff/user")).status_code == 401
        assert len(idp.revoked) == len(refresh) + 1  # its refresh token was revoked too


@pytest.mark.parametrize("sub", ["00uuser1", None])
async def test_backchannel_logout_with_an_unknown_sid_ends_nothing(sub: str | None) -> None:
    """Regression: a sid that matched no session fell back to sub and ended every session."""
    idp = FakeIdP()
    idp.user = {**idp.user, "sid": "idp-sid-phone"}
    async with environment(idp) as env:
        await env.login()
        r = await post_logout_token(env, logout_token(idp, sub=sub, sid="idp-sid-laptop"))
        assert r.status_code == 200
        assert (await env.client.get("/bff/user")).status_code == 200


async def test_backchannel_logout_by_sub_ends_every_session_of_the_user() -> None:
    idp = FakeIdP()
    idp.user = {**idp.user, "sid": "idp-sid-a"}
    async with environment(idp) as env:
        await env.login()
        first = env.session_cookie()
        idp.user = {**idp.user, "sid": "idp-sid-b"}
        env.client.cookies.clear()
        await env.login()
        assert env.session_cookie() != first
        r = await post_logout_token(env, logout_token(idp))
        assert r.status_code == 200
        assert await env.area.sessions.sessions_of("00uuser1") == []


async def test_backchannel_logout_other_user_keeps_session(env: Env) -> None:
    await env.login()
    r = await post_logout_token(env, logout_token(env.idp, sub="00uSOMEONEELSE"))
    assert r.status_code == 200
    assert (await env.client.get("/bff/user")).status_code == 200


@pytest.mark.parametrize("over", [
    {"iss": "https://evil.example"}, {"aud": "0oaOTHER"}, {"events": None},
    {"events": {"urn:other": {}}}, {"nonce": "n"}, {"sub": None}, {"jti": None},
])
async def test_backchannel_logout_bad_tokens_are_400(env: Env, over: dict[str, Any]) -> None:
    await env.login()
    r = await post_logout_token(env, logout_token(env.idp, **over))
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_logout_token"
    assert (await env.client.get("/bff/user")).status_code == 200


async def test_backchannel_logout_alg_none_is_400(env: Env) -> None:
    now = int(time.time())
    token = unsigned({"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 60, "jti": "x",
                      "sub": "00uuser1", "events": {BACKCHANNEL_LOGOUT_EVENT: {}}})
    assert (await post_logout_token(env, token)).status_code == 400


async def test_backchannel_logout_jti_replay_is_400(env: Env) -> None:
    token = logout_token(env.idp, jti="once")
    assert (await post_logout_token(env, token)).status_code == 200
    r = await post_logout_token(env, token)
    assert r.status_code == 400 and "already" in r.json()["detail"]


async def test_backchannel_logout_malformed_requests(env: Env) -> None:
    url = "/bff/backchannel-logout"
    assert (await env.client.post(url, json={"logout_token": "x"})).status_code == 415
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await env.client.post(url, content=b"", headers=form)).status_code == 400
    assert (await env.client.post(url, content=b"a=%zz&&&", headers=form)).status_code == 400
    assert (await env.client.post(url, data={"logout_token": "a.b.c"})).status_code == 400
    assert (await env.client.post(url, content=b"logout_token=a&logout_token=b",
                                  headers=form)).status_code == 400
    assert (await env.client.post(url, data={"logout_token": "x" * 70_000})).status_code == 413
    assert (await env.client.post(url, content=b"\xff\xfe", headers=form)).status_code == 400


# -- readiness -----------------------------------------------------------------------------------


async def test_readyz_reports_discovery_and_store() -> None:
    idp = FakeIdP(down=True)
    async with environment(idp) as env:
        r = await env.client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"] == {"session_store": True, "idp_discovery": False,
                                                                 "outbox": True}
        idp.down = False
        env.area.oidc.monotonic = lambda: time.monotonic() + 60  # past the retry interval
        r = await env.client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"]["idp_discovery"] is True


async def test_auth_errors_land_on_the_configured_path() -> None:
    async with environment(BFF_POST_LOGOUT_PATH="/?signed_out=1") as env:
        r = await env.client.get("/bff/callback", params={"error": "access_denied"})
        assert r.headers["location"] == "/?signed_out=1&auth_error=access_denied"


async def test_login_with_an_oversized_query_is_400(env: Env) -> None:
    r = await env.client.get("/bff/login?returnTo=/" + "a" * 9000)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
