"""The admin API served locally the way it is deployed: ``infra/functions/admin_api`` behind
the API Gateway twin (route ``ANY /api/admin/{proxy+}``, JWT authorizer on the Okta issuer with
audience ``api://default`` and scope ``admin``), its Lambda environment pointing at the local
Okta, moto (review table, functions secret) and Marketo twins. Used by ``bff dev`` and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from bff_dev.serving import serve_asgi
from bff_dev.twins.apigw.functions import LocalFunction
from bff_dev.twins.apigw.twin import ApiGatewayTwin, TwinRoute
from bff_dev.twins.aws.server import AwsTwin
from bff_dev.twins.workers.functions import lambda_runtime_env, load_function

FUNCTION = "admin-api"
ROUTE_KEY = "ANY /api/admin/{proxy+}"
AUDIENCE = "api://default"

#: The BFF route policy of the local stack (``{url}``: the twin's base URL).
DEV_ROUTES = """\
# Written by `bff dev` (dev/bff_dev/twins/apigw/dev.py): the admin API through the local API Gateway twin.
[upstreams.admin]
url = "{url}"
timeout = 10

[[routes]]
path = "/api/admin/{{proxy:path}}"
upstream = "admin"
methods = ["GET", "POST", "PUT", "DELETE"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]
"""


def admin_api_env(aws: AwsTwin, *, okta_url: str, marketo_url: str,
                  log_level: str = "INFO") -> dict[str, str]:
    """The environment the SAM template gives the admin API, pointed at the local twins."""
    topo = aws.topology
    name = topo.prefix + FUNCTION
    env = lambda_runtime_env(name, region=topo.region, endpoint_url=topo.endpoint_url)
    env.update(
        POWERTOOLS_SERVICE_NAME=FUNCTION,
        POWERTOOLS_LOG_LEVEL=log_level,
        SECRETS_ARN=topo.secret_arn,
        OKTA_ORG_URL=okta_url,
        REVIEW_TABLE=topo.review_table,
        MARKETO_IDENTITY_URL=f"{marketo_url}/identity",
        MARKETO_REST_URL=f"{marketo_url}/rest",
    )
    return env


async def ensure_secret(aws: AwsTwin, values: dict[str, str]) -> None:
    """Merge ``values`` into the functions' JSON secret (other functions' keys are kept)."""
    sm = aws.client("secretsmanager")
    arn = aws.topology.secret_arn

    def merge() -> None:
        try:
            current = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"] or "{}")
        except (sm.exceptions.ResourceNotFoundException, ValueError):
            current = {}
        if not isinstance(current, dict):
            current = {}
        sm.put_secret_value(SecretId=arn, SecretString=json.dumps({**current, **values}))

    await asyncio.to_thread(merge)


@dataclass
class AdminApi:
    twin: ApiGatewayTwin
    url: str
    module: ModuleType  # the loaded admin_api.app (fresh per stack)
    env: dict[str, str]


async def start_admin_api(stack: contextlib.AsyncExitStack, *, port: int, issuer: str, aws: AwsTwin,
                          okta_url: str, marketo_url: str, secret: dict[str, str] | None = None,
                          host: str = "127.0.0.1", extra_env: dict[str, str] | None = None,
                          **twin_options: Any) -> AdminApi:
    """Load the function (fresh module, its own environment), serve the twin on ``port``.
    ``extra_env``: optional variables of the function (e.g. ``BFF_INTERNAL_URL``)."""
    if secret:
        await ensure_secret(aws, secret)
    env = {**admin_api_env(aws, okta_url=okta_url, marketo_url=marketo_url), **(extra_env or {})}
    module = await asyncio.to_thread(load_function, "admin_api", env)
    function = LocalFunction(aws.topology.prefix + FUNCTION, module.handler, timeout=15.0,
                             region=aws.topology.region)
    twin = ApiGatewayTwin(issuer=issuer, audiences=(AUDIENCE,), functions=[function],
                          routes=[TwinRoute(ROUTE_KEY, function.name, scopes=("admin",))], **twin_options)
    await serve_asgi(stack, twin, port, name="apigw")
    return AdminApi(twin=twin, url=f"http://{host}:{port}", module=module, env=env)
