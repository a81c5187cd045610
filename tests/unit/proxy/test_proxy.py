"""The proxy's checks and forwarding, in-process: the app from create_app with the session
test double and a recording transport in place of the network (no I/O). The same paths over
real loopback HTTP are in tests/integration/proxy/."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.app import create_app
from bff.errors import Unauthenticated, Unavailable
from bff.proxy.proxy import Proxy
from bff.proxy.transport import OutboundRequest, UpstreamResponse
from bff.services import Services
from tests.support.env import make_settings
from tests.support.fake_sessions import FakeSession, FakeSessions, principal

ROUTES = """
[upstreams.admin]
url = "https://api.example.test"
timeout = 5

[[routes]]
path = "/api/admin/{rest:path}"
upstream = "admin"
methods = ["GET", "POST", "PUT", "DELETE"]
scopes = ["admin"]
roles = ["org_admin", "group_admin"]

[[routes]]
path = "/api/me"
upstream = "admin"
methods = ["GET"]
"""

ORIGIN = "https://app.example.test"
CSRF = {"X-CSRF": "1"}


@dataclass
class Canned:
    status: int = 200
    headers: list[tuple[bytes, bytes]] = field(
        default_factory=lambda: [(b"content-type", b"application/json")])
    chunks: list[bytes] = field(default_factory=lambda: [b'{"ok":true}'])
    closed: bool = False
    completed: bool = False



class _Response:
    def __init__(self, canned: Canned) -> None:
        self.canned = canned
        self.status = canned.status
        self.headers = list(canned.headers)
        self.length: int | None = None
        self._pending = [c for c in canned.chunks if c]

    async def read_chunk(self) -> bytes:
        return self._pending.pop(0) if self._pending else b""

    async def aclose(self, *, complete: bool = False) -> None:
        self.canned.closed = True
        self.canned.completed = complete


@dataclass
class RecordingTransport:
    script: list[Canned] = field(default_factory=list)
    calls: list[tuple[OutboundRequest, str, dict[str, Any]]] = field(default_factory=list)

    async def send(self, request: OutboundRequest, token: str, claims: Mapping[str, Any]) -> UpstreamResponse:
        self.calls.append((request, token, dict(claims)))
        return _Response(self.script.pop(0) if self.script else Canned())


@dataclass
class Harness:
    client: httpx.AsyncClient
    upstream: RecordingTransport
    sessions: FakeSessions

    def sign_in(self, cookie: str = "alice", **overrides: Any) -> FakeSession:
        base: dict[str, Any] = dict(login="alice@acme.test", scopes=frozenset({"openid", "admin"}),
                                    admin_role="org_admin", access_claims={"sub": "alice@acme.test",
                                                                           "scp": ["openid", "admin"]})
        base.update(overrides)
        session = self.sessions.add(cookie, principal(**base))
        self.client.cookies.set("__Host-bff", cookie)
        return session


@asynccontextmanager
async def harness(tmp_path: Path, **env: str) -> AsyncIterator[Harness]:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    settings = make_settings(BFF_API_ROUTES=str(routes), **env)
    sessions = FakeSessions()
    upstream = RecordingTransport()

    def install(services: Services) -> Services:
        proxy: Proxy = services.proxy
        proxy.transports["admin"] = upstream
        return dataclasses.replace(services, sessions=sessions)

    app = create_app(settings, overrides=[install])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            yield Harness(client, upstream, sessions)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as hh:
        yield hh


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


# ------------------------------------------------------------------------------ rejections


async def test_unlisted_path_is_404_and_never_forwarded(h: Harness) -> None:
    h.sign_in()
    for path in ("/api/other", "/api/adminx/users", "/api/me/extra", "/api/"):
        _problem(await h.client.get(path, headers=CSRF), 404, "not_found")
    assert h.upstream.calls == []


async def test_no_session_is_401(h: Harness) -> None:
    _problem(await h.client.get("/api/admin/users", headers=CSRF), 401, "unauthenticated")
    h.client.cookies.set("__Host-bff", "unknown-cookie")
    _problem(await h.client.get("/api/admin/users", headers=CSRF), 401, "unauthenticated")
    assert h.upstream.calls == []


async def test_ended_session_is_401(h: Harness) -> None:
    session = h.sign_in()
    session.fail_with = Unauthenticated("ended")
    _problem(await h.client.get("/api/admin/users", headers=CSRF), 401, "unauthenticated")
    assert h.upstream.calls == []


@pytest.mark.parametrize("headers", [
    {},
    {"X-CSRF": "0"},
    {"X-CSRF": "1", "Origin": "https://evil.test"},
    {"X-CSRF": "1", "Sec-Fetch-Site": "cross-site"},
])
async def test_csrf_is_required_on_every_method(h: Harness, headers: dict[str, str]) -> None:
    h.sign_in()
    _problem(await h.client.get("/api/admin/users", headers=headers), 403, "csrf")
    _problem(await h.client.post("/api/admin/users", headers=headers, json={}), 403, "csrf")
    assert h.upstream.calls == []


async def test_method_not_listed_is_405_with_allow(h: Harness) -> None:
    h.sign_in()
    response = await h.client.patch("/api/admin/users/1", headers=CSRF, json={})
    _problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET, HEAD, POST, PUT"
    _problem(await h.client.post("/api/me", headers=CSRF), 405, "method_not_allowed")
    assert h.upstream.calls == []


async def test_missing_scope_is_403_naming_it(h: Harness) -> None:
    h.sign_in(scopes=frozenset({"openid", "profile"}), admin_role="org_admin")
    body = _problem(await h.client.get("/api/admin/users", headers=CSRF), 403, "insufficient_scope")
    assert body["missingScopes"] == ["admin"]
    assert body["requiredRoles"] == []
    assert "admin" in body["detail"]
    assert h.upstream.calls == []


async def test_missing_role_is_403_naming_the_roles(h: Harness) -> None:
    h.sign_in(admin_role=None)
    body = _problem(await h.client.get("/api/admin/users", headers=CSRF), 403, "insufficient_scope")
    assert body["missingScopes"] == []
    assert body["requiredRoles"] == ["org_admin", "group_admin"]
    h.sign_in("other", admin_role="content_author")
    _problem(await h.client.get("/api/admin/users", headers=CSRF), 403, "insufficient_scope")
    assert h.upstream.calls == []


async def test_route_without_scopes_or_roles_needs_only_a_session(h: Harness) -> None:
    h.sign_in(scopes=frozenset({"openid"}), admin_role=None)
    response = await h.client.get("/api/me", headers=CSRF)
    assert response.status_code == 200
    assert len(h.upstream.calls) == 1


async def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    async with harness(tmp_path, BFF_PROXY_MAX_BODY="1000") as h:
        h.sign_in()
        _problem(await h.client.post("/api/admin/users", headers=CSRF, content=b"x" * 1001),
                 413, "payload_too_large")

        async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for _ in range(11):
                yield b"y" * 100

        response = await h.client.post("/api/admin/users", headers=CSRF, content=stream())
        _problem(response, 413, "payload_too_large")
        assert h.upstream.calls == []
        ok = await h.client.post("/api/admin/users", headers=CSRF, content=b"z" * 1000)
        assert ok.status_code == 200
        assert h.upstream.calls[0][0].body == b"z" * 1000


async def test_ambiguous_paths_are_400(h: Harness) -> None:
    h.sign_in()
    for raw in ("/api/admin/%2e%2e/secret", "/api/admin/a%2Fb", "/api/admin//users",
                "/api/admin/..;/secret", "/api/admin/users;jsessionid=1", "/api/admin/users%3Bx"):
        response = await h.client.get(raw, headers=CSRF)
        _problem(response, 400, "bad_path")
    assert h.upstream.calls == []


# ------------------------------------------------------------------------------ forwarding


async def test_forwarded_request(h: Harness) -> None:
    h.sign_in()
    h.client.cookies.set("theme", "dark")
    response = await h.client.post(
        "/api/admin/users/00u1/deactivate?reason=left&x=a%20b",
        headers={**CSRF, "Authorization": "Bearer from-client", "X-Forwarded-For": "6.6.6.6",
                 "X-Request-Id": "client-request-0001", "Content-Type": "application/json"},
        content=b'{"why":"left"}',
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["x-request-id"] == "client-request-0001"
    (request, token, claims), = h.upstream.calls
    assert token == "at-test"
    assert claims == {"sub": "alice@acme.test", "scp": ["openid", "admin"]}
    assert request.method == "POST"
    assert request.raw_path == "/api/admin/users/00u1/deactivate"
    assert request.query == "reason=left&x=a%20b"
    assert request.body == b'{"why":"left"}'
    assert request.path_params == {"rest": "users/00u1/deactivate"}
    names = [k for k, _ in request.headers]
    assert "cookie" not in names and "authorization" not in names
    values = dict(request.headers)
    assert values["x-forwarded-for"] == "203.0.113.9"
    assert values["x-forwarded-host"] == "app.example.test"
    assert values["x-forwarded-proto"] == "https"
    assert values["x-request-id"] == "client-request-0001"
    assert values["content-type"] == "application/json"
    assert values["traceparent"].startswith("00-")


async def test_head_follows_get(h: Harness) -> None:
    h.sign_in()
    h.upstream.script.append(Canned(chunks=[]))
    response = await h.client.head("/api/admin/users", headers=CSRF)
    assert response.status_code == 200
    assert h.upstream.calls[0][0].method == "HEAD"


async def test_upstream_status_headers_and_chunks_are_relayed(h: Harness) -> None:
    h.sign_in()
    canned = Canned(status=207, headers=[(b"content-type", b"text/plain"), (b"x-upstream", b"yes"),
                                         (b"set-cookie", b"__Host-bff=stolen; Path=/; Secure"),
                                         (b"connection", b"close")],
                    chunks=[b"one,", b"two,", b"three"])
    h.upstream.script.append(canned)
    response = await h.client.get("/api/admin/stream", headers=CSRF)
    assert response.status_code == 207
    assert response.text == "one,two,three"
    assert response.headers["x-upstream"] == "yes"
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "private, no-store"
    assert canned.closed and canned.completed


async def test_upstream_401_on_get_refreshes_once_and_retries(h: Harness) -> None:
    session = h.sign_in()
    first = Canned(status=401, chunks=[b'{"message":"Unauthorized"}'])
    h.upstream.script.extend([first, Canned()])
    response = await h.client.get("/api/admin/users", headers=CSRF)
    assert response.status_code == 200
    assert session.refreshes == 1
    assert [token for _, token, _ in h.upstream.calls] == ["at-test", "at-test-1"]
    assert first.closed and not first.completed


async def test_second_401_is_passed_through_without_more_retries(h: Harness) -> None:
    session = h.sign_in()
    h.upstream.script.extend([Canned(status=401), Canned(status=401, chunks=[b'{"message":"Unauthorized"}'])])
    response = await h.client.delete("/api/admin/users/1", headers=CSRF)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert session.refreshes == 1 and len(h.upstream.calls) == 2


async def test_upstream_401_on_post_is_not_retried(h: Harness) -> None:
    session = h.sign_in()
    h.upstream.script.append(Canned(status=401, chunks=[b'{"message":"Unauthorized"}']))
    response = await h.client.post("/api/admin/users", headers=CSRF, json={"a": 1})
    assert response.status_code == 401
    assert session.refreshes == 0 and len(h.upstream.calls) == 1


async def test_idp_down_during_refresh_is_503_and_not_forwarded(h: Harness) -> None:
    session = h.sign_in()
    session.fail_with = Unavailable("Okta unreachable")
    _problem(await h.client.get("/api/admin/users", headers=CSRF), 503, "unavailable")
    assert h.upstream.calls == []


async def test_no_route_file_means_every_api_path_is_404(tmp_path: Path) -> None:
    settings = make_settings()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client:
            _problem(await client.get("/api/admin/users", headers=CSRF), 404, "not_found")
