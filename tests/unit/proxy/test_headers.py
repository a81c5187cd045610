from __future__ import annotations

import re

from bff.proxy.headers import downstream_headers, own_cookie_prefixes, traceparent, upstream_headers

OWN = own_cookie_prefixes(b"__Host-bff", b"bff_locale")

CLIENT = [
    (b"host", b"app.example.test"),
    (b"cookie", b"__Host-bff=secret-session; other=1"),
    (b"authorization", b"Bearer client-supplied"),
    (b"proxy-authorization", b"Basic eA=="),
    (b"x-forwarded-for", b"6.6.6.6"),
    (b"x-forwarded-host", b"evil.test"),
    (b"x-forwarded-proto", b"http"),
    (b"forwarded", b"for=6.6.6.6"),
    (b"x-real-ip", b"6.6.6.6"),
    (b"connection", b"keep-alive, x-secret-hop"),
    (b"x-secret-hop", b"1"),
    (b"keep-alive", b"timeout=5"),
    (b"te", b"trailers"),
    (b"upgrade", b"h2c"),
    (b"transfer-encoding", b"chunked"),
    (b"content-length", b"12"),
    (b"x-http-method-override", b"DELETE"),
    (b"x-original-url", b"/internal"),
    (b"x-request-id", b"client-chosen-id"),
    (b"accept", b"application/json"),
    (b"content-type", b"application/json"),
    (b"x-csrf", b"1"),
    (b"x-custom", b"a"),
    (b"x-custom", b"b"),
]


def _headers(raw: list[tuple[bytes, bytes]] = CLIENT, *, trust_trace: bool = True) -> list[tuple[str, str]]:
    return upstream_headers(raw, client_ip="203.0.113.7", proto="https", host="app.example.test",
                            request_id="rid-12345678", trust_trace=trust_trace)


def test_client_credentials_and_routing_headers_are_stripped() -> None:
    names = [k for k, _ in _headers()]
    for gone in ("cookie", "authorization", "proxy-authorization", "forwarded", "x-real-ip", "connection",
                 "x-secret-hop", "keep-alive", "te", "upgrade", "transfer-encoding", "content-length", "host",
                 "x-http-method-override", "x-original-url"):
        assert gone not in names, gone


def test_proxy_sets_forwarding_request_id_and_trace() -> None:
    headers = _headers()
    values = dict(headers)
    assert [v for k, v in headers if k == "x-forwarded-for"] == ["203.0.113.7"]
    assert [v for k, v in headers if k == "x-forwarded-host"] == ["app.example.test"]
    assert [v for k, v in headers if k == "x-forwarded-proto"] == ["https"]
    assert [v for k, v in headers if k == "x-request-id"] == ["rid-12345678"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", values["traceparent"])


def test_ordinary_headers_pass_with_repeats() -> None:
    headers = _headers()
    assert [v for k, v in headers if k == "x-custom"] == ["a", "b"]
    assert ("accept", "application/json") in headers
    assert ("x-csrf", "1") in headers


def test_valid_traceparent_is_continued_with_new_parent() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    out = dict(_headers([(b"traceparent", incoming.encode()), (b"tracestate", b"congo=t61rcWkgMzE")]))
    version, trace_id, parent, flags = out["traceparent"].split("-")
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert parent != "00f067aa0ba902b7" and flags == "01"
    assert out["tracestate"] == "congo=t61rcWkgMzE"


def test_an_untrusted_peers_traceparent_starts_a_new_trace() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    out = dict(_headers([(b"traceparent", incoming.encode()), (b"tracestate", b"congo=t61rcWkgMzE")],
                        trust_trace=False))
    assert "4bf92f3577b34da6a3ce929d0e0e4736" not in out["traceparent"]
    assert "tracestate" not in out


def test_invalid_traceparent_starts_a_new_trace_and_drops_tracestate() -> None:
    for bad in ("garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"):
        new, continued = traceparent(bad)
        assert not continued
        assert "4bf92f3577b34da6a3ce929d0e0e4736" not in new
    out = dict(_headers([(b"traceparent", b"garbage"), (b"tracestate", b"x=1")]))
    assert "tracestate" not in out


def test_response_hop_by_hop_and_session_cookie_are_dropped() -> None:
    out = downstream_headers([
        (b"Content-Type", b"application/json"),
        (b"Connection", b"close, X-Hop"),
        (b"X-Hop", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Set-Cookie", b"__Host-bff=hijack; Path=/; Secure"),
        (b"Set-Cookie", b"theme=dark; Path=/"),
        (b"Cache-Control", b"max-age=60"),
    ], own_cookies=OWN)
    assert out == [
        (b"content-type", b"application/json"),
        (b"set-cookie", b"theme=dark; Path=/"),
        (b"cache-control", b"max-age=60"),
    ]


def test_response_without_cache_control_is_private() -> None:
    out = downstream_headers([(b"content-type", b"application/json")], own_cookies=OWN)
    assert (b"cache-control", b"private, no-store") in out


def test_every_bff_cookie_set_by_an_upstream_is_dropped() -> None:
    """Issue 12 §6: not only the session cookie: the login and sign-in binding cookies, any
    other name under the session cookie's prefix (in any case) and the locale cookie."""
    out = downstream_headers([
        (b"Set-Cookie", b"__Host-bff-login=forged; Path=/; Secure"),
        (b"Set-Cookie", b"__Host-bff-signin=forged; Path=/; Secure"),
        (b"Set-Cookie", b"__host-BFF-future=x; Path=/"),
        (b"Set-Cookie", b" __Host-bff=; Max-Age=0"),
        (b"Set-Cookie", b"bff_locale=xx; Path=/"),
        (b"Set-Cookie", b"theme=dark; Path=/"),
        (b"Set-Cookie", b"bff=mine; Path=/"),  # not under the prefix: the upstream's own cookie
    ], own_cookies=OWN)
    assert [v for k, v in out if k == b"set-cookie"] == [b"theme=dark; Path=/", b"bff=mine; Path=/"]


def test_while_tracing_the_trace_context_is_the_bffs_span_alone() -> None:
    """upstream_headers(own_trace=True) leaves the trace context out (even a trusted peer's,
    whose trace the BFF's SERVER span continues); traced() then adds exactly one traceparent,
    the current span's."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from bff.observability import tracing
    from bff.proxy.headers import traced
    from bff.settings import TelemetrySettings

    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    raw = [(b"traceparent", incoming.encode()), (b"tracestate", b"congo=t61rcWkgMzE")]
    headers = upstream_headers(raw, client_ip="203.0.113.7", proto="https", host="app.example.test",
                               request_id="rid-12345678", trust_trace=True, own_trace=True)
    assert not [k for k, _ in headers if k in ("traceparent", "tracestate")]
    assert traced(headers) is headers  # tracing off: unchanged
    tracing.start(TelemetrySettings(sampler="always_off"), exporter=InMemorySpanExporter())
    try:
        with tracing.span("server") as sp:
            sent = traced(headers)
            ctx = sp.get_span_context()
    finally:
        tracing.stop()
    assert [v for k, v in sent if k == "traceparent"] == [f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-00"]
    assert "tracestate" not in dict(sent)
