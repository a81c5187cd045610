"""Serving the SPA: its HTML at every SPA route (history fallback), its hashed assets, and the
CSP violation reports of its pages.

    GET  /assets/{name}      hashed (immutable, a year) or, from the source tree, logical
                             (no-cache) asset; gzip when accepted; ETag / 304
    POST /bff/csp-report     CSP violation reports (report-uri and Reporting API): logged
    GET  /{path}             index.html with a fresh CSP nonce and the bootstrap block; 200
                             for the SPA's routes, 404 (still the SPA, showing "not found")
                             for other paths. Never for /bff/*, /api/*, /__dev/*, /assets/*,
                             /healthz, /readyz, /preview or file-like paths: those stay 404
                             problem+json (the fallback route does not even match them).

The fallback route is the last route of the app (``bff.app`` lists the SPA's routes last), so
every other area's routes win over it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from bff.auth.api import current_session
from bff.content.locales import COOKIE_NAME as LOCALE_COOKIE
from bff.content.locales import LocalePolicy
from bff.content.variations import MASTER, is_variation
from bff.errors import BFFError, NotFound, UnsupportedMediaType
from bff.http.body import parse_json, read_limited
from bff.http.negotiation import if_none_match_hits, media_type
from bff.http.responses import NO_STORE
from bff.lookup import ServiceKey, service
from bff.settings import Settings
from bff.spa.assets import IMMUTABLE, REVALIDATE, AssetCatalog
from bff.spa.bootstrap import CopySource, build_bootstrap, client_settings
from bff.spa.csp import build_policy, new_nonce, reporting_endpoints
from bff.spa.pages import NOT_FOUND, is_reserved, journey_for, looks_like_file, page_for
from bff.spa.shell import Shell

log = logging.getLogger("bff.spa")

HTML_CACHE = "private, no-cache"
MAX_REPORT_BYTES = 16 * 1024
REPORT_TYPES = frozenset({"application/csp-report", "application/reports+json", "application/json"})
COPY_TIMEOUT = 2.0  # the page renders without copy rather than wait longer (the SPA fetches it)


class SpaArea:
    """Everything the SPA's routes need (``service(request, SPA)``), built once at start-up."""

    def __init__(self, settings: Settings, catalog: AssetCatalog, shell: Shell,
                 copy: CopySource | None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.shell = shell
        self.copy = copy
        self.locales = LocalePolicy(settings.content.locales, settings.content.default_locale)
        self.image_urls = {a.logical: a.url for a in catalog.assets.values() if a.logical.startswith("img/")}
        self.report_log = _LogBudget(per_second=5.0, burst=20)
        self.client_settings = client_settings(settings)


SPA: ServiceKey[SpaArea] = ServiceKey("spa")


def _area(request: Request) -> SpaArea:
    return service(request, SPA)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return path


class HistoryFallback(Route):
    """A catch-all route that does not match BFF-owned or file-like paths, so those fall
    through to the router's own 404 (problem+json) or 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path = _route_path(scope)
            if is_reserved(path) or looks_like_file(path):
                return Match.NONE, {}
        return super().matches(scope)


# --------------------------------------------------------------------------------------------
# The HTML
# --------------------------------------------------------------------------------------------


async def _user(request: Request) -> dict[str, Any] | None:
    try:
        session = await current_session(request)
    except BFFError as exc:
        # The session store is down: render the page signed-out rather than an error page;
        # the SPA's own /bff/user call will tell the truth once the store is back.
        log.warning("page rendered without the user: %s", exc.instance_code)
        return None
    return session.principal.public_view() if session is not None else None


async def _copy(area: SpaArea, journeys: list[str], requested: str, locale: str, *, preview: bool,
                variation: str) -> dict[str, Any]:
    if area.copy is None:
        return {}
    source = area.copy

    async def one(journey: str) -> tuple[str, Mapping[str, Any] | None]:
        try:
            body = await asyncio.wait_for(
                source(journey, requested, locale, preview=preview, variation=variation), COPY_TIMEOUT)
            return journey, body
        except (BFFError, TimeoutError, ValueError) as exc:
            log.warning("first-paint copy for %s/%s unavailable: %s", journey, locale, type(exc).__name__)
            return journey, None

    results = await asyncio.gather(*(one(j) for j in dict.fromkeys(journeys)))
    return {journey: body for journey, body in results if body is not None}


async def page(request: Request) -> Response:
    area = _area(request)
    settings = area.settings
    path = _route_path(request.scope)
    found = page_for(path)
    current = found or NOT_FOUND
    user = await _user(request)
    param = request.query_params.get("locale")
    try:
        resolved = area.locales.resolve(param, request.cookies.get(LOCALE_COOKIE),
                                        request.headers.get("accept-language"))
    except BFFError:  # a malformed ?locale= on a page: ignore it (the API answers 400)
        resolved = area.locales.resolve(None, request.cookies.get(LOCALE_COOKIE),
                                        request.headers.get("accept-language"))
    locale = resolved.locale
    # Draft copy only for a content author who switched preview on (as /bff/content decides).
    preview = bool(user and user.get("preview") and settings.content.preview_group in user.get("groups", ()))
    variation = request.query_params.get("variation") or MASTER
    if not preview or not is_variation(variation):  # a page ignores what the copy API refuses
        variation = MASTER
    journeys = ["common", journey_for(current, user is not None)]
    copy = await _copy(area, journeys, resolved.requested, locale, preview=preview, variation=variation)
    bootstrap = build_bootstrap(settings, locale=locale, page=current.name, copy=copy, user=user,
                                assets=area.image_urls, client=area.client_settings)
    nonce = new_nonce()
    journey = journeys[1]
    title_key = (journey, "home.title" if current.name == "root" and user else "title")
    body = area.shell.render(nonce=nonce, bootstrap=bootstrap, title_key=title_key)
    headers = {
        "Content-Security-Policy": build_policy(settings, nonce=nonce),
        "Reporting-Endpoints": reporting_endpoints(),
        "Cache-Control": HTML_CACHE,
        "Vary": "Cookie, Accept-Language",
    }
    return Response(body, status_code=200 if found else 404, media_type="text/html; charset=utf-8",
                    headers=headers)


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in {"gzip", "*"}:
            continue
        params = params.strip().replace(" ", "")
        if params.startswith("q="):
            try:
                return float(params[2:]) > 0
            except ValueError:
                return False
        return True
    return False


async def asset(request: Request) -> Response:
    area = _area(request)
    name = request.path_params["path"]
    found = area.catalog.find(name)
    if found is None:
        raise NotFound("No such asset")
    item, immutable = found
    gzipped = item.gzipped is not None and _accepts_gzip(request.headers.get("accept-encoding"))
    etag = item.etag[:-1] + '-gz"' if gzipped else item.etag
    headers = {
        "Cache-Control": IMMUTABLE if immutable else REVALIDATE,
        "ETag": etag,
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if item.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if if_none_match_hits(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = item.gzipped if gzipped and item.gzipped is not None else item.body
    return Response(body, media_type=item.media_type, headers=headers)


# --------------------------------------------------------------------------------------------
# CSP reports
# --------------------------------------------------------------------------------------------


class _LogBudget:
    """Token bucket for log lines: a page stuck in a violation loop must not flood the logs."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.rate = per_second
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = time.monotonic()
        self.dropped = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.dropped += 1
        return False


def _clip(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value)[:limit] if value is not None else "-"
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[:limit]


def _violations(payload: Any) -> list[dict[str, Any]]:
    """Both shapes: ``{"csp-report": {...}}`` (report-uri) and ``[{"type": "csp-violation",
    "body": {...}}]`` (Reporting API)."""
    out: list[dict[str, Any]] = []
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        r = payload["csp-report"]
        out.append({"directive": r.get("effective-directive") or r.get("violated-directive"),
                    "blocked": r.get("blocked-uri"), "document": r.get("document-uri"),
                    "source": r.get("source-file"), "line": r.get("line-number"),
                    "sample": r.get("script-sample")})
    elif isinstance(payload, list):
        for entry in payload[:20]:
            if isinstance(entry, dict) and entry.get("type") == "csp-violation" \
                    and isinstance(entry.get("body"), dict):
                b = entry["body"]
                out.append({"directive": b.get("effectiveDirective"), "blocked": b.get("blockedURL"),
                            "document": b.get("documentURL"), "source": b.get("sourceFile"),
                            "line": b.get("lineNumber"), "sample": b.get("sample")})
    return out


async def csp_report(request: Request) -> Response:
    area = _area(request)
    if media_type(request.headers.get("content-type")) not in REPORT_TYPES:
        raise UnsupportedMediaType("Send application/csp-report or application/reports+json")
    payload = parse_json(await read_limited(request, MAX_REPORT_BYTES))
    for v in _violations(payload):
        if area.report_log.take():
            log.warning("CSP violation: directive=%s blocked=%s document=%s source=%s:%s sample=%s",
                        _clip(v["directive"]), _clip(v["blocked"]), _clip(v["document"]),
                        _clip(v["source"]), _clip(v["line"]), _clip(v["sample"], 80))
    return Response(status_code=204, headers=NO_STORE)


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/assets/{path:path}", asset, methods=["GET"]),
        Route("/bff/csp-report", csp_report, methods=["POST"]),
        HistoryFallback("/{path:path}", page, methods=["GET"]),
    ]
