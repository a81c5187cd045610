"""Twin-level hooks: add_routes, delay_next, max_age, clock."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff_dev.twins.okta import OktaTwin
from tests.integration.twins.okta.flows import Login, callback_params, sign_in


async def test_add_routes_while_serving(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    async def servers(request: Request) -> Response:
        return JSONResponse([{"id": "default", "issuer": okta.issuer}])

    assert (await http.get(f"{okta.base_url}/api/v1/authorizationServers")).status_code == 404
    okta.add_routes([Route("/api/v1/authorizationServers", servers)])
    answer = await http.get(f"{okta.base_url}/api/v1/authorizationServers")
    assert answer.status_code == 200 and answer.json()[0]["issuer"] == okta.issuer


async def test_delay_next_makes_a_client_time_out(okta: OktaTwin) -> None:
    okta.delay_next("/v1/keys", 1.0)
    async with httpx.AsyncClient(timeout=0.2) as slow:
        try:
            await slow.get(f"{okta.issuer}/v1/keys")
        except httpx.ReadTimeout:
            pass
        else:
            raise AssertionError("expected a timeout")
        assert (await slow.get(f"{okta.issuer}/v1/keys")).status_code == 200


async def test_max_age_forces_a_new_sign_in(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    await sign_in(http, okta)
    okta.advance(120)
    params = callback_params(await http.get(Login(okta, prompt="none", max_age="60").url))
    assert params["error"] == "login_required"
    fresh = await http.get(Login(okta, max_age="600").url)
    assert "code" in callback_params(fresh)


async def test_session_expires_after_session_ttl(okta: OktaTwin, http: httpx.AsyncClient) -> None:
    await sign_in(http, okta)
    okta.advance(okta.session_ttl + 1)
    assert callback_params(await http.get(Login(okta, prompt="none").url))["error"] == "login_required"
