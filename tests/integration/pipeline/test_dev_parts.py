"""The `bff dev` parts: AWS first, subscribers last, wired through DevContext; /__dev/mail from the
dev stack only."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import httpx

from bff.app import create_app
from bff.settings import Settings
from bff_dev.environment import dev_environment
from bff_dev.parts import DevContext
from bff_dev.serving import free_ports
from bff_dev.twins.aws import dev as aws_dev
from bff_dev.twins.okta import dev as okta_dev
from bff_dev.twins.workers import dev as workers_dev
from bff_dev.twins.workers.pipeline import Pipeline
from tests.support.env import base_env


async def test_parts_wire_the_pipeline_and_the_mail_page(tmp_path: Path) -> None:
    ports = free_ports()
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=tmp_path, env=dev_environment(ports, tmp_path), stack=stack)
        lines: list[str] = []
        for part in (aws_dev, okta_dev, workers_dev):
            lines += await part.start(ctx)
        assert ctx.env["BFF_AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{ports.moto}"
        assert {getattr(r, "path", None) for r in ctx.routes} >= {"/__dev/mail"}  # from the AWS part
        assert ctx.env["BFF_ACCOUNT_TOPIC_ARN"].endswith(":account-events")
        assert any(f":{ports.compliance}/" in line for line in lines)
        assert any(f":{ports.marketo}" in line for line in lines)
        pipeline: Pipeline = ctx.info["pipeline"]
        assert pipeline.subscribers.compliance_url.endswith(f":{ports.compliance}")

        okta: Any = ctx.info["okta"]
        user = next(u for u in okta.directory.users.values() if u.status == "ACTIVE")
        recipient = f"dev-{uuid.uuid4().hex[:8]}@example.test"
        pipeline.publish(
            pipeline.account_created(
                userId=user.id, login=recipient, lastName="Review", orgId="acme", locale="fr"
            )
        )
        await pipeline.wait_for_mail(recipient)
        await pipeline.wait_for(
            lambda: okta.directory.users[user.id].profile.get("complianceStatus") == "review"
        )
        assert [r["login"] for r in pipeline.reviews("acme") if r["login"] == recipient] == [recipient]

        # the API Gateway part (not run here) writes the dev route policy: no proxy routes
        settings = Settings.from_env({**ctx.env, "BFF_API_ROUTES": ""}, dev=True)
        app = create_app(settings, extra_routes=ctx.routes)
        assert "/__dev/mail" in {getattr(r, "path", None) for r in app.routes}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=settings.public_url
        ) as http:
            # without the lifespan the routes fall back to their own client: the page still works
            resp = await http.get("/__dev/mail", headers={"Accept": "application/json"})
        assert resp.status_code == 200
        mail = next(m for m in resp.json() if m["to"] == recipient)
        assert mail["subject"].startswith("Bienvenue") and mail["html"] and mail["text"] and mail["sentAt"]


def test_no_mail_page_without_the_dev_stack() -> None:
    settings = Settings.from_env(base_env(BFF_DEV_MAIL_URL="http://127.0.0.1:9"))
    assert "/__dev/mail" not in {getattr(r, "path", None) for r in create_app(settings).routes}
