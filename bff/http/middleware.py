"""Pure ASGI middleware shared by every route (no BaseHTTPMiddleware: it breaks streaming
and context variables)."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.logs import request_id_var

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# A CSP for responses that are not the SPA's HTML (JSON, problems, redirects): nothing may run.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


class RequestContextMiddleware:
    """Gives each request an id (the client's ``X-Request-Id`` when well-formed, else a new
    random one), exposes it to logs and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID_OK.match(candidate):
                    rid = candidate
                break
        rid = rid or secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers every response carries unless it set its own (raw ASGI pairs).

    Defined once: :class:`SecurityHeadersMiddleware` adds them, and the pre-routing fast paths
    (cached copy, the API proxy) add the very same list to the responses they answer."""
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


class SecurityHeadersMiddleware:
    """Security headers on every response. A response that set its own CSP (the SPA's HTML,
    with a per-response nonce) keeps it; everything else gets :data:`DEFAULT_CSP`."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        self.pairs = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.setdefault("headers", [])
                present = {name.lower() for name, _ in raw}
                missing = [pair for pair in self.pairs if pair[0] not in present]
                if missing:
                    message["headers"] = [*raw, *missing]
            await send(message)

        await self.app(scope, receive, send_with_headers)
