"""HTTP endpoints of the content area.

    GET  /bff/content/{journey}   localized copy (public, cacheable; private for previewers):
                                  a raw-ASGI handler the edge hands ``/bff/content/*`` to
    GET  /bff/preview             {"enabled", "allowed"} for the signed-in user
    POST /bff/preview             {"enabled": bool}: content authors switch preview on/off (CSRF)
    GET  /preview?path=&variation=  AEM's "Preview URL": opens the SPA on the fragment's journey
    GET|POST /bff/hooks/aem       AEM content-fragment events (see bff.content.hooks)
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import HTTPConnection, Request, cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from bff.auth.api import SessionAccess, current_session, require_session
from bff.auth.csrf import check_csrf
from bff.content.aem import AemClient
from bff.content.bundle import JOURNEYS
from bff.content.bus import EvictionBus
from bff.content.hooks import MAX_BODY as HOOK_MAX_BODY
from bff.content.hooks import HookProcessor, parse_events, parse_fragment_path, valid_challenge
from bff.content.locales import COOKIE_NAME, LocalePolicy
from bff.content.service import ContentService, Rendered
from bff.content.variations import MASTER, VariationPolicy, parse_variation
from bff.errors import (
    BadRequest,
    BFFError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from bff.http.body import parse_json_object, read_limited
from bff.http.negotiation import if_none_match_hits, media_type
from bff.http.responses import NO_STORE, PRIVATE_NO_STORE_HEADER
from bff.lookup import ServiceKey, service
from bff.settings import Settings

log = logging.getLogger("bff.content")

_PREVIEW_BODY_MAX = 1024

#: Everything besides the path that ``GET /bff/content/{journey}`` answers may depend on: a shared
#: cache in front of it must key on exactly these (infra/template.yaml ``ContentCachePolicy``,
#: docs/deploy.md; tests/unit/content/test_cdn_contract.py holds the endpoint to it). The session
#: cookie is deliberately absent: a session changes the answer only for a previewer, and those
#: answers are ``private, no-store``; any ``?preview=`` URL is too.
CACHE_KEY_QUERY: tuple[str, ...] = ("locale", "variation", "preview")
CACHE_KEY_HEADERS: tuple[str, ...] = ("Accept-Language",)
CACHE_KEY_COOKIES: tuple[str, ...] = (COOKIE_NAME,)

#: The SPA route of each journey (docs/content.md: the contract with the SPA).
JOURNEY_ROUTES: dict[str, str] = {
    "signin": "/signin",
    "signup": "/signup",
    "profile": "/profile",
    "admin": "/admin",
    "common": "/",
    "email": "/email-preview",
}


@dataclass
class ContentArea:
    """What the handlers need, built once at start-up (``service(request, CONTENT)``)."""

    settings: Settings
    policy: LocalePolicy
    service: ContentService
    hooks: HookProcessor
    publish: AemClient
    bus: EvictionBus
    variations: VariationPolicy = field(default_factory=VariationPolicy)

    def __post_init__(self) -> None:
        c = self.settings.content
        self.preview_group = c.preview_group
        self.session_cookie = self.settings.session.cookie_name
        public = f"public, max-age={c.browser_max_age}, stale-while-revalidate={c.stale_ttl}, " \
                 f"stale-if-error={c.stale_ttl}"
        degraded = f"public, max-age={min(c.browser_max_age, 10)}, stale-if-error={c.stale_ttl}"
        self._cache_control = {"cache": public.encode(), "aem": public.encode(),
                               "stale": degraded.encode(), "bundled": degraded.encode()}
        self._headers: dict[tuple[str, str, bool, bool, bool, bool], list[tuple[bytes, bytes]]] = {}
        self._parse_query_memo = functools.lru_cache(maxsize=1024)(_parse_query)

    def parse_query(self, query_string: bytes) -> CopyQuery:
        # Memoise only query strings of sane length (the memo must stay small).
        if len(query_string) > 256:
            return _parse_query(query_string)
        return self._parse_query_memo(query_string)

    def headers(self, rendered: Rendered, *, negotiated: bool, body: bool,
                private: bool = False) -> list[tuple[bytes, bytes]]:
        """The response's header list (built once per rendered body; callers get a copy,
        since middleware appends to it). ``private``: never stored by shared caches (any
        ``?preview=`` URL, so a CDN can never hand a cached public answer to a previewer)."""
        key = (rendered.etag, rendered.source, rendered.preview, negotiated, body, private)
        cached = self._headers.get(key)
        if cached is None:
            if rendered.preview or private:
                cached = [PRIVATE_NO_STORE_HEADER, (b"vary", b"Cookie")]
            else:
                cached = [(b"etag", rendered.etag.encode()),
                          (b"cache-control", self._cache_control[rendered.source]),
                          (b"vary", b"Accept-Language, Cookie" if negotiated else b"Cookie")]
            if body:
                cached.append((b"content-type", b"application/json"))
                cached.append((b"content-length", str(len(rendered.body)).encode()))
            if len(self._headers) >= 4096:
                self._headers.clear()
            self._headers[key] = cached
        return list(cached)

    def may_preview(self, session: SessionAccess) -> bool:
        return self.preview_group in session.principal.groups


CONTENT: ServiceKey[ContentArea] = ServiceKey("content")


@dataclass(frozen=True)
class CopyQuery:
    locale: str | None
    variation: str
    preview: bool  # ``preview=`` present (the SPA's cache key for preview mode)


def _parse_query(query_string: bytes) -> CopyQuery:
    """``locale``, ``variation`` and ``preview`` of a query string (memoised: few distinct values)."""
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return CopyQuery(params.get("locale"), parse_variation(params.get("variation")), "preview" in params)


def _area(request: Request) -> ContentArea:
    return service(request, CONTENT)


PREFIX = "/bff/content/"
_ALLOW = {"Allow": "GET, HEAD"}


class ContentEndpoint:
    """``GET /bff/content/{journey}`` as a plain ASGI app (the edge hands it every path under
    ``/bff/content/``; the router's route lists it too): the hot path (cached copy, no session
    cookie) reads the few headers it needs straight from the scope, looks the response up in
    one dictionary and sends prepared bytes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method != "GET" and method != "HEAD":
            raise MethodNotAllowed(f"{method} is not allowed here", headers=_ALLOW)
        area = service(scope, CONTENT)
        journey = scope["path"][len(PREFIX):]
        if not journey or "/" in journey:  # not a path the route /bff/content/{journey} matches
            raise NotFound()
        if journey not in JOURNEYS:
            raise NotFound(f"Unknown journey; expected one of {', '.join(JOURNEYS)}", code="unknown_journey")
        query = area.parse_query(scope["query_string"])
        param, variation = query.locale, area.variations.check(query.variation)  # before any AEM call
        cookie = accept_language = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        cookies = cookie_parser(cookie.decode("latin-1")) if cookie else {}
        resolved = area.policy.resolve(param, cookies.get(COOKIE_NAME), accept_language)
        negotiated = param is None
        private = query.preview

        if area.session_cookie in cookies:
            try:
                session = await current_session(HTTPConnection(scope))
            except BFFError as exc:
                # The session store is down: the published copy needs no session, but who asked
                # (maybe a previewer) is unknown, so the answer is never stored.
                log.warning("copy served without the session: %s", exc.instance_code)
                session, private = None, True
            if session is not None and session.principal.preview and area.may_preview(session):
                rendered = await area.service.render_preview(journey, resolved.requested, resolved.locale,
                                                             variation)
                headers = area.headers(rendered, negotiated=negotiated, body=True)
                await _send(send, 200, headers, rendered.body, method)
                return

        rendered = (area.service.render_fresh(journey, resolved.requested, resolved.locale, variation)
                    or await area.service.render(journey, resolved.requested, resolved.locale, variation))
        if private:  # not (known to be) a previewer: the public copy, but never in a shared cache
            headers = area.headers(rendered, negotiated=negotiated, body=True, private=True)
            await _send(send, 200, headers, rendered.body, method)
            return
        if if_none_match is not None and if_none_match_hits(if_none_match, rendered.etag):
            headers = area.headers(rendered, negotiated=negotiated, body=False)
            await _send(send, 304, headers, b"", method)
            return
        headers = area.headers(rendered, negotiated=negotiated, body=True)
        await _send(send, 200, headers, rendered.body, method)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes,
                method: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


content = ContentEndpoint()


def _no_store(payload: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers=NO_STORE)


async def preview_state(request: Request) -> Response:
    area = _area(request)
    session = await require_session(request)
    allowed = area.may_preview(session)
    return _no_store({"enabled": allowed and session.principal.preview, "allowed": allowed})


async def preview_toggle(request: Request) -> Response:
    area = _area(request)
    check_csrf(request, area.settings)
    session = await require_session(request)
    if not area.may_preview(session):
        raise Forbidden("Preview is for content authors", code="preview_forbidden")
    if media_type(request.headers.get("content-type")) != "application/json":
        raise UnsupportedMediaType("Send application/json")
    raw = await read_limited(request, _PREVIEW_BODY_MAX)
    try:
        payload = parse_json_object(raw)
    except BadRequest as exc:  # this endpoint has always answered a body it cannot use with 422
        raise ValidationFailed([{"field": "enabled", "code": "invalid"}], exc.detail) from None
    if not isinstance(payload.get("enabled"), bool):
        raise ValidationFailed([{"field": "enabled", "code": "invalid"}], 'Send {"enabled": true|false}')
    enabled: bool = payload["enabled"]
    await session.set_flag("preview", enabled)
    return _no_store({"enabled": enabled})


async def preview_entry(request: Request) -> Response:
    """AEM's content fragment "Preview URL" lands here; redirect to the SPA screen."""
    area = _area(request)
    path = request.query_params.get("path", "")
    ref = parse_fragment_path(path, site=area.settings.content.aem_site)
    if ref is None:
        raise BadRequest(f"path must be a UI copy fragment: /content/dam/{area.settings.content.aem_site}"
                         "/{locale}/ui-copy/{journey}", code="invalid_preview_path")
    variation = area.variations.check(parse_variation(request.query_params.get("variation")))
    session = await current_session(request)
    if session is None:
        here = request.url.path + ("?" + request.url.query if request.url.query else "")
        return RedirectResponse("/bff/login?returnTo=" + quote(here, safe=""), status_code=303,
                                headers=NO_STORE)
    if not area.may_preview(session):
        raise Forbidden("Preview is for content authors", code="preview_forbidden")
    locale = area.policy.negotiate((ref.locale,)) or area.policy.default
    params = {"locale": locale, "preview": "1"}
    if variation != MASTER:
        params["variation"] = variation
    return RedirectResponse(JOURNEY_ROUTES[ref.journey] + "?" + urlencode(params), status_code=303,
                            headers=NO_STORE)


async def aem_hook(request: Request) -> Response:
    area = _area(request)
    challenge = request.query_params.get("challenge")
    if challenge is not None:
        if not valid_challenge(challenge) or len(request.query_params.getlist("challenge")) != 1:
            raise BadRequest("Invalid challenge", code="invalid_challenge")
        return PlainTextResponse(challenge, headers=NO_STORE)
    if request.method != "POST":
        raise BadRequest("Expected a challenge or a POSTed event", code="invalid_event")
    body = await read_limited(request, HOOK_MAX_BODY)
    how = await area.hooks.authenticate(body, request.headers)
    events = parse_events(body, request.headers.get("content-type", ""), request.headers)
    area.hooks.check(events, how)
    result = await area.hooks.process(events)
    return _no_store(result)
