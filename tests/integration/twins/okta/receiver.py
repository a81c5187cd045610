"""A tiny HTTP receiver on loopback that records what the twin sends (event hooks, back-channel
logout), answering with a scripted status per request."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff_dev.serving import free_port, serve_asgi


@dataclass
class Received:
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    #: statuses for successive POSTs (then 200); a GET with a verification challenge is echoed
    post_statuses: list[int] = field(default_factory=list)
    verify: Callable[[str], Any] = staticmethod(lambda challenge: {"verification": challenge})
    delay: float = 0.0

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def gets(self) -> list[Received]:
        return [r for r in self.requests if r.method == "GET"]


@contextlib.asynccontextmanager
async def receiver(path: str = "/hook") -> AsyncIterator[Receiver]:
    import asyncio

    port = free_port()
    rec = Receiver(url=f"http://127.0.0.1:{port}{path}")

    async def endpoint(request: Request) -> Response:
        rec.requests.append(Received(request.method, dict(request.headers), await request.body()))
        if rec.delay:
            await asyncio.sleep(rec.delay)
        if request.method == "GET":
            challenge = request.headers.get("x-okta-verification-challenge", "")
            return JSONResponse(rec.verify(challenge))
        status = rec.post_statuses.pop(0) if rec.post_statuses else 200
        return Response(status_code=status)

    app = Starlette(routes=[Route(path, endpoint, methods=["GET", "POST"])])
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, app, port, name="receiver")
        yield rec
