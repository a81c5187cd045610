"""The proxy with real sessions: sign-in against the Okta twin (step-up ``scope=admin``), real
access tokens attached, a real refresh on an upstream 401, and the direct Lambda transport fed
with the validated access token's claims."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt

from bff.app import create_app
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.functions import LocalFunction
from bff_dev.twins.apigw.twin import ApiGatewayTwin
from bff_dev.twins.okta import OktaTwin
from tests.integration.proxy.conftest import RecordingUpstream
from tests.support.env import make_settings
from tests.support.login import bff_client, login_as, register_bff_client
from tests.support.okta import running_okta_twin

ROUTES = """
[upstreams.api]
url = "{http}"
timeout = 5

[upstreams.fn]
lambda = "arn:aws:lambda:eu-west-1:123456789012:function:echo"
endpoint_url = "{lambda_url}"
timeout = 5

[[routes]]
path = "/api/admin/{{rest:path}}"
upstream = "api"
methods = ["GET", "POST"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]

[[routes]]
path = "/api/fn/{{rest:path}}"
upstream = "fn"
methods = ["GET"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]
"""


def echo(event: dict[str, Any], context: Any) -> Any:
    return {"event": event}


@dataclass
class Real:
    okta: OktaTwin
    upstream: RecordingUpstream
    client: httpx.AsyncClient

    async def get(self, cookie: str, path: str) -> httpx.Response:
        return await self.client.get(path, headers={"X-CSRF": "1", "Cookie": f"__Host-bff={cookie}"})


@pytest.fixture
async def real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Real]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with contextlib.AsyncExitStack() as stack:
        okta = await stack.enter_async_context(running_okta_twin())
        upstream = RecordingUpstream()
        up_port, fn_port = free_port(), free_port()
        await serve_asgi(stack, upstream, up_port, name="upstream")
        twin = ApiGatewayTwin(issuer=okta.issuer, routes=[], functions=[LocalFunction("echo", echo)])
        await serve_asgi(stack, twin, fn_port, name="lambda")
        routes = tmp_path / "routes.toml"
        routes.write_text(ROUTES.format(http=f"http://127.0.0.1:{up_port}",
                                        lambda_url=f"http://127.0.0.1:{fn_port}"))
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_API_ROUTES=str(routes))
        register_bff_client(okta, settings)
        client = await stack.enter_async_context(bff_client(create_app(settings)))
        yield Real(okta, upstream, client)
        upstream.release.set()


async def _login(real: Real, email: str, scope: str | None = "admin") -> str:
    cookie = await login_as(real.client, email, scope=scope)
    real.client.cookies.clear()
    return cookie


async def test_the_real_access_token_is_attached(real: Real) -> None:
    alice = await _login(real, "alice@acme.test")
    response = await real.get(alice, "/api/admin/users")
    assert response.status_code == 200, response.text
    (seen,) = real.upstream.seen
    (authorization,) = seen.header("authorization")
    token = authorization.removeprefix("Bearer ")
    claims = jwt.decode(token, real.okta.keys.key_set()).claims  # signed by the IdP
    assert claims["iss"] == real.okta.issuer and claims["aud"] == "api://default"
    assert claims["sub"] == "alice@acme.test" and "admin" in claims["scp"]
    assert claims["adminRole"] == "org_admin"
    assert seen.header("cookie") == []
    assert alice not in json.dumps(seen.headers)


async def test_roles_from_the_real_tokens(real: Real) -> None:
    gina = await _login(real, "gina@acme.test")
    olga = await _login(real, "olga@globex.test")
    bob = await _login(real, "bob@acme.test", scope=None)
    assert (await real.get(gina, "/api/admin/users")).status_code == 200
    assert (await real.get(olga, "/api/admin/users")).status_code == 200  # tenancy: the API's job
    refused = await real.get(bob, "/api/admin/users")
    assert refused.status_code == 403 and refused.json()["missingScopes"] == ["admin"]
    assert len(real.upstream.seen) == 2


async def test_upstream_401_triggers_a_real_refresh(real: Real) -> None:
    alice = await _login(real, "alice@acme.test")
    assert (await real.get(alice, "/api/admin/users")).status_code == 200
    old = real.upstream.seen[0].header("authorization")[0]
    refreshes = real.okta.counters["token:refresh_token"]
    real.upstream.reject_tokens = {old}  # the API stops accepting this token (e.g. revoked)
    response = await real.get(alice, "/api/admin/reject-known")
    assert response.status_code == 200, response.text
    first, retry = (s.header("authorization")[0] for s in real.upstream.seen[-2:])
    assert first == old and retry != old
    assert real.okta.counters["token:refresh_token"] == refreshes + 1  # one refresh at the IdP
    # the session keeps the new token
    assert (await real.get(alice, "/api/admin/users")).status_code == 200
    assert real.upstream.seen[-1].header("authorization")[0] == retry


async def test_direct_lambda_gets_the_validated_claims_as_strings(real: Real) -> None:
    alice = await _login(real, "alice@acme.test")
    response = await real.get(alice, "/api/fn/anything")
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    jwt_block = event["requestContext"]["authorizer"]["jwt"]
    claims = jwt_block["claims"]
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["sub"] == "alice@acme.test" and claims["orgId"] == "acme"
    assert claims["adminRole"] == "org_admin"
    assert claims["aud"] == "api://default" and claims["exp"].isdigit()
    scopes = jwt_block["scopes"]
    assert "admin" in scopes and claims["scp"] == "[" + " ".join(scopes) + "]"
    token = event["headers"]["authorization"].removeprefix("Bearer ")
    assert jwt.decode(token, real.okta.keys.key_set()).claims["jti"] == claims["jti"]
