"""The role-checked proxy: ``/api/*`` → the upstream named by the route policy.

Per request, in this order (each rejection is problem+json and nothing reaches the upstream):

1. the path is unambiguous (no dot/empty segments, no encoded ``/``)    else 400
2. a policy route matches it                                             else 404
3. a session exists (the cookie)                                         else 401
4. the CSRF header is present (and Origin/Sec-Fetch-Site same-origin)    else 403 ``csrf``
5. the method is listed for the route                                    else 405 + ``Allow``
6. every listed scope is granted and, if roles are listed, the user has one   else 403
   ``insufficient_scope`` naming ``missingScopes`` / ``requiredRoles``
7. the body fits ``BFF_PROXY_MAX_BODY`` (by ``Content-Length`` or while reading) else 413

Then the request goes upstream with the session's access token (refreshed first when near
expiry, single-flight in the sign-in core). Request bodies are read whole (they are bounded by
the limit) so a 413 never leaves half a request upstream and an idempotent call can be replayed;
responses stream back chunk by chunk. An upstream 401 on an idempotent method triggers one
forced refresh and one retry; nothing else is retried here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from bff.auth.api import require_session
from bff.auth.csrf import check_csrf
from bff.content.locales import COOKIE_NAME as LOCALE_COOKIE
from bff.errors import BadRequest, BFFError, InsufficientScope, MethodNotAllowed, NotFound
from bff.http.body import read_body
from bff.http.client_ip import client_ip as edge_client_ip
from bff.lookup import ServiceKey, service
from bff.observability import metrics, tracing
from bff.observability.propagation import peer_is_trusted
from bff.proxy.headers import downstream_headers, own_cookie_prefixes, upstream_headers
from bff.proxy.policy import IDEMPOTENT, RoutePolicy, unsafe_path
from bff.proxy.transport import OutboundRequest, Transport, UpstreamResponse, UpstreamStreamError
from bff.settings import Settings

log = logging.getLogger("bff.proxy")


class Proxy:
    """The ``proxy`` service (``service(scope, PROXY)``), built once in the lifespan; :meth:`handle`
    is the raw-ASGI handler the edge gives ``/api`` and ``/api/*``."""

    def __init__(self, settings: Settings, policy: RoutePolicy, transports: Mapping[str, Transport]) -> None:
        self.settings = settings
        self.policy = policy
        self.transports = dict(transports)
        self.max_body = settings.proxy.max_body
        self.own_cookies = own_cookie_prefixes(settings.session.cookie_name.encode("latin-1"),
                                               LOCALE_COOKIE.encode("latin-1"))
        public = urlsplit(settings.public_url)
        self.public_proto = public.scheme
        self.public_netloc = public.netloc
        self.public_host = public.hostname or public.netloc

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        raw_path: bytes | None = scope.get("raw_path")
        reason = unsafe_path(path, raw_path)
        if reason is not None:
            raise BadRequest(f"Ambiguous request path ({reason})", code="bad_path")
        match = self.policy.match(path)
        if match is None:
            raise NotFound("No API route matches this path")
        route = match.route
        scope["route"] = route  # its template labels the request's span and metrics (bff.http.edge)

        conn = HTTPConnection(scope)
        session = await require_session(conn)
        check_csrf(conn, self.settings)
        method: str = scope["method"]
        if method not in route.methods:
            raise MethodNotAllowed(f"{method} is not allowed here", headers={"Allow": route.allow_header()})
        principal = session.principal
        missing_scopes, need_roles = route.missing(principal.scopes, principal.admin_role)
        if missing_scopes or need_roles:
            parts = []
            if missing_scopes:
                parts.append("missing scope " + ", ".join(missing_scopes))
            if need_roles:
                parts.append("requires one of the roles " + ", ".join(need_roles))
            raise InsufficientScope("; ".join(parts).capitalize(), missingScopes=missing_scopes,
                                    requiredRoles=need_roles)

        body = await read_body(scope["headers"], receive, self.max_body)
        client_ip = edge_client_ip(scope)  # derived once by the edge, from trusted hops only
        request_id: str = scope.get("state", {}).get("request_id", "-")
        request = OutboundRequest(
            method=method,
            path=path,
            raw_path=raw_path.decode("ascii", "replace") if raw_path else quote(path),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=upstream_headers(scope["headers"], client_ip=client_ip, proto=self.public_proto,
                                     host=self.public_netloc, request_id=request_id,
                                     trust_trace=peer_is_trusted(scope), own_trace=tracing.active()),
            body=body,
            route=route,
            path_params=match.params,
            client_ip=client_ip,
            request_id=request_id,
            public_host=self.public_host,
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        )
        transport = self.transports[route.upstream.name]
        token = await session.access_token()
        response = await self._send(transport, request, token, principal.access_claims)
        if response.status == 401 and method in IDEMPOTENT:
            await response.aclose()
            token = await session.access_token(force_refresh=True)
            response = await self._send(transport, request, token, session.principal.access_claims)
        await self._relay(response, send, route.upstream.name)

    async def _send(self, transport: Transport, request: OutboundRequest, token: str,
                    claims: Mapping[str, Any]) -> UpstreamResponse:
        """One upstream attempt; with telemetry on, inside its CLIENT span (whose id the
        transport sends as ``traceparent``) and timed to the response's headers."""
        if not (tracing.active() or metrics.enabled()):
            return await transport.send(request, token, claims)
        name = request.route.upstream.name
        began = time.perf_counter()
        attributes = {"bff.upstream": name, "http.route": request.route.path,
                      "http.request.method": request.method} if tracing.active() else None
        with tracing.span(f"upstream {name}", attributes, kind=tracing.SpanKind.CLIENT) as sp:
            try:
                response = await transport.send(request, token, claims)
            except BFFError as exc:
                metrics.UPSTREAM_ERRORS.inc(name, exc.code)
                metrics.UPSTREAM_SECONDS.observe(time.perf_counter() - began, name, str(exc.status))
                raise
            sp.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                tracing.fail(sp, str(response.status))
        metrics.UPSTREAM_SECONDS.observe(time.perf_counter() - began, name, str(response.status))
        return response

    async def _relay(self, response: UpstreamResponse, send: Send, upstream: str) -> None:
        complete = False
        try:
            await send({
                "type": "http.response.start",
                "status": response.status,
                "headers": downstream_headers(response.headers, own_cookies=self.own_cookies),
            })
            remaining = response.length
            try:
                while chunk := await response.read_chunk():
                    if complete:  # nothing after the declared length is relayed
                        continue
                    if remaining is not None:
                        remaining -= len(chunk)
                        if remaining <= 0:  # the declared last byte: end the response with it
                            await send({"type": "http.response.body", "body": chunk, "more_body": False})
                            complete = True
                            continue
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except UpstreamStreamError as exc:
                # Too late for a 502: the client sees a response cut short, never a fake success.
                log.warning("upstream %s broke off its response: %s", upstream, exc)
                return
            if not complete:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                complete = True
        finally:
            await response.aclose(complete=complete)


PROXY: ServiceKey[Proxy] = ServiceKey("proxy")


async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``/api`` and ``/api/*`` (the edge's prefix dispatch, and the router's ``/api`` mount)."""
    await service(scope, PROXY).handle(scope, receive, send)
