"""Real servers on loopback for the proxy tests: a recording upstream (raw ASGI under uvicorn)
and the BFF itself under uvicorn, with the session test double."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bff.app import create_app
from bff.services import Services
from bff_dev.serving import free_port, serve_asgi
from tests.support.env import make_settings
from tests.support.fake_sessions import FakeSession, FakeSessions, principal


@dataclass
class Seen:
    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


@dataclass
class RecordingUpstream:
    """Answers by path suffix; records every request that reaches it."""

    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    first_chunk_sent: asyncio.Event = field(default_factory=asyncio.Event)
    reject_tokens: set[str] = field(default_factory=set)  # Authorization values ".../reject-known" refuses
    url: str = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        seen = Seen(scope["method"], scope["raw_path"].decode(), scope["query_string"].decode(),
                    headers, body)
        self.seen.append(seen)
        path: str = scope["path"]

        async def answer(status: int, payload: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode()), *(extra or [])]})
            await send({"type": "http.response.body", "body": payload})

        if path.endswith("/stream"):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"first;", "more_body": True})
            self.first_chunk_sent.set()
            await asyncio.wait_for(self.release.wait(), timeout=10)
            await send({"type": "http.response.body", "body": b"second", "more_body": False})
        elif path.endswith("/slow"):
            await asyncio.sleep(3)
            await answer(200, b'{"late":true}')
        elif path.endswith("/gzip"):
            await answer(200, gzip.compress(b'{"zipped":true}'), [(b"content-encoding", b"gzip")])
        elif path.endswith("/needs-fresh-token"):
            if seen.header("authorization") == ["Bearer at-test"]:
                await answer(401, b'{"message":"Unauthorized"}', [(b"www-authenticate", b'Bearer error="x"')])
            else:
                await answer(200, b'{"fresh":true}')
        elif path.endswith("/reject-known"):
            if set(seen.header("authorization")) & self.reject_tokens:
                await answer(401, b'{"message":"Unauthorized"}')
            else:
                await answer(200, b'{"accepted":true}')
        elif path.endswith("/break"):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            raise RuntimeError("upstream crashed mid-body")
        else:
            await answer(200, json.dumps({"path": path, "method": scope["method"]}).encode(),
                         [(b"set-cookie", b"__Host-bff=stolen; Path=/; Secure"),
                          (b"set-cookie", b"upstream-pref=1; Path=/api"),
                          (b"x-upstream", b"yes")])


ROUTES = """
[upstreams.admin]
url = "{url}"
timeout = {timeout}

[[routes]]
path = "/api/admin/{{rest:path}}"
upstream = "admin"
methods = ["GET", "POST", "PUT", "DELETE"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]
"""


@dataclass
class Bff:
    url: str
    sessions: FakeSessions
    client: httpx.AsyncClient

    def sign_in(self, cookie: str = "alice", **overrides: Any) -> FakeSession:
        base: dict[str, Any] = dict(login="alice@acme.test", scopes=frozenset({"openid", "admin"}),
                                    admin_role="org_admin",
                                    access_claims={"sub": "alice@acme.test", "scp": ["openid", "admin"],
                                                   "orgId": "acme", "adminRole": "org_admin",
                                                   "exp": 1900000000, "groups": ["customer-admins"]})
        base.update(overrides)
        session = self.sessions.add(cookie, principal(**base))
        self.client.cookies.set("__Host-bff", cookie)
        return session


@contextlib.asynccontextmanager
async def running_bff(tmp_path: Path, routes: str, **env: str) -> AsyncIterator[Bff]:
    file = tmp_path / "routes.toml"
    file.write_text(routes)
    port = free_port()
    settings = make_settings(BFF_API_ROUTES=str(file), BFF_PUBLIC_URL=f"http://localhost:{port}", **env)
    sessions = FakeSessions()

    def install(services: Services) -> Services:
        return dataclasses.replace(services, sessions=sessions)

    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, create_app(settings, overrides=[install]), port, name="bff")
        client = await stack.enter_async_context(httpx.AsyncClient(
            base_url=f"http://localhost:{port}", headers={"X-CSRF": "1"}, timeout=10))
        yield Bff(f"http://localhost:{port}", sessions, client)


@pytest.fixture
async def upstream() -> AsyncIterator[RecordingUpstream]:
    app = RecordingUpstream()
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, app, port, name="upstream")
        app.url = f"http://127.0.0.1:{port}"
        yield app
        app.release.set()


@pytest.fixture
async def bff(tmp_path: Path, upstream: RecordingUpstream) -> AsyncIterator[Bff]:
    async with running_bff(tmp_path, ROUTES.format(url=upstream.url, timeout=1)) as b:
        yield b
