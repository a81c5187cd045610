"""The direct Lambda transport: boto3 (pointed at the twin's Lambda Invoke API with
``endpoint_url``) invoking in-process handlers. moto cannot invoke without Docker; the twin
speaks the same Invoke wire protocol, so the real boto3 client code runs unchanged.

The twin, the BFF and the test share one event loop: if an invoke blocked the loop, the twin
could never answer and every test here would time out."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.functions import LocalFunction
from bff_dev.twins.apigw.twin import ApiGatewayTwin
from tests.integration.proxy.conftest import Bff, running_bff

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:{}"

POLICY = """
[upstreams.fn]
lambda = "{arn_echo}"
endpoint_url = "{url}"
timeout = 1

[upstreams.boom]
lambda = "{arn_boom}"
endpoint_url = "{url}"

[upstreams.bad]
lambda = "{arn_bad}"
endpoint_url = "{url}"

[upstreams.ghost]
lambda = "{arn_ghost}"
endpoint_url = "{url}"

[[routes]]
path = "/api/fn/{{rest:path}}"
upstream = "fn"
methods = ["GET", "POST", "PUT"]
scopes = ["admin"]

[[routes]]
path = "/api/boom"
upstream = "boom"
methods = ["GET"]

[[routes]]
path = "/api/bad"
upstream = "bad"
methods = ["GET"]

[[routes]]
path = "/api/ghost"
upstream = "ghost"
methods = ["GET"]
"""


def echo(event: dict[str, Any], context: Any) -> Any:
    path = event["rawPath"]
    if path.endswith("/bare"):
        return {"users": [{"id": "00u1"}]}  # a bare JSON return: 200 application/json
    if path.endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(b"\x89PNG\r\n").decode(), "isBase64Encoded": True}
    if path.endswith("/unauthorized"):
        token = event["headers"]["authorization"]
        status = 401 if token == "Bearer at-test" else 200
        return {"statusCode": status, "body": json.dumps({"token": token})}
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-fn": context.function_name},
        "cookies": ["fn-pref=1; Path=/api", "__Host-bff=hijack; Path=/; Secure"],
        "body": json.dumps({"event": event}),
    }


def boom(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("secret internal detail")


def bad(event: dict[str, Any], context: Any) -> Any:
    return {"statusCode": "two hundred"}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@contextlib.asynccontextmanager
async def lambda_stack(tmp_path: Path) -> AsyncIterator[tuple[Bff, ApiGatewayTwin]]:
    twin = ApiGatewayTwin(issuer="http://127.0.0.1:1/unused", routes=[], functions=[
        LocalFunction("echo", echo), LocalFunction("boom", boom), LocalFunction("bad", bad)])
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, twin, port, name="lambda-twin")
        policy = POLICY.format(url=f"http://127.0.0.1:{port}", arn_echo=ARN.format("echo"),
                               arn_boom=ARN.format("boom"), arn_bad=ARN.format("bad"),
                               arn_ghost=ARN.format("ghost"))
        bff = await stack.enter_async_context(running_bff(tmp_path, policy))
        yield bff, twin


@pytest.fixture
async def stack(tmp_path: Path, aws_env: None) -> AsyncIterator[tuple[Bff, ApiGatewayTwin]]:
    async with lambda_stack(tmp_path) as pair:
        yield pair


async def test_event_as_api_gateway_builds_it(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, twin = stack
    bff.sign_in()
    response = await bff.client.post("/api/fn/users/00ubob?q=a%20b&q=c", json={"note": "hi"},
                                     headers={"User-Agent": "test-agent/1"})
    assert response.status_code == 201, response.text
    event = response.json()["event"]
    assert twin.events[-1] == ("echo", event)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /api/fn/{rest+}"
    assert event["rawPath"] == "/api/fn/users/00ubob"
    assert event["rawQueryString"] == "q=a%20b&q=c"
    assert event["queryStringParameters"] == {"q": "a b,c"}
    assert event["pathParameters"] == {"rest": "users/00ubob"}
    assert json.loads(event["body"]) == {"note": "hi"} and event["isBase64Encoded"] is False
    assert "cookies" not in event  # the browser's cookies never reach a function
    headers = event["headers"]
    assert headers["authorization"] == "Bearer at-test"
    assert headers["user-agent"] == "test-agent/1"
    assert headers["host"] == "localhost"
    assert "cookie" not in headers
    ctx = event["requestContext"]
    assert ctx["accountId"] == "123456789012"
    assert ctx["http"] == {"method": "POST", "path": "/api/fn/users/00ubob", "protocol": "HTTP/1.1",
                           "sourceIp": "127.0.0.1", "userAgent": "test-agent/1"}
    assert ctx["requestId"] == response.headers["x-request-id"]
    assert ctx["stage"] == "$default" and ctx["domainName"] == "localhost"
    # the validated access token's claims, all as strings; scopes as a list
    assert ctx["authorizer"]["jwt"] == {
        "claims": {"sub": "alice@acme.test", "scp": "[openid admin]", "orgId": "acme",
                   "adminRole": "org_admin", "exp": "1900000000", "groups": "[customer-admins]"},
        "scopes": ["openid", "admin"],
    }


async def test_response_mapping(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, _ = stack
    bff.sign_in()
    response = await bff.client.get("/api/fn/anything")
    assert response.status_code == 201
    assert response.headers["x-fn"] == "echo"
    assert response.headers.get_list("set-cookie") == ["fn-pref=1; Path=/api"]  # never the session's
    bare = await bff.client.get("/api/fn/bare")
    assert bare.status_code == 200
    assert bare.headers["content-type"] == "application/json"
    assert bare.json() == {"users": [{"id": "00u1"}]}
    binary = await bff.client.get("/api/fn/binary")
    assert binary.content == b"\x89PNG\r\n" and binary.headers["content-type"] == "image/png"


async def test_function_401_on_get_refreshes_and_retries(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, twin = stack
    session = bff.sign_in()
    response = await bff.client.get("/api/fn/unauthorized")
    assert response.status_code == 200 and response.json() == {"token": "Bearer at-test-1"}
    assert session.refreshes == 1 and len(twin.events) == 2


async def test_function_error_is_502_without_its_details(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, _ = stack
    bff.sign_in()
    response = await bff.client.get("/api/boom")
    assert response.status_code == 502
    assert response.json()["code"] == "bad_gateway"
    assert "secret internal detail" not in response.text and "RuntimeError" not in response.text


async def test_malformed_function_response_is_502(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, _ = stack
    bff.sign_in()
    response = await bff.client.get("/api/bad")
    assert response.status_code == 502


async def test_unknown_function_is_502(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, _ = stack
    bff.sign_in()
    assert (await bff.client.get("/api/ghost")).status_code == 502


async def test_throttled_invoke_is_503_with_retry_after(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, twin = stack
    bff.sign_in()
    twin.throttle_next("echo")
    response = await bff.client.post("/api/fn/x", json={})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert (await bff.client.post("/api/fn/x", json={})).status_code == 201  # no SDK retry hid it


async def test_slow_function_is_504(stack: tuple[Bff, ApiGatewayTwin]) -> None:
    bff, twin = stack
    bff.sign_in()
    twin.delay_next("echo", 1.6)
    response = await bff.client.post("/api/fn/slow", json={})
    assert response.status_code == 504
    assert response.json()["code"] == "gateway_timeout"
