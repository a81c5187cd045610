"""The local stack: the BFF plus local twins of Okta, AEM, API Gateway/Lambda and AWS
messaging, all on loopback, in one process.

``bff dev`` runs it until Ctrl-C/SIGTERM; the end-to-end tests start it on free ports with
:func:`run_stack`. Each twin area contributes a *dev part*: an async function taking the
:class:`DevContext` that starts its servers/workers (registering their shutdown on
``ctx.stack``), may add to ``ctx.env`` (the BFF's environment) and returns lines to print.
Parts run in :data:`DEV_PARTS` order; the BFF starts last, on the finished environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from bff.settings import DevPorts, Settings, dev_environment

#: "module:function" of each dev part, in start order.
DEV_PARTS: list[str] = [
    "bff.twins.aws.dev:start",
    "bff.twins.okta.dev:start",
    "bff.twins.aem.dev:start",
    "bff.twins.workers.dev:start",
    "bff.twins.apigw.dev:start",
]


@dataclass
class DevContext:
    ports: DevPorts
    data_dir: Path
    env: dict[str, str]
    stack: contextlib.AsyncExitStack
    info: dict[str, Any] = field(default_factory=dict)  # parts share handles here (e.g. "okta")


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


class _Server(uvicorn.Server):
    """uvicorn server that leaves signal handling to the stack (several run in one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


async def serve_asgi(stack: contextlib.AsyncExitStack, app: Any, port: int, *, name: str) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until the stack closes."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            access_log=False)
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name=f"serve-{name}")
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
            raise RuntimeError(f"{name} did not start on port {port}")
        await asyncio.sleep(0.02)

    async def stop() -> None:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)

    stack.push_async_callback(stop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports() -> DevPorts:
    return DevPorts(bff=free_port(), okta=free_port(), aem=free_port(), apigw=free_port(),
                    moto=free_port(), compliance=free_port(), marketo=free_port())


def _resolve(ref: str) -> Callable[[DevContext], Awaitable[list[str]]]:
    module, _, func = ref.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def run_stack(ports: DevPorts, data_dir: Path, *,
                    env_overrides: dict[str, str] | None = None) -> AsyncIterator[StackInfo]:
    from bff.app import create_app

    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        ctx = DevContext(ports=ports, data_dir=data_dir, env=dev_environment(ports, data_dir), stack=stack)
        lines: list[str] = []
        for ref in DEV_PARTS:
            lines.extend(await _resolve(ref)(ctx))
        ctx.env.update(env_overrides or {})
        settings = Settings.from_env(ctx.env, dev=True)
        await serve_asgi(stack, create_app(settings), ports.bff, name="bff")
        lines.insert(0, f"BFF + SPA         {settings.public_url}")
        yield StackInfo(ports=ports, settings=settings, env=ctx.env, lines=lines, info=ctx.info)
