"""The whole admin path on loopback: the BFF (in-process, real sign-in against the Okta twin)
→ the proxy → the API Gateway twin (JWT authorizer) → admin_api (in-process, its own module) →
the Okta twin's Management API, DynamoDB and Secrets Manager on moto, the Marketo twin."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from bff.app import create_app
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.apigw.admin import DEV_ROUTES, AdminApi, start_admin_api
from bff_dev.twins.aws.server import AwsTwin, MotoServer, start_aws
from bff_dev.twins.aws.topology import TopologySpec
from bff_dev.twins.marketo import MarketoTwin
from bff_dev.twins.marketo import create_app as marketo_app
from bff_dev.twins.marketo.app import DEV_CLIENT_SECRET
from bff_dev.twins.okta import OktaTwin
from fnlib.review import ReviewRepository
from tests.support.env import make_settings
from tests.support.login import bff_client, login_as, register_bff_client
from tests.support.okta import running_okta_twin

API_TOKEN = "okta-integration-api-token-000001"
CSRF = {"X-CSRF": "1"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = MotoServer(free_port())
    server.start()
    yield server.url
    server.stop()


@dataclass
class AdminStack:
    okta: OktaTwin
    aws: AwsTwin
    marketo: MarketoTwin
    api: AdminApi
    client: httpx.AsyncClient
    reviews: ReviewRepository
    cookies: dict[str, str]

    async def login(self, email: str, *, scope: str | None = "admin") -> str:
        value = await login_as(self.client, email, scope=scope)
        self.client.cookies.clear()
        self.cookies[email] = value
        return value

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**CSRF, "Cookie": f"__Host-bff={self.cookies[who]}", **kwargs.pop("headers", {})}
        return await self.client.request(method, f"/api/admin{path}", headers=headers, **kwargs)

    def user(self, user_id: str) -> Any:
        return self.okta.directory.users[user_id]

    def file_review(self, org: str, user_id: str, *, review_id: str | None = None) -> str:
        user = self.okta.directory.users.get(user_id)
        profile = user.profile if user else {}
        review_id = review_id or f"evt-{uuid.uuid4().hex[:12]}"
        stored = self.reviews.put({
            "orgId": org, "reviewId": review_id, "userId": user_id, "login": profile.get("login", "x@y.test"),
            "email": profile.get("email", "x@y.test"), "firstName": profile.get("firstName", "X"),
            "lastName": profile.get("lastName", "Y"), "status": "pending",
            "reasons": [{"code": "NAME_MATCH", "message": "possible sanctions-list match"}],
            "createdAt": "2026-11-26T10:00:00Z",
        })
        assert stored
        return review_id


DIRECT_ROUTES = """
[upstreams.admin]
lambda = "{arn}"
endpoint_url = "{url}"
timeout = 15

[[routes]]
path = "/api/admin/{{proxy:path}}"
upstream = "admin"
methods = ["GET", "POST", "PUT", "DELETE"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]
"""


@contextlib.asynccontextmanager
async def admin_stack(moto_url: str, tmp_path: Path, *, direct: bool = False) -> AsyncIterator[AdminStack]:
    """``direct``: the BFF invokes the function itself (Lambda transport against the twin's
    Invoke API) instead of going through API Gateway."""
    async with contextlib.AsyncExitStack() as stack:
        okta = await stack.enter_async_context(running_okta_twin())
        okta.add_api_token(API_TOKEN)
        # Each test gets its own tables/secret on the shared moto server.
        aws = await start_aws(stack, endpoint_url=moto_url,
                              spec=TopologySpec(prefix=f"t{uuid.uuid4().hex[:8]}-"))
        marketo = MarketoTwin()
        marketo_port = free_port()
        await serve_asgi(stack, marketo_app(marketo), marketo_port, name="marketo")
        marketo_url = f"http://127.0.0.1:{marketo_port}"
        api = await start_admin_api(
            stack, port=free_port(), issuer=okta.issuer, aws=aws, okta_url=okta.base_url,
            marketo_url=marketo_url,
            secret={"OKTA_API_TOKEN": API_TOKEN, "MARKETO_CLIENT_ID": marketo.client_id,
                    "MARKETO_CLIENT_SECRET": DEV_CLIENT_SECRET})
        routes = tmp_path / "routes.toml"
        if direct:
            function = api.twin.functions[0]
            routes.write_text(DIRECT_ROUTES.format(arn=function.arn, url=api.url))
        else:
            routes.write_text(DEV_ROUTES.format(url=api.url))
        settings = make_settings(BFF_OKTA_ISSUER=okta.issuer, BFF_API_ROUTES=str(routes))
        register_bff_client(okta, settings)
        client = await stack.enter_async_context(bff_client(create_app(settings)))
        resource = boto3.resource("dynamodb", endpoint_url=moto_url, region_name=aws.topology.region,
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        repo = ReviewRepository(resource.Table(aws.topology.review_table))
        yield AdminStack(okta, aws, marketo, api, client, repo, {})


@pytest.fixture
async def admin(moto_url: str, tmp_path: Path) -> AsyncIterator[AdminStack]:
    async with admin_stack(moto_url, tmp_path) as s:
        yield s
