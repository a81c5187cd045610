"""Which headers cross the proxy, in each direction.

Towards the upstream the client's credentials and routing claims are removed (``Cookie``,
``Authorization``, ``Proxy-Authorization``, ``Forwarded``/``X-Forwarded-*``/``X-Real-IP``,
CloudFront's ``CloudFront-Viewer-Address`` and the origin secret ``X-BFF-Origin-Verify``,
method-override and URL-override headers, hop-by-hop headers and any header the client named
in ``Connection``) and the proxy's own are set: ``Authorization: Bearer <access token>``,
``X-Forwarded-For/Proto/Host`` (the client address the edge derived from trusted hops,
:mod:`bff.http.client_ip`, and the configured public URL, never the client's own claims),
``X-Request-Id`` and a W3C ``traceparent``: continuing the incoming trace (with a new parent
id) only when the direct peer is trusted to set it
(:func:`bff.observability.propagation.peer_is_trusted`) and its ``traceparent`` is well-formed,
else a new trace. With tracing on, the transport replaces it with the id of its own client span.

Towards the browser hop-by-hop headers are removed, and a ``Set-Cookie`` for any of the BFF's
own cookies is dropped: every name that starts with the session cookie's name (``__Host-bff``,
the login binding ``__Host-bff-login``, the sign-in binding ``__Host-bff-signin``, whatever
comes next under that prefix) and the locale cookie ``bff_locale``, compared case-insensitively
(browsers do not, but some proxies in between do): an upstream can never set, replace or clear
a BFF cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bff.http.ids import random_hex
from bff.http.responses import PRIVATE_NO_STORE_HEADER
from bff.observability import tracing

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})

#: Never forwarded upstream, whatever the client sent (lower-case).
STRIPPED_REQUEST = HOP_BY_HOP | frozenset({
    "host", "content-length", "expect", "cookie", "authorization", "forwarded", "x-real-ip",
    "x-request-id", "traceparent", "tracestate",
    "x-http-method-override", "x-http-method", "x-method-override",
    "x-original-url", "x-rewrite-url",
    "x-bff-origin-verify", "cloudfront-viewer-address",  # CloudFront's hop to the BFF: a secret
})

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$")


def _connection_tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def traceparent(incoming: str | None) -> tuple[str, bool]:
    """A traceparent for the upstream call and whether it continues the client's trace."""
    if incoming:
        match = _TRACEPARENT.match(incoming.strip())
        if (match and match[1] != "ff" and match[2] != "0" * 32 and match[3] != "0" * 16
                and (match[1] != "00" or len(incoming.strip()) == 55)):
            return f"00-{match[2]}-{_span_id()}-{match[4]}", True
    trace = random_hex(128)
    while trace == "0" * 32:
        trace = random_hex(128)
    return f"00-{trace}-{_span_id()}-01", False


def _span_id() -> str:
    span = random_hex(64)
    while span == "0" * 16:
        span = random_hex(64)
    return span


def upstream_headers(raw: Iterable[tuple[bytes, bytes]], *, client_ip: str, proto: str, host: str,
                     request_id: str, trust_trace: bool = False,
                     own_trace: bool = False) -> list[tuple[str, str]]:
    """Headers to send upstream (without ``Authorization``, which the transport adds per attempt).

    ``raw`` are ASGI header pairs (names already lower-case, as the ASGI spec requires);
    ``trust_trace``: the peer may set the trace context (else its traceparent is ignored);
    ``own_trace``: tracing is on, so no trace context here: :func:`traced` adds the BFF's
    span's at send time."""
    out: list[tuple[str, str]] = []
    hop: set[str] | None = None
    incoming_trace: str | None = None
    tracestate: list[str] = []
    for k, v in raw:
        key = k.decode("latin-1")
        if key in STRIPPED_REQUEST or key.startswith("x-forwarded-"):
            if key == "connection":
                hop = (hop or set()) | _connection_tokens(v.decode("latin-1"))
            elif key == "traceparent" and incoming_trace is None:
                incoming_trace = v.decode("latin-1")
            elif key == "tracestate":
                tracestate.append(v.decode("latin-1"))
            continue
        out.append((key, v.decode("latin-1")))
    if hop:
        out = [(k, v) for k, v in out if k not in hop]
    if not own_trace:
        parent, continued = traceparent(incoming_trace if trust_trace else None)
        out.append(("traceparent", parent))
        if continued and tracestate:
            out.append(("tracestate", ",".join(tracestate)))
    out += [("x-forwarded-for", client_ip), ("x-forwarded-proto", proto), ("x-forwarded-host", host),
            ("x-request-id", request_id)]
    return out


def traced(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` (from :func:`upstream_headers` with ``own_trace``) with the current span's
    ``traceparent`` (tracing on and a span current), else unchanged."""
    parent = tracing.traceparent()
    if parent is None:
        return headers
    return [*headers, ("traceparent", parent)]


def _cookie_name(set_cookie: bytes) -> bytes:
    return set_cookie.split(b"=", 1)[0].strip().lower()


def own_cookie_prefixes(session_cookie: bytes, *others: bytes) -> tuple[bytes, ...]:
    """The (lower-case) name prefixes of the BFF's own cookies: the session cookie's name,
    which the login and sign-in binding cookies extend, and any other name given."""
    return tuple(name.lower() for name in (session_cookie, *others))


_HOP_BY_HOP_BYTES = frozenset(h.encode() for h in HOP_BY_HOP)


def downstream_headers(items: Iterable[tuple[bytes, bytes]], *,
                       own_cookies: tuple[bytes, ...]) -> list[tuple[bytes, bytes]]:
    """Upstream response headers (raw pairs) to pass to the browser, as ASGI header pairs.
    ``own_cookies``: lower-case name prefixes of cookies no upstream may set
    (:func:`own_cookie_prefixes`)."""
    out: list[tuple[bytes, bytes]] = []
    named: set[bytes] | None = None  # headers the upstream's Connection header lists
    has_cache_control = False
    for k, value in items:
        key = k.lower()
        if key in _HOP_BY_HOP_BYTES:
            if key == b"connection":
                named = (named or set()) | {t.strip().lower() for t in value.split(b",") if t.strip()}
            continue
        if key == b"set-cookie" and _cookie_name(value).startswith(own_cookies):
            continue
        if key == b"cache-control":
            has_cache_control = True
        out.append((key, value))
    if named:
        out = [(k, v) for k, v in out if k not in named]
        has_cache_control = any(k == b"cache-control" for k, _ in out)
    if not has_cache_control:
        # Per-user API data: never stored by a shared cache unless the upstream says otherwise.
        out.append(PRIVATE_NO_STORE_HEADER)
    return out
