"""The assembled app's one pipeline: the same requests answered by each of its three paths (the
router, the proxy's raw handler at ``/api``, the copy endpoint's at ``/bff/content/``) carry
the same status, headers and problem shape, an unexpected exception included."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.requests import HTTPConnection

from bff.app import create_app
from bff.services import Services
from tests.support.env import make_settings
from tests.support.fake_sessions import FakeSession, FakeSessions, principal

ROUTES = """
[upstreams.admin]
url = "https://api.example.test"

[[routes]]
path = "/api/me"
upstream = "admin"
methods = ["GET"]
"""
ORIGIN = "https://app.example.test"


class BrokenLookup(FakeSessions):
    """A session lookup with a bug: the cookie ``boom`` raises an unexpected exception."""

    async def load(self, conn: HTTPConnection) -> FakeSession | None:
        if conn.cookies.get(self.cookie_name) == "boom":
            raise RuntimeError("a bug, with a detail that must not reach the client")
        return await super().load(conn)


@asynccontextmanager
async def app_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    settings = make_settings(BFF_API_ROUTES=str(routes), BFF_AEM_RETRIES="0")
    sessions = BrokenLookup()
    sessions.add("good", principal())

    def install(services: Services) -> Services:
        return dataclasses.replace(services, sessions=sessions)

    offline = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    app = create_app(settings, http=offline, overrides=[install])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.1", 1234))
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            yield client
    await offline.aclose()


VARYING = {"content-length", "date", "x-request-id", "allow"}


def shape(r: httpx.Response) -> tuple[int, frozenset[str], str, frozenset[str]]:
    body = r.json()
    return (r.status_code, frozenset(r.headers.keys()) - VARYING, r.headers["content-type"],
            frozenset(body.keys()) - {"detail"})


async def _each_path(client: httpx.AsyncClient, paths: list[str], **kwargs: object) -> list[httpx.Response]:
    return [await client.get(path, headers={"X-CSRF": "1", "X-Request-Id": f"diff-{i}-abcdef"}, **kwargs)
            for i, path in enumerate(paths)]


THREE = ["/bff/user", "/api/me", "/bff/content/signin"]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_an_unexpected_exception_is_answered_alike_on_every_path(tmp_path: Path) -> None:
    records = Records()
    logging.getLogger("bff.errors").addHandler(records)  # "bff" does not propagate to the root
    try:
        async with app_client(tmp_path) as client:
            client.cookies.set("__Host-bff", "boom")
            answers = await _each_path(client, THREE)
    finally:
        logging.getLogger("bff.errors").removeHandler(records)
    shapes = {shape(r) for r in answers}
    assert len(shapes) == 1, shapes
    for i, r in enumerate(answers):
        assert r.status_code == 500 and r.json()["code"] == "internal"
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["x-request-id"] == f"diff-{i}-abcdef"
        assert r.headers["x-frame-options"] == "DENY" and "content-security-policy" in r.headers
        assert "a bug" not in r.text
    logged = [rec for rec in records.records if rec.getMessage().startswith("unhandled error")]
    assert len(logged) == 3 and all(rec.exc_info for rec in logged)
    assert sorted(rec.getMessage().split()[4].rstrip(":") for rec in logged) == sorted(THREE)


async def test_not_found_is_answered_alike_on_every_path(tmp_path: Path) -> None:
    async with app_client(tmp_path) as client:
        answers = await _each_path(client, ["/bff/nothing", "/api/nothing", "/bff/content/a/b"])
    assert len({shape(r) for r in answers}) == 1
    assert {r.status_code for r in answers} == {404}


async def test_method_not_allowed_is_answered_alike(tmp_path: Path) -> None:
    async with app_client(tmp_path) as client:
        client.cookies.set("__Host-bff", "good")
        router = await client.delete("/bff/user", headers={"X-CSRF": "1"})
        api = await client.delete("/api/me", headers={"X-CSRF": "1"})
        content = await client.delete("/bff/content/signin", headers={"X-CSRF": "1"})
    assert len({shape(r) for r in (router, api, content)}) == 1
    assert {r.status_code for r in (router, api, content)} == {405}
    assert all(r.headers["allow"] for r in (router, api, content))


async def test_successes_carry_the_same_pipeline_headers(tmp_path: Path) -> None:
    async with app_client(tmp_path) as client:
        client.cookies.set("__Host-bff", "good")
        user = await client.get("/bff/user")
        copy = await client.get("/bff/content/signin")
    assert user.status_code == 200 and copy.status_code == 200
    pipeline = {"x-request-id", "x-content-type-options", "referrer-policy", "permissions-policy",
                "x-frame-options", "cross-origin-opener-policy", "content-security-policy",
                "strict-transport-security"}
    assert pipeline <= set(user.headers.keys()) and pipeline <= set(copy.headers.keys())
