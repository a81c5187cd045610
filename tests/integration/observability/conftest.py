"""The real stack for the telemetry tests: the Okta twin (short-lived access tokens, so every
proxied request refreshes first), the API Gateway twin as the /api upstream (its own SERVER
span continues the propagated traceparent) and the BFF in-process, tracing into an
in-memory exporter."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from bff.app import create_app
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.functions import LocalFunction
from bff_dev.twins.apigw.twin import ApiGatewayTwin, TwinRoute
from bff_dev.twins.okta import OktaTwin
from tests.support.env import make_settings
from tests.support.login import bff_client, login_as, register_bff_client
from tests.support.okta import running_okta_twin

ROUTES = """
[upstreams.api]
url = "{http}"
timeout = 5

[upstreams.fn]
lambda = "arn:aws:lambda:eu-west-1:123456789012:function:echo"
endpoint_url = "{http}"
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
"""


def echo(event: dict[str, Any], context: Any) -> Any:
    return {"statusCode": 200, "body": '{"ok":true}', "headers": {"content-type": "application/json"}}


@dataclass
class Traced:
    okta: OktaTwin
    client: httpx.AsyncClient
    exporter: InMemorySpanExporter
    app: Starlette

    async def login(self, email: str = "alice@acme.test", scope: str | None = "admin") -> str:
        cookie = await login_as(self.client, email, scope=scope)
        self.client.cookies.clear()
        return cookie

    async def get(self, cookie: str, path: str, **headers: str) -> httpx.Response:
        return await self.client.get(
            path, headers={"X-CSRF": "1", "Cookie": f"__Host-bff={cookie}", **headers}
        )

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()


@pytest.fixture
async def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Traced]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the direct Lambda invoke signs (the twin ignores it)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    async with running_stack(tmp_path, span_exporter=InMemorySpanExporter()) as t:
        yield t


@contextlib.asynccontextmanager
async def running_stack(
    tmp_path: Path, *, span_exporter: InMemorySpanExporter | None = None, **env: str
) -> AsyncIterator[Traced]:
    async with contextlib.AsyncExitStack() as stack:
        # 30 s tokens and the default 60 s refresh skew: every proxied request refreshes first.
        okta = await stack.enter_async_context(running_okta_twin(access_token_ttl=30))
        api_port = free_port()
        twin = ApiGatewayTwin(
            issuer=okta.issuer,
            routes=[TwinRoute("ANY /api/admin/{proxy+}", "echo", authorize=False)],
            functions=[LocalFunction("echo", echo)],
        )
        await serve_asgi(stack, twin, api_port, name="apigw")
        routes = tmp_path / "routes.toml"
        routes.write_text(ROUTES.format(http=f"http://127.0.0.1:{api_port}"))
        # the in-process client is 127.0.0.1: a trusted proxy here (its traceparent is continued)
        env = {"BFF_TRUSTED_PROXIES": "127.0.0.1", "OTEL_TRACES_SAMPLER": "parentbased_always_on", **env}
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_API_ROUTES=str(routes), **env)
        register_bff_client(
            okta, settings, grant_types=("authorization_code", "refresh_token", "interaction_code")
        )
        exporter = span_exporter or InMemorySpanExporter()
        app = create_app(settings, span_exporter=span_exporter)
        client = await stack.enter_async_context(bff_client(app))
        yield Traced(okta, client, exporter, app)
