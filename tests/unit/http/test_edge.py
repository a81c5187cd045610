"""The edge on its own, around tiny ASGI apps: request id, security headers, prefix dispatch,
errors before and after the response started, a client that went away."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from bff.errors import Conflict
from bff.http.edge import DEFAULT_CSP, Edge, security_headers


def answer(body: bytes = b"ok", headers: list[tuple[bytes, bytes]] | None = None,
           name: str = "router") -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"x-app", name.encode()), *(headers or [])]})
        await send({"type": "http.response.body", "body": body})
    return app


def raising(exc: BaseException, *, after_start: bool = False) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if after_start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise exc
    return app


def client(edge: Edge) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=edge), base_url="https://app.example.test")


async def test_every_response_gets_the_security_headers_and_a_request_id() -> None:
    async with client(Edge(answer(), https=True)) as c:
        r = await c.get("/x")
    for name, value in security_headers(True):
        assert r.headers[name.decode()] == value.decode()
    assert r.headers["content-security-policy"] == DEFAULT_CSP
    assert len(r.headers["x-request-id"]) == 32 and int(r.headers["x-request-id"], 16) >= 0


async def test_hsts_only_over_https() -> None:
    async with client(Edge(answer(), https=False)) as c:
        r = await c.get("/x")
    assert "strict-transport-security" not in r.headers
    assert "x-content-type-options" in r.headers


async def test_a_response_keeps_its_own_header_whatever_its_case() -> None:
    own = [(b"Content-Security-Policy", b"script-src 'nonce-abc'")]
    async with client(Edge(answer(headers=own), https=True)) as c:
        r = await c.get("/x")
    assert r.headers.get_list("content-security-policy") == ["script-src 'nonce-abc'"]


async def test_request_id_is_the_clients_when_well_formed_else_new() -> None:
    async with client(Edge(answer(), https=True)) as c:
        kept = await c.get("/x", headers={"X-Request-Id": "client-id-1234"})
        bad = await c.get("/x", headers={"X-Request-Id": "no spaces allowed here"})
        short = await c.get("/x", headers={"X-Request-Id": "short"})
    assert kept.headers["x-request-id"] == "client-id-1234"
    assert bad.headers["x-request-id"] != "no spaces allowed here"
    assert short.headers["x-request-id"] != "short"


async def test_the_first_request_id_header_counts() -> None:
    async with client(Edge(answer(), https=True)) as c:
        r = await c.get("/x", headers=[("X-Request-Id", "first-id-1234"), ("X-Request-Id", "second-id-1234")])
    assert r.headers.get_list("x-request-id") == ["first-id-1234"]


async def test_a_handlers_own_request_id_header_is_replaced() -> None:
    async with client(Edge(answer(headers=[(b"X-Request-Id", b"upstream")]), https=True)) as c:
        r = await c.get("/x", headers={"X-Request-Id": "client-id-1234"})
    assert r.headers.get_list("x-request-id") == ["client-id-1234"]


async def test_the_request_id_is_in_the_scope_state() -> None:
    seen: dict[str, str] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["rid"] = scope["state"]["request_id"]
        await answer()(scope, receive, send)

    async with client(Edge(app, https=True)) as c:
        r = await c.get("/x")
    assert seen["rid"] == r.headers["x-request-id"]


@pytest.mark.parametrize(("path", "app"), [
    ("/api", "api"), ("/api/", "api"), ("/api/admin/users", "api"),
    ("/apis", "router"), ("/apiary/x", "router"),
    ("/bff/content/signin", "content"), ("/bff/content/", "content"),
    ("/bff/content", "router"), ("/bff/contents/x", "router"), ("/", "router"),
])
async def test_prefix_dispatch(path: str, app: str) -> None:
    edge = Edge(answer(name="router"), https=True,
                prefixes=[("/api", answer(name="api")), ("/bff/content/", answer(name="content"))])
    async with client(edge) as c:
        r = await c.get(path)
    assert r.headers["x-app"] == app
    assert "x-request-id" in r.headers and "x-frame-options" in r.headers


async def test_an_unexpected_exception_is_a_500_problem_with_headers_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="bff")
    async with client(Edge(raising(RuntimeError("secret-ish detail")), https=True)) as c:
        r = await c.get("/boom?token=abc", headers={"X-Request-Id": "rid-of-the-test"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["x-request-id"] == "rid-of-the-test"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["code"] == "internal" and body["status"] == 500
    assert "secret-ish" not in r.text and "Traceback" not in r.text
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "abc" not in errors[0].getMessage()  # the path, never the query string


async def test_a_bff_error_is_its_problem() -> None:
    async with client(Edge(raising(Conflict("taken", code="already")), https=True)) as c:
        r = await c.get("/x")
    assert r.status_code == 409 and r.json()["code"] == "already" and r.json()["detail"] == "taken"
    assert "x-request-id" in r.headers and "content-security-policy" in r.headers


async def test_an_exception_after_the_response_started_reaches_the_server() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""}
    with pytest.raises(RuntimeError):
        await Edge(raising(RuntimeError("late"), after_start=True), https=True)(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]  # no second start, no fake body


async def test_a_client_that_went_away_gets_nothing() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [], "query_string": b""}
    await Edge(raising(ClientDisconnect()), https=True)(scope, receive, send)
    assert sent == []


async def test_lifespan_goes_to_the_router() -> None:
    seen: list[str] = []

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {}

    async def drop(message: Message) -> None:
        return None

    await Edge(router, https=True, prefixes=[("/api", answer())])({"type": "lifespan"}, nothing, drop)
    assert seen == ["lifespan"]


def test_problem_bodies_are_json() -> None:
    # the renderer the edge uses draws problem+json, nothing else
    from bff.errors import response_for
    response = response_for(ValueError("x"), "GET", "/p")
    assert response.media_type == "application/problem+json"
    assert json.loads(bytes(response.body))["code"] == "internal"


# -- telemetry ----------------------------------------------------------------------------------

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> Any:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from bff.observability import tracing
    from bff.settings import TelemetrySettings

    exporter = InMemorySpanExporter()
    tracing.start(TelemetrySettings(sampler="parentbased_always_on"), exporter=exporter)
    yield exporter
    tracing.stop()


def routed(template: str) -> Any:
    inner = answer()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = type("R", (), {"path": template})()
        await inner(scope, receive, send)
    return app


@pytest.mark.parametrize(("peer", "trusted", "continued"), [
    ("10.0.0.7", "10.0.0.0/8", True),  # a BFF_TRUSTED_PROXIES peer
    ("203.0.113.9", "10.0.0.0/8", False),  # anyone else
    ("127.0.0.1", None, False),  # nothing configured: nobody, loopback included
])
async def test_the_incoming_traceparent_is_honoured_from_a_trusted_peer_only(
        spans: Any, peer: str, trusted: str | None, continued: bool) -> None:
    import ipaddress

    from bff.http.client_ip import ClientAddress

    proxies = ClientAddress([ipaddress.ip_network(trusted)] if trusted else [])
    edge = Edge(routed("/users/{id}"), https=True, client_address=proxies)
    transport = httpx.ASGITransport(app=edge, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="https://app.example.test") as c:
        response = await c.get("/users/alice@acme.test?q=1", headers={"traceparent": TRACEPARENT})
        assert response.status_code == 200
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /users/{id}"
    assert dict(span.attributes) == {"http.request.method": "GET", "url.scheme": "https",
                                     "http.route": "/users/{id}", "http.response.status_code": 200}
    same_trace = f"{span.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert same_trace is continued and (span.parent is not None) is continued


async def test_a_5xx_marks_the_request_span_failed_and_unmatched_paths_share_one_name(spans: Any) -> None:
    async with client(Edge(raising(RuntimeError("boom alice@acme.test")), https=True)) as c:
        assert (await c.get("/anything/at/all")).status_code == 500
    (span,) = spans.get_finished_spans()
    assert span.name == "GET (unmatched)" and span.status.status_code.name == "ERROR"
    assert not span.events


async def test_requests_are_timed_by_template_method_and_status() -> None:
    from bff.observability import metrics

    metrics.enable("prometheus")
    try:
        async with client(Edge(routed("/users/{id}"), https=True)) as c:
            for i in range(5):
                await c.get(f"/users/{i}")
            await c.request("BREW", "/users/x")
        seen = {labels for labels in metrics.HTTP_REQUEST_SECONDS._children}
    finally:
        metrics.disable()
    assert seen == {("/users/{id}", "GET", "200"), ("/users/{id}", "other", "200")}
