"""The hot path of ``GET /bff/content/{journey}``, answered before the middleware stack.

Most copy requests hit the cache: same URL, no session cookie, an entry still fresh. For those,
this outermost pure-ASGI middleware sends the prepared bytes directly, with exactly the headers
the normal stack would add: the security headers are *captured from*
:class:`~bff.http.middleware.SecurityHeadersMiddleware` itself (not re-declared here), and the
request id follows :class:`~bff.http.middleware.RequestContextMiddleware`'s rule. Everything
else (a miss, a stale entry, a session cookie that may mean preview, any malformed input, HEAD,
other paths) goes through the normal stack untouched, which renders errors as problem+json.

Without it the cached endpoint costs about twice a bare Starlette endpoint (routing through
every area's routes and two header-rewriting middlewares); see ``benchmarks/bench_content.py``.
"""

from __future__ import annotations

import secrets

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from bff.content.bundle import JOURNEYS
from bff.content.endpoints import if_none_match_hits
from bff.content.locales import COOKIE_NAME
from bff.errors import BFFError
from bff.http.middleware import _REQUEST_ID_OK, security_headers

PREFIX = "/bff/content/"


class ContentFastPath:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https
        self._security: list[tuple[bytes, bytes]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(PREFIX)
                and await self._serve(scope, send)):
            return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        services = getattr(scope["app"].state, "services", None)
        area = services.areas.get("content") if services is not None else None
        if area is None:
            return False
        journey = scope["path"][len(PREFIX):]
        if journey not in JOURNEYS:
            return False
        cookie = accept_language = if_none_match = request_id = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"x-request-id" and request_id is None:  # the first, as RequestContextMiddleware
                request_id = value.decode("latin-1")
        try:
            query = area.parse_query(scope["query_string"])
            if query.preview:
                return False  # preview URLs are never shared-cacheable: the full path decides
            param, variation = query.locale, query.variation
            locale_cookie = None
            if cookie:
                cookies = cookie_parser(cookie.decode("latin-1"))
                if area.session_cookie in cookies:
                    return False  # may be a previewing author: the full path decides
                locale_cookie = cookies.get(COOKIE_NAME)
            resolved = area.policy.resolve(param, locale_cookie, accept_language)
        except BFFError:
            return False  # the full path answers the problem
        rendered = area.service.render_fresh(journey, resolved.requested, resolved.locale, variation)
        if rendered is None:
            return False
        if self._security is None:
            self._security = security_headers(self.https)
        if request_id is None or not _REQUEST_ID_OK.match(request_id):
            request_id = secrets.token_hex(16)
        negotiated = param is None
        if if_none_match is not None and if_none_match_hits(if_none_match, rendered.etag):
            status, body = 304, b""
            headers = area.headers(rendered, negotiated=negotiated, body=False)
        else:
            status, body = 200, rendered.body
            headers = area.headers(rendered, negotiated=negotiated, body=True)
        headers += self._security
        headers.append((b"x-request-id", request_id.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
