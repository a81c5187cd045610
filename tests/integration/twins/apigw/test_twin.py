"""The API Gateway twin over loopback: the JWT authorizer's checks against the Okta twin's keys,
route matching, and API Gateway's own error shapes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.functions import LocalFunction
from bff_dev.twins.apigw.twin import ApiGatewayTwin, TwinRoute
from bff_dev.twins.okta import OktaTwin
from tests.support.okta import running_okta_twin


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def show(event: dict[str, Any], context: Any) -> Any:
    if event["rawPath"].endswith("/boom"):
        raise ValueError("boom")
    if event["rawPath"].endswith("/garbage"):
        return {"statusCode": "nope"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "cookies": ["a=1; Path=/", "b=2; Path=/"], "body": json.dumps(event)}


def slow(event: dict[str, Any], context: Any) -> Any:
    time.sleep(0.6)
    return {}


@dataclass
class Gw:
    okta: OktaTwin
    twin: ApiGatewayTwin
    http: httpx.AsyncClient

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"ver": 1, "jti": "AT.x", "iss": self.okta.issuer, "aud": "api://default",
                                  "iat": now, "exp": now + 300, "cid": "0oa1", "uid": "00ualice",
                                  "scp": ["openid", "admin"], "sub": "alice@acme.test", "orgId": "acme",
                                  "groups": ["customer-admins"]}
        claims.update(overrides)
        return self.okta.keys.sign({k: v for k, v in claims.items() if v is not None})

    async def get(self, path: str, token: str | None = None, **headers: str) -> httpx.Response:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.get(path, headers=headers)


@pytest.fixture
async def gw() -> AsyncIterator[Gw]:
    async with contextlib.AsyncExitStack() as stack:
        okta = await stack.enter_async_context(running_okta_twin())
        twin = ApiGatewayTwin(
            issuer=okta.issuer,
            functions=[LocalFunction("show", show), LocalFunction("slow", slow, timeout=0.3)],
            routes=[TwinRoute("ANY /api/admin/{proxy+}", "show", scopes=("admin",)),
                    TwinRoute("GET /pets/{id}", "show"),
                    TwinRoute("GET /pets/special", "show", authorize=False),
                    TwinRoute("GET /slow", "slow", authorize=False)],
        )
        port = free_port()
        await serve_asgi(stack, twin, port, name="apigw")
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}"))
        yield Gw(okta, twin, http)


async def _denied(response: httpx.Response, status: int, why: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"message": "Unauthorized" if status == 401 else "Forbidden"}
    assert why in response.headers["www-authenticate"]
    assert response.headers["apigw-requestid"]


async def test_valid_token_reaches_the_function_with_string_claims(gw: Gw) -> None:
    response = await gw.get("/api/admin/users/00u1?x=1", gw.token())
    assert response.status_code == 200, response.text
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    event = response.json()
    assert event["routeKey"] == "ANY /api/admin/{proxy+}"
    assert event["pathParameters"] == {"proxy": "users/00u1"}
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["scp"] == "[openid admin]"
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["openid", "admin"]
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]
    # "Bearer" is optional, as in API Gateway
    bare = await gw.http.get("/api/admin/users", headers={"Authorization": gw.token()})
    assert bare.status_code == 200


async def test_authorizer_refusals(gw: Gw) -> None:
    now = int(time.time())
    await _denied(await gw.get("/api/admin/x"), 401, "the token is missing")
    await _denied(await gw.get("/api/admin/x", "not.a.jwt"), 401, "not a valid JWT")
    await _denied(await gw.get("/api/admin/x", gw.token(iss="https://evil.test/oauth2/default")), 401,
                  "valid issuer")
    await _denied(await gw.get("/api/admin/x", gw.token(aud="api://other")), 401, "valid audience")
    await _denied(await gw.get("/api/admin/x", gw.token(aud=None, cid=None)), 401, "valid audience")
    await _denied(await gw.get("/api/admin/x", gw.token(exp=now - 1)), 401, "expired")
    await _denied(await gw.get("/api/admin/x", gw.token(exp=None)), 401, "no expiry")
    await _denied(await gw.get("/api/admin/x", gw.token(nbf=now + 120)), 401, "not valid yet")
    await _denied(await gw.get("/api/admin/x", gw.token(scp=["openid"])), 403, "required scope")
    assert gw.twin.events == []


async def test_client_id_is_checked_when_there_is_no_aud(gw: Gw) -> None:
    gw.twin.authorizer.audiences = ("api://default", "0oa-client")
    response = await gw.get("/api/admin/x", gw.token(aud=None, client_id="0oa-client"))
    assert response.status_code == 200


async def test_forged_signatures_are_refused(gw: Gw) -> None:
    now = int(time.time())
    claims = {"iss": gw.okta.issuer, "aud": "api://default", "exp": now + 300, "scp": ["admin"],
              "sub": "mallory"}
    other = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode({"alg": "RS256", "kid": gw.okta.keys.active_kid}, claims, other)
    await _denied(await gw.get("/api/admin/x", forged), 401, "invalid signature")
    body = _b64(json.dumps(claims).encode())
    # HS256 "signed" with the issuer's public key (the classic key-confusion attack)
    hs_header = _b64(b'{"alg":"HS256","typ":"JWT"}')
    public_pem = gw.okta.keys.active.as_pem(private=False)
    mac = hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest()
    await _denied(await gw.get("/api/admin/x", f"{hs_header}.{body}.{_b64(mac)}"), 401,
                  "signing method HS256 is invalid")
    none_header = _b64(json.dumps({"alg": "none"}).encode())
    await _denied(await gw.get("/api/admin/x", f"{none_header}.{body}."), 401, "")
    assert gw.twin.events == []


async def test_key_rotation_refetches_the_jwks(gw: Gw) -> None:
    assert (await gw.get("/api/admin/x", gw.token())).status_code == 200
    gw.okta.rotate_keys()
    assert (await gw.get("/api/admin/x", gw.token())).status_code == 200


async def test_routes_and_gateway_errors(gw: Gw) -> None:
    special = await gw.get("/pets/special")  # literal beats {id}, and has no authorizer
    assert special.status_code == 200 and special.json()["routeKey"] == "GET /pets/special"
    pet = await gw.get("/pets/42", gw.token(scp=["openid"]))  # no route scopes: any valid token
    assert pet.status_code == 200 and pet.json()["pathParameters"] == {"id": "42"}
    assert (await gw.get("/pets/42")).status_code == 401
    missing = await gw.http.post("/pets/42")
    assert missing.status_code == 404 and missing.json() == {"message": "Not Found"}
    boom = await gw.get("/api/admin/boom", gw.token())
    assert boom.status_code == 500 and boom.json() == {"message": "Internal Server Error"}
    garbage = await gw.get("/api/admin/garbage", gw.token())
    assert garbage.status_code == 500
    slow_one = await gw.get("/slow")
    assert slow_one.status_code == 503 and slow_one.json() == {"message": "Service Unavailable"}
