"""Serving an ASGI app on loopback inside a running event loop: the dev stack's servers and the
tests' (several in one loop, stopped with the exit stack that started them)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
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


_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(v) for v in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A loopback port nothing listens on, for a server started a moment later.

    Not the kernel's ``bind(0)`` pick: that comes from the ephemeral range, where every outgoing
    connection (a test's httpx client, boto3, redis) also takes its source port, so the port could
    be taken between this call and the server's bind ("address already in use", seen with moto).
    Ports below the ephemeral range are only ever taken by listeners; each is handed out once per
    process and checked bindable now.
    """
    low, high = _ephemeral_range()
    first, last = (10000, low - 1) if low > 10000 else (high + 1, 65535)
    start = random.SystemRandom().randint(first, last)  # a random start: parallel runs rarely meet
    for port in itertools.chain(range(start, last + 1), range(first, start)):
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port outside the ephemeral range")


def free_ports() -> DevPorts:
    return DevPorts(bff=free_port(), okta=free_port(), aem=free_port(), apigw=free_port(),
                    moto=free_port(), compliance=free_port(), marketo=free_port(), metrics=free_port())
