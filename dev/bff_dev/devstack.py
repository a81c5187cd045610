"""The local stack: the BFF plus local twins of Okta, AEM, API Gateway/Lambda and AWS
messaging, all on loopback, in one process.

``bff dev`` runs it until Ctrl-C/SIGTERM; the end-to-end tests start it on free ports with
:func:`run_stack`. Each twin area contributes a *dev part* (:mod:`bff_dev.parts`); parts run in
:data:`DEV_PARTS` order, and the BFF starts last, on the finished environment, with the routes
the parts added (``create_app(settings, extra_routes=...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bff.app import create_app
from bff.settings import Settings
from bff_dev.environment import DevPorts, dev_environment
from bff_dev.parts import DevContext, DevPart
from bff_dev.serving import serve_asgi
from bff_dev.twins.aem import dev as aem_dev
from bff_dev.twins.apigw import dev as apigw_dev
from bff_dev.twins.aws import dev as aws_dev
from bff_dev.twins.okta import dev as okta_dev
from bff_dev.twins.workers import dev as workers_dev

#: Each dev part, in start order.
DEV_PARTS: tuple[DevPart, ...] = (
    aws_dev.start,
    okta_dev.start,
    aem_dev.start,
    workers_dev.start,
    apigw_dev.start,
)


@dataclass
class StackInfo:
    ports: DevPorts
    settings: Settings
    env: dict[str, str]
    lines: list[str]
    info: dict[str, Any]

    @property
    def url(self) -> str:
        return self.settings.public_url


@contextlib.asynccontextmanager
async def run_stack(ports: DevPorts, data_dir: Path, *,
                    env_overrides: dict[str, str] | None = None) -> AsyncIterator[StackInfo]:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=data_dir, env=dev_environment(ports, data_dir), stack=stack)
        lines: list[str] = []
        for part in DEV_PARTS:
            lines.extend(await part(ctx))
        ctx.env.update(env_overrides or {})
        # every trace in development (production defaults to a ratio, bff.settings.DEFAULT_TRACE_RATIO)
        ctx.env.setdefault("OTEL_TRACES_SAMPLER", "parentbased_always_on")
        settings = Settings.from_env(ctx.env, dev=True)
        await serve_asgi(stack, create_app(settings, extra_routes=ctx.routes), ports.bff, name="bff")
        lines.insert(0, f"BFF + SPA         {settings.public_url}")
        telemetry = settings.telemetry
        if telemetry.metrics == "prometheus":
            lines.insert(1, f"Metrics           http://{telemetry.metrics_host}:{telemetry.metrics_port}/metrics")
        if telemetry.tracing:
            lines.insert(1, f"Traces            OTEL_TRACES_EXPORTER={telemetry.traces_exporter}")
        yield StackInfo(ports=ports, settings=settings, env=ctx.env, lines=lines, info=ctx.info)
