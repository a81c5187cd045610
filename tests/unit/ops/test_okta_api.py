"""The Management API client: pagination (same origin only), rate limits, retries, error shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bff.ops.okta_api import OktaAdminApi, OktaApiError, credentials_for
from bff.signup.okta_users import PrivateKeyJwtCredentials, SswsCredentials

ORG = "https://acme.okta.test"


def api(handler: Any, **kw: Any) -> tuple[OktaAdminApi, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OktaAdminApi(
        ORG, client, SswsCredentials("tok-123"), sleep=sleep, clock=lambda: 1000.0, **kw
    ), slept


def error(status: int, code: str, summary: str, causes: tuple[str, ...] = ()) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": "oaeXYZ",
            "errorCauses": [{"errorSummary": c} for c in causes],
        },
    )


async def test_lists_follow_next_links_and_send_the_token() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        assert request.headers["authorization"] == "SSWS tok-123"
        if "after" not in request.url.params:
            return httpx.Response(
                200, json=[{"id": "1"}], headers={"Link": f'<{ORG}/api/v1/apps?after=1&limit=1>; rel="next"'}
            )
        return httpx.Response(200, json=[{"id": "2"}])

    client, _ = api(handler)
    assert [a["id"] for a in await client.list("/api/v1/apps", {"limit": "1"})] == ["1", "2"]
    assert seen == [f"{ORG}/api/v1/apps?limit=1", f"{ORG}/api/v1/apps?after=1&limit=1"]


async def test_a_next_link_to_another_origin_is_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "acme.okta.test", "the token went elsewhere"
        return httpx.Response(200, json=[], headers={"Link": '<https://evil.test/steal>; rel="next"'})

    client, _ = api(handler)
    with pytest.raises(OktaApiError, match="another origin"):
        await client.list("/api/v1/apps")


async def test_429_waits_for_the_reset_then_retries() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            response = error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
            response.headers["X-Rate-Limit-Reset"] = "1004"
            return response
        return httpx.Response(200, json={"ok": True})

    client, slept = api(handler)
    assert await client.post("/api/v1/groups", {"profile": {"name": "x"}}) == {"ok": True}
    assert slept == [5.0]  # reset 1004 - now 1000 + 1
    assert client.writes == [("POST", "/api/v1/groups"), ("POST", "/api/v1/groups")]


async def test_reads_retry_5xx_but_writes_do_not() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET" and len(calls) == 1:
            return error(500, "E0000009", "Internal Server Error")
        if request.method == "PUT":
            return error(500, "E0000009", "Internal Server Error")
        return httpx.Response(200, json={})

    client, _ = api(handler)
    assert await client.get("/api/v1/groups/1") == {}
    with pytest.raises(OktaApiError) as info:
        await client.put("/api/v1/groups/1", {})
    assert calls == ["GET", "GET", "PUT"]
    assert info.value.status == 500 and info.value.code == "E0000009"


async def test_errors_carry_okta_code_summary_causes_and_error_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error(
            400, "E0000001", "Api validation failed: name", ("name: The field cannot be left blank",)
        )

    client, _ = api(handler)
    with pytest.raises(OktaApiError) as info:
        await client.post("/api/v1/groups", {})
    text = str(info.value)
    assert "POST /api/v1/groups: HTTP 400 E0000001 Api validation failed: name" in text
    assert "(name: The field cannot be left blank)" in text and "[errorId oaeXYZ]" in text
    assert "tok-123" not in text


async def test_a_non_okta_error_body_still_gives_a_clean_error() -> None:
    client, _ = api(lambda request: httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(OktaApiError, match="HTTP 502"):
        await client.post("/api/v1/groups", {})


async def test_oauth_tokens_are_fetched_and_refetched_after_a_401() -> None:
    from joserfc.jwk import RSAKey

    tokens = iter(["at-1", "at-2"])
    api_calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/v1/token":
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "client_credentials"
            assert "okta.authorizationServers.manage" in form["scope"].replace("+", " ").replace("%2E", ".")
            return httpx.Response(
                200, json={"access_token": next(tokens), "expires_in": 3600, "token_type": "Bearer"}
            )
        api_calls.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer at-1":
            return error(401, "E0000011", "Invalid token provided")
        return httpx.Response(200, json=[])

    pem = RSAKey.generate_key(2048).as_pem(private=True).decode()
    creds = credentials_for(ORG, api_token=None, client_id="0oaops", private_key=pem)
    assert isinstance(creds, PrivateKeyJwtCredentials)
    client = OktaAdminApi(ORG, httpx.AsyncClient(transport=httpx.MockTransport(handler)), creds)
    assert await client.list("/api/v1/eventHooks") == []
    assert api_calls == ["Bearer at-1", "Bearer at-2"]


def test_credentials_need_a_token_or_a_service_app() -> None:
    assert isinstance(credentials_for(ORG, api_token="t", client_id=None, private_key=None), SswsCredentials)
    with pytest.raises(ValueError):
        credentials_for(ORG, api_token=None, client_id=None, private_key=None)


def test_error_message_shape() -> None:
    exc = OktaApiError("GET", "/x", 404, "E0000007", "Not found: Resource not found: x (User)")
    assert str(exc) == "GET /x: HTTP 404 E0000007 Not found: Resource not found: x (User)"
    assert json.dumps(exc.causes) == "[]"
