"""The app's one request pipeline: the outermost pure-ASGI layer every HTTP request crosses.

Per request, for every path:

1. the request id: the client's well-formed ``X-Request-Id`` (the first one) or a new one
   (:mod:`bff.http.ids`), put in ``scope["state"]["request_id"]`` and the logging context,
   and echoed on the response (replacing any the handler or an upstream set); likewise the
   client address, derived once from a trusted source (:mod:`bff.http.client_ip`), in
   ``scope["state"]["client_ip"]`` and the logging context;
2. the prefix dispatch: ``/api`` and ``/api/*`` go to the API proxy's raw-ASGI handler,
   ``/bff/content/*`` to the copy endpoint's, everything else to the Starlette router (whose
   route table still lists both, for tools that walk it);
3. the security headers (:func:`security_headers`) added to every response that did not set
   its own (compared case-insensitively; the SPA's HTML sets its own CSP with a nonce);
4. any exception raised before the response started becomes its problem+json through
   :func:`bff.errors.response_for` (the one mapping, which logs it once, with its traceback when
   it was unexpected), with the request id and the security headers like any response. A
   client that went away (``ClientDisconnect``) gets nothing; an exception after the response
   started is re-raised to the server, which closes the connection: the client sees a response
   cut short, never a fake success.

5. telemetry, when on (:mod:`bff.observability`; off, one test per request): the request's
   SERVER span (named ``METHOD route-template``, continuing the ``traceparent`` of a trusted
   peer only, :mod:`bff.observability.propagation`) around everything above, and its latency in
   ``bff_http_request_duration_seconds`` by route template, method and status. The template is
   the one the router matched (``scope["route"].path``; the proxy and the copy endpoint set
   theirs), ``(unmatched)`` otherwise: never the raw path. A client that went away before an
   answer counts as status 499.

No other layer sets request ids, adds these headers or renders errors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.errors import response_for
from bff.http.client_ip import ClientAddress
from bff.http.ids import request_id_from
from bff.logs import client_ip_var, request_id_var
from bff.observability import metrics, propagation, tracing
from bff.observability.attributes import AttributeValue

# A CSP for responses that are not the SPA's HTML (JSON, problems, redirects): nothing may run.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

_REQUEST_ID = b"x-request-id"
#: Methods counted under their own name; any other token a client sends is ``other``.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"
#: The SERVER span's start attributes by (method, scheme), built once (read-only).
_SERVER_ATTRIBUTES: dict[tuple[str, str], dict[str, AttributeValue]] = {}


class Template(NamedTuple):
    """A route template for a raw-ASGI handler to put in ``scope["route"]`` (like the router's)."""

    path: str


def route_template(scope: Scope) -> str:
    """The route template that served ``scope`` (see the module docstring), never its path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class _Exchange:
    """What the edge learns of one response as it passes."""

    __slots__ = ("started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 499


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers every response carries unless it set its own (raw ASGI pairs)."""
    pairs = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Content-Security-Policy", DEFAULT_CSP),
    ]
    if https:
        pairs.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


class Edge:
    """See the module docstring. ``prefixes``: ``(prefix, app)`` pairs tried in order; a prefix
    ending in ``/`` matches paths under it, any other matches itself and paths under
    ``prefix + "/"`` (so ``/api`` takes ``/api`` and ``/api/x``, never ``/apis``)."""

    def __init__(self, router: ASGIApp, *, https: bool, prefixes: Sequence[tuple[str, ASGIApp]] = (),
                 client_address: ClientAddress | None = None) -> None:
        self.router = router
        self.client_address = client_address or ClientAddress()
        self.security = tuple(security_headers(https))
        self.security_names = frozenset(name for name, _ in self.security)
        self.prefixes = tuple(prefixes)

    def route(self, path: str) -> ASGIApp:
        for prefix, app in self.prefixes:
            if path.startswith(prefix) and (prefix[-1] == "/" or len(path) == len(prefix)
                                            or path[len(prefix)] == "/"):
                return app
        return self.router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets, which no route accepts)
            await self.router(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                incoming = value
                break
        rid = request_id_from(incoming)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["client_ip"] = client = self.client_address.resolve(scope)
        state["client_address"] = self.client_address  # whom to believe (the trace context too)
        rid_header = (_REQUEST_ID, rid.encode("latin-1"))
        security = self.security
        exchange = _Exchange()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.started = True
                exchange.status = message["status"]
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                if _REQUEST_ID in present:
                    headers = [h for h in headers if h[0].lower() != _REQUEST_ID]
                if not self.security_names <= present:
                    headers.extend(h for h in security if h[0] not in present)
                headers.append(rid_header)
                message = {**message, "headers": headers}
            await send(message)

        token = request_id_var.set(rid)
        client_token = client_ip_var.set(client)
        try:
            if tracing.active() or metrics.enabled():
                await self._observed(scope, receive, send_with_headers, exchange)
            else:
                await self._handle(scope, receive, send_with_headers, exchange)
        finally:
            request_id_var.reset(token)
            client_ip_var.reset(client_token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange) -> None:
        try:
            await self.route(scope["path"])(scope, receive, send)
        except ClientDisconnect:
            return
        except Exception as exc:
            if exchange.started:
                raise
            response = response_for(exc, scope["method"], scope["path"])
            await response(scope, receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send, exchange: _Exchange) -> None:
        method: str = scope["method"]
        if method not in _METHODS:
            method = "other"
        began = time.perf_counter()
        template = UNMATCHED
        try:
            scheme = scope.get("scheme", "http")
            attributes = _SERVER_ATTRIBUTES.get((method, scheme))
            if attributes is None:  # (methods are the seven or "other", schemes http/https)
                attributes = _SERVER_ATTRIBUTES[method, scheme] = {"http.request.method": method,
                                                                    "url.scheme": scheme}
            parent = propagation.incoming(scope) if tracing.active() else None
            with tracing.span(method, attributes, kind=tracing.SpanKind.SERVER, parent=parent) as sp:
                try:
                    await self._handle(scope, receive, send, exchange)
                finally:
                    template = route_template(scope)
                    if sp.is_recording():
                        sp.update_name(f"{method} {template}")
                        sp.set_attribute("http.route", template)
                        sp.set_attribute("http.response.status_code", exchange.status)
                        if exchange.status >= 500:
                            tracing.fail(sp, str(exchange.status))
        finally:
            metrics.HTTP_REQUEST_SECONDS.observe(time.perf_counter() - began, template, method,
                                                 str(exchange.status))
