"""Application factory: ``create_app(settings)`` wires every area of the BFF.

Each area is a package with a ``component`` module exposing ``routes(settings)`` and
``start(settings, services, stack)``; the lifespan starts them in order (sign-in core first,
the SPA last because its history fallback must come after every other route).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import ModuleType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff.auth import component as auth_component
from bff.content import component as content_component
from bff.content.fastpath import ContentFastPath
from bff.errors import install_error_handlers
from bff.http.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from bff.logs import configure_logging
from bff.proxy import component as proxy_component
from bff.proxy.fastpath import ProxyFastPath
from bff.services import Services
from bff.settings import Settings, load_environment
from bff.signup import component as signup_component
from bff.spa import component as spa_component

COMPONENTS: tuple[ModuleType, ...] = (
    auth_component,
    content_component,
    proxy_component,
    signup_component,
    spa_component,
)

Override = Callable[[Services], Awaitable[None] | None]


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    results: dict[str, bool] = {}
    for name, check in services.ready_checks.items():
        try:
            results[name] = bool(await check())
        except Exception:
            results[name] = False
    ok = all(results.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results},
                        status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings, *, http: httpx.AsyncClient | None = None,
               overrides: Sequence[Override] = (),
               extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Build the ASGI app.

    ``http`` injects the client used for Okta/AEM/management calls (tests pass one with a
    ``MockTransport`` or an ``ASGITransport`` to a twin). ``overrides`` run after every
    component started, to swap a service for a test double. ``extra_routes`` come before the
    components' routes: what the dev stack adds (``/__dev/mail``, from the ``bff_dev`` package
    that production never installs).
    """
    configure_logging(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            client = http
            if client is None:
                client = httpx.AsyncClient(
                    timeout=httpx.Timeout(settings.okta.http_timeout, connect=5.0),
                    follow_redirects=False,
                    headers={"User-Agent": "bff/0.1"},
                )
                stack.push_async_callback(client.aclose)
            services = Services(settings=settings, http=client)
            app.state.services = services
            for component in COMPONENTS:
                await component.start(settings, services, stack)
            for override in overrides:
                result = override(services)
                if result is not None:
                    await result
            yield

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *extra_routes,
    ]
    for component in COMPONENTS:
        routes.extend(component.routes(settings))

    middleware = [
        # Cached copy answered before the stack, with the same headers (bff/content/fastpath.py).
        Middleware(ContentFastPath, https=settings.is_https),
        # Every /api call goes straight to the proxy, with the same headers (bff/proxy/fastpath.py).
        Middleware(ProxyFastPath, https=settings.is_https),
        Middleware(RequestContextMiddleware),
        Middleware(SecurityHeadersMiddleware, https=settings.is_https),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    install_error_handlers(app)
    app.state.settings = settings
    return app


def app_from_env() -> Any:
    """ASGI entry point for production servers (``uvicorn bff.app:app_from_env --factory``)."""
    return create_app(Settings.from_env(load_environment()))
