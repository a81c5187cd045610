"""The API Gateway dev part: serves the admin API, writes a valid route policy for the BFF."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx

from bff.proxy.policy import load_policy
from bff_dev.environment import dev_environment
from bff_dev.parts import DevContext
from bff_dev.serving import free_port, free_ports
from bff_dev.twins.apigw import dev
from bff_dev.twins.aws.server import MotoServer, start_aws
from tests.support.okta import running_okta_twin


async def test_dev_part_serves_the_admin_api_and_writes_the_policy(tmp_path: Path) -> None:
    ports = free_ports()
    server = MotoServer(free_port())
    server.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            okta = await stack.enter_async_context(running_okta_twin())
            aws = await start_aws(stack, endpoint_url=server.url)
            env = dev_environment(ports, tmp_path)
            env["BFF_OKTA_ISSUER"] = okta.issuer
            ctx = DevContext(ports=ports, data_dir=tmp_path, env=env, stack=stack,
                             info={"aws": aws, "okta": okta})
            lines = await dev.start(ctx)
            assert any("ANY /api/admin/{proxy+}" in line for line in lines)
            policy = load_policy(ctx.env["BFF_API_ROUTES"], dev=True)
            (route,) = policy.routes
            assert route.upstream.url == f"http://localhost:{ports.apigw}"
            assert route.scopes == ("admin",) and set(route.roles) == {"org_admin", "group_admin"}
            assert Path(ctx.env["BFF_API_ROUTES"]).parent == tmp_path
            async with httpx.AsyncClient() as http:
                response = await http.get(f"http://localhost:{ports.apigw}/api/admin/users")
            assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}
            assert ctx.info["apigw"].env["OKTA_ORG_URL"] == okta.base_url
    finally:
        server.stop()
