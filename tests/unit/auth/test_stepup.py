"""The admin step-up (issue 12 §5, bff.auth.stepup): asked with max_age + acr_values, refused
without a recent multi-factor sign-in (403 step_up_required), and expiring after
BFF_ADMIN_SCOPE_TTL: the session is refreshed down to the normal scopes, /bff/user says
admin: false and the proxy's role check sees the reduced token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bff.auth.stepup import StepUpRequired, check_step_up, multi_factor
from tests.support.env import make_settings
from tests.unit.auth.fake_idp import FakeIdP
from tests.unit.auth.test_endpoints import FETCH, auth_error, environment

OKTA = make_settings().okta
NOW = 1_800_000_000.0


@pytest.mark.parametrize(("claims", "ok"), [
    ({"amr": ["pwd", "otp", "mfa"]}, True),
    ({"amr": ["pwd", "hwk"]}, True),
    ({"amr": ["pwd"], "acr": "urn:okta:loa:2fa:any"}, True),
    ({"amr": ["pwd"]}, False),
    ({"amr": ["pwd", "pwd"]}, False),
    ({"amr": "mfa"}, False),
    ({"acr": "urn:okta:loa:1fa:any"}, False),
    ({}, False),
])
def test_multi_factor(claims: dict[str, Any], ok: bool) -> None:
    assert multi_factor(claims) is ok


def test_a_step_up_grant_needs_a_recent_multi_factor_sign_in() -> None:
    mfa = {"amr": ["pwd", "mfa"], "auth_time": NOW - 30}
    check_step_up(OKTA, mfa, ["openid", "admin"], now=NOW)
    check_step_up(OKTA, {"amr": ["pwd"]}, ["openid", "profile"], now=NOW)  # no step-up: no rule
    for claims in ({**mfa, "auth_time": NOW - 600 - 61}, {"amr": ["pwd", "mfa"]},
                   {**mfa, "auth_time": "1800000000"}, {**mfa, "amr": ["pwd"]}):
        with pytest.raises(StepUpRequired) as info:
            check_step_up(OKTA, claims, ["openid", "admin"], now=NOW)
        assert info.value.status == 403 and info.value.instance_code == "step_up_required"


async def test_the_step_up_asks_for_max_age_and_two_factors() -> None:
    async with environment(BFF_ADMIN_MAX_AGE="300") as env:
        _, q = await env.start_login(scope="admin", prompt="none")
        assert q["max_age"] == "300" and q["acr_values"] == "urn:okta:loa:2fa:any"
        _, plain = await env.start_login()
        assert "max_age" not in plain and "acr_values" not in plain


async def test_a_one_factor_answer_gets_no_admin_session() -> None:
    idp = FakeIdP(honour_mfa=False)  # Okta's policy let one factor through
    async with environment(idp) as env:
        assert (await env.login()).status_code == 302
        before = env.session_cookie()
        r = await env.login(scope="admin")
        assert auth_error(r) == "step_up_required"
        assert env.session_cookie() == before  # the plain session stands, untouched
        user = (await env.client.get("/bff/user")).json()
        assert user["admin"] is False and "admin" not in user["scopes"]
        assert idp.revoked  # the refused grant's refresh token is returned


async def test_an_old_sign_in_gets_no_admin_session() -> None:
    idp = FakeIdP()
    idp.id_claims = lambda c: {**c, "auth_time": int(time.time()) - 3600}  # an old Okta session
    async with environment(idp) as env:
        assert auth_error(await env.login(scope="admin")) == "step_up_required"
        assert env.session_cookie() is None


async def test_the_admin_grant_expires_and_the_session_is_refreshed_down(tmp_path: Path) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text('[upstreams.admin]\nurl = "https://admin.example.test"\n\n[[routes]]\n'
                      'path = "/api/admin/{proxy:path}"\nupstream = "admin"\nmethods = ["GET"]\n'
                      'scopes = ["admin"]\n')
    offset = [0.0]

    def clock() -> float:
        return time.time() + offset[0]

    idp = FakeIdP(clock=clock)
    async with environment(idp, BFF_ADMIN_SCOPE_TTL="60", BFF_API_ROUTES=str(routes)) as env:
        env.area.sessions.clock = env.area.oidc.clock = clock
        r = await env.login(scope="admin")
        assert r.status_code == 302 and auth_error(r) is None
        user = (await env.client.get("/bff/user")).json()
        assert user["admin"] is True and "admin" in user["scopes"]
        offset[0] = 61  # the grant's BFF_ADMIN_SCOPE_TTL has passed
        user = (await env.client.get("/bff/user")).json()
        assert user["admin"] is False and "admin" not in user["scopes"]
        narrowing = idp.token_requests[-1]
        assert narrowing["grant_type"] == "refresh_token"
        assert narrowing["scope"].split() == ["email", "offline_access", "openid", "profile"]
        denied = await env.client.get("/api/admin/users", headers=FETCH)
        assert denied.status_code == 403 and denied.json()["missingScopes"] == ["admin"]
        calls = idp.calls["token:refresh_token"]
        assert (await env.client.get("/bff/user")).json()["admin"] is False
        assert idp.calls["token:refresh_token"] == calls  # narrowed once, not on every request


async def test_a_refused_narrowing_ends_the_session() -> None:
    offset = [0.0]

    def clock() -> float:
        return time.time() + offset[0]

    idp = FakeIdP(clock=clock)
    async with environment(idp, BFF_ADMIN_SCOPE_TTL="60") as env:
        env.area.sessions.clock = env.area.oidc.clock = clock
        await env.login(scope="admin")
        offset[0] = 61
        idp.token_status, idp.token_error = 400, "invalid_scope"
        assert (await env.client.get("/bff/user")).status_code == 401
