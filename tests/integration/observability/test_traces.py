"""One proxied request, traced end to end with the in-memory exporter: the inbound SERVER
span, the session read, the refresh that was due (with its Okta token call), and the upstream
CLIENT span whose traceparent the API Gateway twin continued (its span is the child)."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from bff.observability import tracing
from tests.integration.observability.conftest import Traced


def _one(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_a_proxied_request_shows_session_read_refresh_and_the_upstreams_child_span(
    traced: Traced,
) -> None:
    cookie = await traced.login()
    refreshes = traced.okta.counters["token:refresh_token"]
    traced.exporter.clear()

    response = await traced.get(cookie, "/api/admin/users?q=private-query-value")
    assert response.status_code == 200, response.text
    assert traced.okta.counters["token:refresh_token"] == refreshes + 1  # the refresh was due

    spans = traced.spans()
    inbound = _one(spans, "GET /api/admin/{rest:path}")
    assert inbound.kind == SpanKind.SERVER and inbound.parent is None
    assert inbound.attributes is not None
    assert inbound.attributes["http.route"] == "/api/admin/{rest:path}"
    assert inbound.attributes["http.response.status_code"] == 200
    trace_id = inbound.context.trace_id
    assert all(s.context.trace_id == trace_id for s in spans), "one trace"

    read = _one(spans, "session.read")
    assert _parent_id(read) == inbound.context.span_id
    assert read.attributes is not None and read.attributes["bff.session.found"] is True

    refresh = _one(spans, "session.refresh")
    assert _parent_id(refresh) == inbound.context.span_id
    assert refresh.attributes is not None and refresh.attributes["bff.refresh.outcome"] == "ok"
    token_call = _one(spans, "okta token refresh_token")
    assert token_call.kind == SpanKind.CLIENT
    assert token_call.attributes is not None and token_call.attributes["http.response.status_code"] == 200
    ancestors = {s.context.span_id: s for s in spans}
    up = token_call
    while up.parent is not None and up.parent.span_id != refresh.context.span_id:
        up = ancestors[up.parent.span_id]
    assert up.parent is not None, "the token call happens inside the refresh"

    upstream = _one(spans, "upstream api")
    assert upstream.kind == SpanKind.CLIENT and _parent_id(upstream) == inbound.context.span_id
    assert upstream.attributes is not None and upstream.attributes["http.response.status_code"] == 200
    assert refresh.end_time is not None and upstream.start_time is not None
    assert refresh.end_time <= upstream.start_time  # refreshed before the call that needs the token

    twin = _one(spans, "apigw-twin GET")
    assert twin.kind == SpanKind.SERVER
    assert twin.parent is not None and twin.parent.is_remote  # reached it through the traceparent
    assert twin.parent.span_id == upstream.context.span_id


async def test_a_direct_lambda_invoke_carries_the_span_as_x_amzn_trace_id(traced: Traced) -> None:
    cookie = await traced.login()
    traced.exporter.clear()
    response = await traced.get(cookie, "/api/fn/anything")
    assert response.status_code == 200, response.text
    spans = traced.spans()
    upstream = _one(spans, "upstream fn")
    invoked = _one(spans, "lambda-twin invoke echo")
    assert invoked.parent is not None and invoked.parent.is_remote
    assert invoked.parent.span_id == upstream.context.span_id
    assert invoked.context.trace_id == upstream.context.trace_id


async def test_a_trusted_peers_traceparent_is_continued(traced: Traced) -> None:
    cookie = await traced.login()
    traced.exporter.clear()
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = await traced.get(cookie, "/api/admin/users", traceparent=incoming)  # ASGI client: 127.0.0.1
    assert response.status_code == 200
    inbound = _one(traced.spans(), "GET /api/admin/{rest:path}")
    assert f"{inbound.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert inbound.parent is not None and f"{inbound.parent.span_id:016x}" == "00f067aa0ba902b7"


async def test_an_upstream_failure_marks_the_spans(traced: Traced) -> None:
    cookie = await traced.login()
    traced.exporter.clear()
    response = await traced.get(cookie, "/api/nowhere")
    assert response.status_code == 404
    inbound = _one(traced.spans(), "GET (unmatched)")
    assert inbound.attributes is not None and inbound.attributes["http.response.status_code"] == 404
    assert inbound.status.status_code != StatusCode.ERROR  # a 4xx is the client's, not a failure


async def test_log_lines_carry_the_trace_and_span_ids(
    traced: Traced, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.trace_id, record.span_id))  # type: ignore[attr-defined]

    handler = Grab()
    from bff.logs import RedactingFilter

    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("bff.test-telemetry")
    logger.addHandler(handler)
    try:
        with tracing.span("outer") as sp:
            logger.warning("inside")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    ctx = sp.get_span_context()
    assert seen == [(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"), ("-", "-")]
