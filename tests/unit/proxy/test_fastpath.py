"""/api answered before the middleware stack must look exactly as if it went through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bff.errors import NotFound
from bff.proxy.proxy import Proxy
from tests.unit.proxy.test_proxy import CSRF, Canned, Harness, harness

SECURITY = ("x-content-type-options", "referrer-policy", "permissions-policy", "x-frame-options",
            "cross-origin-opener-policy", "content-security-policy", "strict-transport-security")


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as hh:
        yield hh


def _security(response: httpx.Response) -> dict[str, str]:
    return {k: response.headers[k] for k in SECURITY if k in response.headers}


async def test_same_security_headers_as_the_normal_stack(h: Harness) -> None:
    reference = _security(await h.client.get("/healthz"))  # through the full middleware stack
    assert len(reference) == len(SECURITY)
    h.sign_in()
    proxied = await h.client.get("/api/admin/users", headers=CSRF)
    assert proxied.status_code == 200
    assert _security(proxied) == reference
    for rejected in (await h.client.get("/api/admin/users"), await h.client.get("/api/nope", headers=CSRF),
                     await h.client.get("/api", headers=CSRF)):
        assert rejected.status_code in (403, 404)
        assert rejected.headers["content-type"] == "application/problem+json"
        assert _security(rejected) == reference


async def test_upstream_headers_win_like_setdefault(h: Harness) -> None:
    h.sign_in()
    h.upstream.script.append(Canned(headers=[(b"content-type", b"text/html"),
                                             (b"content-security-policy", b"default-src 'self'"),
                                             (b"x-request-id", b"upstream-chosen-id")]))
    response = await h.client.get("/api/admin/page", headers=CSRF)
    assert response.headers["content-security-policy"] == "default-src 'self'"
    assert response.headers.get_list("x-request-id") != ["upstream-chosen-id"]
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_request_id_rule(h: Harness) -> None:
    h.sign_in()
    mine = await h.client.get("/api/admin/users", headers={**CSRF, "X-Request-Id": "client-id-12345678"})
    assert mine.headers["x-request-id"] == "client-id-12345678"
    assert h.upstream.calls[-1][0].request_id == "client-id-12345678"
    bad = await h.client.get("/api/admin/users", headers={**CSRF, "X-Request-Id": "bad id\twith tab"})
    assert bad.headers["x-request-id"] != "bad id\twith tab" and len(bad.headers["x-request-id"]) == 32
    problem = await h.client.get("/api/nope", headers={**CSRF, "X-Request-Id": "client-id-87654321"})
    assert problem.headers["x-request-id"] == "client-id-87654321"


async def test_unexpected_error_is_a_500_problem(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: Proxy, scope: object, receive: object, send: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(Proxy, "handle", broken)
    response = await h.client.get("/api/admin/users", headers=CSRF)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal" and "bug" not in response.text
    assert "x-request-id" in response.headers


async def test_paths_merely_starting_with_api_are_not_the_proxys(h: Harness,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def spy(self: Proxy, scope: dict[str, str], receive: object, send: object) -> None:
        calls.append(scope["path"])
        raise NotFound("proxy")

    monkeypatch.setattr(Proxy, "handle", spy)
    await h.client.get("/apixyz")
    await h.client.get("/api-docs")
    assert calls == []
    await h.client.get("/api/x")
    await h.client.get("/api")
    assert calls == ["/api/x", "/api"]
