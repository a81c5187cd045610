"""Application factory: ``create_app(settings)`` wires every area of the BFF.

The request pipeline is one pure-ASGI edge (:class:`bff.http.edge.Edge`: request id, security
headers, errors as problem+json) around a prefix dispatch: ``/api`` to the proxy's raw handler,
``/bff/content/`` to the copy endpoint's, everything else to the Starlette router. The lifespan
builds the typed :class:`~bff.services.Services` with :func:`build_services`, area by area in
written-out order, each given what it depends on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bff.auth import component as auth_component
from bff.content import component as content_component
from bff.content.endpoints import PREFIX as CONTENT_PREFIX
from bff.content.endpoints import content as content_endpoint
from bff.http.client_ip import ClientAddress
from bff.http.edge import Edge
from bff.http.responses import NO_STORE
from bff.logs import configure_logging
from bff.openapi import component as openapi_component
from bff.proxy import component as proxy_component
from bff.proxy import proxy
from bff.proxy.policy import RoutePolicy
from bff.services import ReadyCheck, Services, services_of
from bff.settings import Settings, load_environment
from bff.signin import component as signin_component
from bff.signup import component as signup_component
from bff.spa import component as spa_component

#: A test's hook, run once the services are built: returns the services to use instead (e.g.
#: ``dataclasses.replace(services, sessions=fake)``) or None to keep them (having mutated an
#: area object in place).
Override = Callable[[Services], Services | None | Awaitable[Services | None]]


async def build_services(settings: Settings, http: httpx.AsyncClient, stack: contextlib.AsyncExitStack,
                         *, policy: RoutePolicy) -> Services:
    """Every area's long-lived objects, in dependency order; clean-ups registered on ``stack``."""
    auth = await auth_component.build(settings, http, stack)
    content = await content_component.build(settings, http, stack)
    api = await proxy_component.build(settings, policy, stack)
    signup = await signup_component.build(settings, http, stack, auth.store)
    auth.revocation.subscribe(signup.hook)  # the Okta events that end sessions (bff.auth.revocation)
    signin = await signin_component.build(settings, http, stack, auth, signup.idx_signup())
    spa = spa_component.build(settings, content)
    ready: dict[str, ReadyCheck] = {
        "session_store": auth.store.ping,
        "idp_discovery": auth.oidc.ready,
        "outbox": signup.outbox.ping,
    }
    if policy.routes:
        proxy_component.tune_gc()  # after start-up: everything built so far is long-lived
    return Services(settings=settings, http=http, sessions=auth.sessions, auth=auth, content=content,
                    proxy=api, signup=signup, signin=signin, spa=spa, ready_checks=ready)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    services = services_of(request)
    results: dict[str, bool] = {}
    for name, check in services.ready_checks.items():
        try:
            results[name] = bool(await check())
        except Exception:
            results[name] = False
    ok = all(results.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results},
                        status_code=200 if ok else 503, headers=NO_STORE)


class BFFApp(Starlette):
    """Starlette with :class:`~bff.http.edge.Edge` as its whole middleware stack: no
    ``ServerErrorMiddleware`` or ``ExceptionMiddleware`` (the edge renders every error)."""

    def __init__(self, *, routes: Sequence[BaseRoute], lifespan: Any, https: bool,
                 prefixes: Sequence[tuple[str, ASGIApp]], client_address: ClientAddress) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self._https = https
        self._prefixes = tuple(prefixes)
        self._client_address = client_address

    def build_middleware_stack(self) -> ASGIApp:
        return Edge(self.router, https=self._https, prefixes=self._prefixes,
                    client_address=self._client_address)


def create_app(settings: Settings, *, http: httpx.AsyncClient | None = None,
               overrides: Sequence[Override] = (), extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Build the ASGI app.

    ``http`` injects the client used for Okta/AEM/management calls (tests pass one with a
    ``MockTransport`` or an ``ASGITransport`` to a twin). ``overrides`` run once the services
    are built, to swap one for a test double (:data:`Override`). ``extra_routes`` go before the
    SPA's history fallback (the local stack adds its dev pages this way).
    """
    configure_logging(settings.log_level)
    policy = proxy_component.load(settings)  # a bad BFF_API_ROUTES stops start-up here

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
            services = await build_services(settings, client, stack, policy=policy)
            for override in overrides:
                result = override(services)
                if isinstance(result, Awaitable):
                    result = await result
                if result is not None:
                    services = result
            app.state.services = services
            yield

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *auth_component.routes(settings),
        *content_component.routes(settings),
        *proxy_component.routes(settings),
        *signup_component.routes(settings),
        *signin_component.routes(settings),
        *openapi_component.routes(settings),
        *extra_routes,
        *spa_component.routes(settings),  # last: its history fallback matches every other path
    ]
    app = BFFApp(routes=routes, lifespan=lifespan, https=settings.is_https,
                 prefixes=[("/api", proxy.endpoint), (CONTENT_PREFIX, content_endpoint)],
                 client_address=settings.client_address.resolver())
    app.state.settings = settings
    return app


def app_from_env() -> Any:
    """ASGI entry point for production servers (``uvicorn bff.app:app_from_env --factory``)."""
    return create_app(Settings.from_env(load_environment()))
