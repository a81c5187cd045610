"""The twin's custom authorization server over real loopback HTTP, as a relying party sees it."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import httpx
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import RSAKey

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import (
    CLIENT_ID,
    POST_LOGOUT,
    REDIRECT,
    SECRET,
    Login,
    callback_params,
    exchange,
    header,
    refresh,
    sign_in,
    tokens_for,
    verified_claims,
)
from tests.integration.twins.okta.receiver import receiver
from tests.support.okta import PASSWORD, browser_sign_in

POLICY_DENIED = "Policy evaluation failed for this request, please check the policy configurations."


# -- discovery and keys -----------------------------------------------------------------------
async def test_discovery_documents_point_at_the_issuer(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    oidc = (await http.get(f"{okta.issuer}/.well-known/openid-configuration")).json()
    oauth = (await http.get(f"{okta.issuer}/.well-known/oauth-authorization-server")).json()
    for meta in (oidc, oauth):
        assert meta["issuer"] == okta.issuer
        assert meta["authorization_endpoint"] == f"{okta.issuer}/v1/authorize"
        assert meta["token_endpoint"] == f"{okta.issuer}/v1/token"
        assert meta["jwks_uri"] == f"{okta.issuer}/v1/keys"
        assert meta["end_session_endpoint"] == f"{okta.issuer}/v1/logout"
        assert meta["revocation_endpoint"] == f"{okta.issuer}/v1/revoke"
        assert meta["introspection_endpoint"] == f"{okta.issuer}/v1/introspect"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
        assert "admin" in meta["scopes_supported"]
    assert oidc["userinfo_endpoint"] == f"{okta.issuer}/v1/userinfo"
    assert oidc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "orgId" not in oidc["claims_supported"]  # custom claims never appear in discovery
    assert "userinfo_endpoint" not in oauth
    assert "authorization_response_iss_parameter_supported" not in oidc


async def test_keys_rotate_and_old_keys_stay_published(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    before = (await tokens_for(http, okta))["id_token"]
    old_kid = header(before)["kid"]
    jwks = (await http.get(f"{okta.issuer}/v1/keys")).json()
    assert [k["kid"] for k in jwks["keys"]] == [old_kid]
    assert {"kty", "alg", "kid", "use", "e", "n"} <= set(jwks["keys"][0])
    assert "d" not in jwks["keys"][0]

    new_kid = okta.rotate_keys()
    after = (await tokens_for(http, okta))["id_token"]
    assert (header(after)["alg"], header(after)["kid"]) == ("RS256", new_kid)
    kids = [k["kid"] for k in (await http.get(f"{okta.issuer}/v1/keys")).json()["keys"]]
    assert kids == [new_kid, old_kid]
    assert (await verified_claims(http, okta, before))["sub"] == (await verified_claims(http, okta, after))[
        "sub"
    ]


# -- the code flow ----------------------------------------------------------------------------
async def test_code_flow_issues_okta_shaped_tokens(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    login, params = await sign_in(http, okta, "bob@acme.test")
    assert params["state"] == login.state and "iss" not in params
    response = await exchange(http, okta, login, params["code"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email offline_access"
    assert okta.counters["token:authorization_code"] == 1

    at = await verified_claims(http, okta, body["access_token"])
    assert at["jti"].startswith("AT.") and at["ver"] == 1
    assert at["iss"] == okta.issuer and at["aud"] == "api://default"
    assert at["cid"] == CLIENT_ID and at["uid"] == "00ubob00000000000001"
    assert at["sub"] == "bob@acme.test"
    assert at["scp"] == ["openid", "profile", "email", "offline_access"]
    assert at["groups"] == ["acme-sales"] and at["orgId"] == "acme"
    assert at["exp"] - at["iat"] == 3600 and isinstance(at["auth_time"], int)
    assert "adminRole" not in at and "adminGroups" not in at

    idt = await verified_claims(http, okta, body["id_token"])
    assert idt["sub"] == "00ubob00000000000001" and idt["aud"] == CLIENT_ID and idt["iss"] == okta.issuer
    assert idt["nonce"] == login.nonce and idt["jti"].startswith("ID.")
    assert idt["amr"] == ["pwd"] and idt["idp"].startswith("00o")
    assert idt["at_hash"] == create_half_hash(body["access_token"], "RS256").decode()
    assert idt["sid"] in okta.sessions
    assert (idt["name"], idt["email"], idt["preferred_username"]) == (
        "Bob Brown",
        "bob@acme.test",
        "bob@acme.test",
    )
    assert idt["groups"] == ["acme-sales"] and idt["orgId"] == "acme"
    assert idt["auth_time"] == at["auth_time"]


async def test_code_is_single_use_and_bound_to_redirect_uri_and_verifier(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    login, params = await sign_in(http, okta)
    wrong = await exchange(http, okta, login, params["code"], code_verifier="x" * 43)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "PKCE verification failed."}
    # a failed exchange consumed the code, as Okta does
    assert (await exchange(http, okta, login, params["code"])).json()["error"] == "invalid_grant"

    login, params = await sign_in(http, okta)
    other = await exchange(http, okta, login, params["code"], redirect_uri="https://app.example.test/other")
    assert other.json()["error"] == "invalid_grant" and "redirect_uri" in other.json()["error_description"]

    login, params = await sign_in(http, okta)
    assert (await exchange(http, okta, login, params["code"])).status_code == 200
    replay = await exchange(http, okta, login, params["code"])
    assert replay.status_code == 400
    assert replay.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code is invalid or has expired.",
    }


async def test_code_expires_after_code_ttl(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    login, params = await sign_in(http, okta)
    okta.advance(okta.code_ttl + 1)
    assert (await exchange(http, okta, login, params["code"])).json()["error"] == "invalid_grant"


async def test_client_authentication_methods(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    login, params = await sign_in(http, okta)
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": login.verifier,
    }
    bad = await http.post(f"{okta.issuer}/v1/token", data=form, auth=(CLIENT_ID, "wrong"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    none = await http.post(f"{okta.issuer}/v1/token", data=form)
    assert none.status_code == 401 and none.json()["error"] == "invalid_client"
    post = await http.post(
        f"{okta.issuer}/v1/token", data={**form, "client_id": CLIENT_ID, "client_secret": SECRET}
    )
    assert post.status_code == 200


async def test_private_key_jwt_client(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    okta.register_client(
        "0oajwtclient", jwks={"keys": [key.as_dict(private=False)]}, redirect_uris=[REDIRECT]
    )
    token_url = f"{okta.issuer}/v1/token"

    def assertion(**overrides: object) -> str:
        now = int(time.time())
        claims = {
            "iss": "0oajwtclient",
            "sub": "0oajwtclient",
            "aud": token_url,
            "iat": now,
            "exp": now + 300,
            "jti": f"jti-{time.monotonic_ns()}",
            **overrides,
        }
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    async def exchange_with(client_assertion: str) -> httpx.Response:
        login, params = await sign_in(http, okta, client_id="0oajwtclient")
        return await http.post(
            token_url,
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": REDIRECT,
                "code_verifier": login.verifier,
                "client_assertion": client_assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
        )

    good = assertion()
    assert (await exchange_with(good)).status_code == 200
    replayed = await exchange_with(good)
    assert replayed.status_code == 401 and "already been used" in replayed.json()["error_description"]
    assert (await exchange_with(assertion(aud="https://elsewhere/token"))).status_code == 401
    assert (await exchange_with(assertion(exp=int(time.time()) - 10))).status_code == 401
    foreign = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode(
        {"alg": "RS256", "kid": "k1"},
        {
            "iss": "0oajwtclient",
            "sub": "0oajwtclient",
            "aud": token_url,
            "exp": int(time.time()) + 60,
            "jti": "forged",
        },
        foreign,
    )
    assert (await exchange_with(forged)).json()["error"] == "invalid_client"


# -- /v1/authorize rules ----------------------------------------------------------------------
async def test_untrusted_redirect_uri_gets_an_error_page_never_a_redirect(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    for params in (
        {"redirect_uri": "https://evil.example/cb"},
        {"client_id": "0oaunknown"},
        {"redirect_uri": None},
    ):
        login = Login(okta, **params)  # type: ignore[arg-type]
        response = await http.get(login.url)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert 'id="error-code"' in response.text


async def test_authorize_errors_are_redirected_with_state(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    cases = [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"scope": "openid payroll"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"prompt": "none login"}, "invalid_request"),
    ]
    for overrides, error in cases:
        login = Login(okta, **overrides)  # type: ignore[arg-type]
        params = callback_params(await http.get(login.url))
        assert (params["error"], params["state"]) == (error, login.state), overrides
        assert params["error_description"]
    missing_state = Login(okta, state=None)  # type: ignore[arg-type]
    params = callback_params(await http.get(missing_state.url))
    assert params["error"] == "invalid_request" and "state" in params["error_description"]


async def test_admin_scope_is_policy_guarded(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    scope = "openid profile email offline_access admin"
    denied = Login(okta, scope=scope)
    params = callback_params(await browser_sign_in(http, denied.url, username="bob@acme.test"))
    assert params == {"error": "access_denied", "error_description": POLICY_DENIED, "state": denied.state}

    http.cookies.clear()
    alice = await verified_claims(http, okta, (await tokens_for(http, okta, scope=scope))["access_token"])
    assert alice["scp"][-1] == "admin" and alice["adminRole"] == "org_admin" and "adminGroups" not in alice

    http.cookies.clear()
    gina = await verified_claims(
        http, okta, (await tokens_for(http, okta, "gina@acme.test", scope=scope))["access_token"]
    )
    assert (gina["adminRole"], gina["adminGroups"]) == ("group_admin", ["acme-sales"])


async def test_prompt_none_uses_the_twin_session(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    silent = Login(okta, prompt="none")
    params = callback_params(await http.get(silent.url))
    assert params["error"] == "login_required" and params["state"] == silent.state

    await sign_in(http, okta, "carol@acme.test")
    params = callback_params(await http.get(Login(okta, prompt="none").url))
    assert "code" in params
    forced = await http.get(Login(okta, prompt="login").url)
    assert forced.status_code == 200 and 'name="password"' in forced.text
    # an admin step-up without a session still fails with login_required, not access_denied
    http.cookies.clear()
    params = callback_params(await http.get(Login(okta, prompt="none", scope="openid admin").url))
    assert params["error"] == "login_required"


async def test_sign_in_page_is_a_labelled_form(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    login = Login(okta, login_hint="gina@acme.test", idp="0oapartneridp")
    page = await http.get(login.url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert (
        '<label for="okta-signin-username">' in html and 'id="okta-signin-username" name="username"' in html
    )
    assert '<label for="okta-signin-password">' in html and 'name="password"' in html
    assert 'value="gina@acme.test"' in html
    assert "0oapartneridp" in html
    assert okta.authorize_requests[-1]["idp"] == "0oapartneridp"
    assert okta.authorize_requests[-1]["login_hint"] == "gina@acme.test"

    wrong = await browser_sign_in(http, login.url, password="nope")
    assert wrong.status_code == 401 and "Unable to sign in" in wrong.text
    suspended = await browser_sign_in(http, login.url, username="ivan@acme.test")
    assert suspended.status_code == 401
    assert "sid" not in http.cookies


async def test_several_logins_in_flight_each_complete(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    first, second = Login(okta), Login(okta)
    page1, page2 = await http.get(first.url), await http.get(second.url)
    assert page1.status_code == page2.status_code == 200
    r2 = await browser_sign_in(http, second.url, username="bob@acme.test")
    r1 = await http.get(first.url)  # the session now answers the first tab without a form
    for login, response in ((first, r1), (second, r2)):
        params = callback_params(response)
        assert params["state"] == login.state
        assert (await exchange(http, okta, login, params["code"])).status_code == 200


# -- refresh tokens ---------------------------------------------------------------------------
async def test_refresh_rotates_and_reuse_after_leeway_revokes_the_grant(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    first = await tokens_for(http, okta)
    r1 = await refresh(http, okta, first["refresh_token"])
    assert r1.status_code == 200
    second = r1.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["id_token"] and second["access_token"] != first["access_token"]
    refreshed_id = await verified_claims(http, okta, second["id_token"])
    assert "nonce" not in refreshed_id and refreshed_id["sub"] == "00ualice000000000001"

    # within the leeway the previous token still works (a client retrying after a lost answer)
    retried = await refresh(http, okta, first["refresh_token"])
    assert retried.status_code == 200
    newest = retried.json()["refresh_token"]
    okta.advance(okta.refresh_leeway + 1)
    reuse = await refresh(http, okta, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is invalid or expired.",
    }
    # reuse is treated as theft: the newest refresh token is revoked too
    assert (await refresh(http, okta, newest)).json()["error"] == "invalid_grant"
    assert okta.counters["token:refresh_token"] == 4


async def test_reuse_detection_revokes_newest_refresh_and_access_tokens(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    first = await tokens_for(http, okta)
    second = (await refresh(http, okta, first["refresh_token"])).json()
    okta.advance(okta.refresh_leeway + 1)
    assert (await refresh(http, okta, first["refresh_token"])).status_code == 400
    assert (await refresh(http, okta, second["refresh_token"])).json()["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        info = await http.post(
            f"{okta.issuer}/v1/introspect", data={"token": access}, auth=(CLIENT_ID, SECRET)
        )
        assert info.json() == {"active": False}


async def test_refresh_with_a_scope_subset(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    first = await tokens_for(http, okta)
    narrowed = await refresh(http, okta, first["refresh_token"], scope="openid email")
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "openid email"
    wider = await refresh(http, okta, narrowed.json()["refresh_token"], scope="openid admin")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


async def test_no_refresh_token_without_offline_access(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    body = await tokens_for(http, okta, scope="openid profile")
    assert "refresh_token" not in body


# -- userinfo, introspect, revoke, logout -----------------------------------------------------
async def test_userinfo(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    body = await tokens_for(http, okta, "gina@acme.test")
    info = await http.get(
        f"{okta.issuer}/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    claims = info.json()
    assert claims["sub"] == (await verified_claims(http, okta, body["id_token"]))["sub"]
    assert claims["email"] == "gina@acme.test" and claims["locale"] == "es_ES"
    bad = await http.get(f"{okta.issuer}/v1/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    assert (await http.get(f"{okta.issuer}/v1/userinfo")).status_code == 401


async def test_revoke_and_introspect(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    body = await tokens_for(http, okta)
    auth = (CLIENT_ID, SECRET)
    info = (
        await http.post(f"{okta.issuer}/v1/introspect", data={"token": body["access_token"]}, auth=auth)
    ).json()
    assert info["active"] is True and info["token_type"] == "Bearer" and info["client_id"] == CLIENT_ID
    assert info["username"] == "alice@acme.test" and info["uid"] == "00ualice000000000001"
    assert info["jti"].startswith("AT.") and info["scope"] == body["scope"]
    rt = await http.post(
        f"{okta.issuer}/v1/introspect",
        data={"token": body["refresh_token"], "token_type_hint": "refresh_token"},
        auth=auth,
    )
    assert rt.json()["active"] is True and rt.json()["token_type"] == "refresh_token"

    unknown = await http.post(f"{okta.issuer}/v1/revoke", data={"token": "no-such-token"}, auth=auth)
    assert unknown.status_code == 200 and unknown.content == b""
    assert (await http.post(f"{okta.issuer}/v1/revoke", data={"token": "x"})).status_code == 401
    revoked = await http.post(
        f"{okta.issuer}/v1/revoke",
        data={"token": body["refresh_token"], "token_type_hint": "refresh_token"},
        auth=auth,
    )
    assert revoked.status_code == 200
    assert (await refresh(http, okta, body["refresh_token"])).json()["error"] == "invalid_grant"
    assert okta.counters["revoke"] == 3


async def test_logout_ends_the_session_and_checks_the_redirect(
    okta: OktaTwin, http: httpx.AsyncClient
) -> None:
    body = await tokens_for(http, okta)
    okta.advance(okta.id_token_ttl + 60)  # an expired ID token is still a valid hint
    bad = await http.get(
        f"{okta.issuer}/v1/logout",
        params={"id_token_hint": body["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert bad.status_code == 400 and "location" not in bad.headers
    assert (await http.get(f"{okta.issuer}/v1/logout")).status_code == 400
    out = await http.get(
        f"{okta.issuer}/v1/logout",
        params={"id_token_hint": body["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "s 1"},
    )
    assert out.status_code == 302 and out.headers["location"] == f"{POST_LOGOUT}?state=s+1"
    assert not okta.sessions
    params = callback_params(await http.get(Login(okta, prompt="none").url))
    assert params["error"] == "login_required"


async def test_backchannel_logout_token_delivery(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async with receiver("/bcl") as rp:
        okta.register_client("0oabcl", secret=SECRET, redirect_uris=[REDIRECT], backchannel_logout_uri=rp.url)
        assert await okta.send_backchannel_logout("0oabcl", sub="00ubob00000000000001", sid="102abc") == 200
        token = parse_qs(rp.posts[0].body.decode())["logout_token"][0]
        assert rp.posts[0].headers["content-type"] == "application/x-www-form-urlencoded"
        claims = await verified_claims(http, okta, token)
        assert header(token)["typ"] == "logout+jwt"
        assert claims["aud"] == "0oabcl" and claims["iss"] == okta.issuer
        assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
        assert (claims["sub"], claims["sid"]) == ("00ubob00000000000001", "102abc") and "nonce" not in claims

        # ending the user's SSO session notifies every back-channel client that took part in it
        _, params = await sign_in(http, okta, "bob@acme.test", client_id="0oabcl")
        assert okta.end_user_sessions("00ubob00000000000001") == 1
        await okta.idle()
        assert len(rp.posts) == 2


def test_logout_token_overrides_build_invalid_tokens() -> None:
    okta = OktaTwin("http://127.0.0.1:1")
    okta.register_client(CLIENT_ID, secret=SECRET, redirect_uris=[REDIRECT])
    token = okta.logout_token(sub="00u1", overrides={"events": None, "nonce": "n"})
    claims = okta.keys.verify(token)
    assert claims is not None and "events" not in claims and claims["nonce"] == "n"
    assert claims["aud"] == CLIENT_ID


# -- robustness and knobs ---------------------------------------------------------------------
async def test_hostile_token_requests_get_precise_4xx(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    url = f"{okta.issuer}/v1/token"
    auth = (CLIENT_ID, SECRET)
    as_json = await http.post(url, json={"grant_type": "authorization_code"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    repeated = await http.post(
        url,
        content=b"grant_type=a&grant_type=b",
        auth=auth,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400 and "more than once" in repeated.json()["error_description"]
    huge = await http.post(
        url,
        content=b"code=" + b"a" * 200_000,
        auth=auth,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    binary = await http.post(
        url,
        content=b"code=\xff\xfe",
        auth=auth,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert binary.status_code == 400
    unsupported = await http.post(url, data={"grant_type": "password"}, auth=auth)
    assert unsupported.json()["error"] == "unsupported_grant_type"
    nul = await http.get(f"{okta.issuer}/v1/authorize", params={"client_id": "a\x00b"})
    assert nul.status_code == 400
    assert (await http.delete(f"{okta.issuer}/v1/token")).status_code == 405
    assert okta.counters["server_error"] == 0


async def test_fail_next_and_knobs(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    okta.access_token_ttl = 120
    body = await tokens_for(http, okta)
    assert body["expires_in"] == 120
    okta.fail_next("/v1/token", 503)
    failed = await refresh(http, okta, body["refresh_token"])
    assert failed.status_code == 503 and failed.json()["error"] == "server_error"
    assert (await refresh(http, okta, body["refresh_token"])).status_code == 200
    assert okta.counters["token:refresh_token"] == 1  # the injected failure never reached the grant
    assert okta.counters[f"http:POST {okta.issuer.removeprefix(okta.base_url)}/v1/token"] == 3


async def test_authorization_response_iss_knob(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    okta.authorization_response_iss = True
    _, params = await sign_in(http, okta)
    assert params["iss"] == okta.issuer


# -- issue 12 §5: the step-up's recent, multi-factor sign-in ------------------------------------


async def test_acr_values_2fa_asks_for_a_second_factor_and_says_so(okta: OktaTwin,
                                                                   http: httpx.AsyncClient) -> None:
    import pyotp

    from bff_dev.twins.okta.hosted_mfa import hosted_totp_secret

    plain = await verified_claims(http, okta, (await tokens_for(http, okta))["id_token"])
    assert plain["amr"] == ["pwd"] and plain["acr"] == "urn:okta:loa:1fa:any"
    assert abs(plain["auth_time"] - time.time()) < 5
    # the one-factor SSO session does not satisfy acr_values=...2fa...: the page asks again,
    # now with the code field
    stepup = Login(okta, scope="openid profile email offline_access admin",
                   acr_values="urn:okta:loa:2fa:any", max_age="600")
    page = await http.get(stepup.url)
    assert page.status_code == 200 and 'name="otp"' in page.text
    form = {"stateToken": page.text.split('name="stateToken" value="')[1].split('"')[0],
            "username": "alice@acme.test", "password": PASSWORD, "otp": "000000"}
    action = f"{okta.issuer}/v1/authorize"
    wrong = await http.post(action, data=form)
    assert wrong.status_code == 401 and 'name="otp"' in wrong.text  # a wrong code: the page again
    form["otp"] = pyotp.TOTP(hosted_totp_secret("alice@acme.test")).now()
    params = callback_params(await http.post(action, data=form, follow_redirects=False))
    body = (await exchange(http, okta, stepup, params["code"])).json()
    claims = await verified_claims(http, okta, body["id_token"])
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == "urn:okta:loa:2fa:any"
    # the multi-factor session now satisfies a second step-up without a page (prompt=none works)
    again = Login(okta, scope="openid admin", acr_values="urn:okta:loa:2fa:any", max_age="600", prompt="none")
    assert "code" in callback_params(await http.get(again.url))
    # ...until it is older than max_age (prompt=none: login_required, as Okta answers)
    okta.advance(601)
    late = Login(okta, scope="openid admin", acr_values="urn:okta:loa:2fa:any", max_age="600", prompt="none")
    assert callback_params(await http.get(late.url))["error"] == "login_required"


async def test_a_narrower_refresh_drops_the_admin_claims(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    scope = "openid profile email offline_access admin"
    body = await tokens_for(http, okta, scope=scope, acr_values="urn:okta:loa:2fa:any", max_age="600")
    narrowed = await refresh(http, okta, body["refresh_token"], scope="openid profile email offline_access")
    assert narrowed.status_code == 200, narrowed.text
    claims = await verified_claims(http, okta, narrowed.json()["access_token"])
    assert "admin" not in claims["scp"] and "adminRole" not in claims


async def test_a_non_admin_step_up_is_refused_before_any_second_factor(okta: OktaTwin,
                                                                      http: httpx.AsyncClient) -> None:
    await sign_in(http, okta, "bob@acme.test")  # a one-factor SSO session of a non-admin
    stepup = Login(okta, scope="openid admin", acr_values="urn:okta:loa:2fa:any", max_age="600")
    params = callback_params(await http.get(stepup.url))
    assert params["error"] == "access_denied" and params["error_description"] == POLICY_DENIED
