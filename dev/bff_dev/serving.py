"""Serving an ASGI app on loopback inside a running event loop: the dev stack's servers and the
tests' (several in one loop, stopped with the exit stack that started them)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from bff_dev.environment import DevPorts


class _Server(uvicorn.Server):
    """uvicorn server that leaves signal handling to the stack (several run in one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_asgi(stack: contextlib.AsyncExitStack, app: Any, port: int, *, name: str) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until the stack closes."""
    # proxy_headers off: the BFF derives the client address itself (bff.http.client_ip,
    # BFF_TRUSTED_PROXIES); uvicorn rewriting scope["client"] first would be a second derivation.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            access_log=False, proxy_headers=False)
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
