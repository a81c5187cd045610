"""The local Okta twin: one Okta org with a custom authorization server (``/oauth2/default``),
its users and groups, the Management API (``/api/v1``) and event hooks, as one Starlette app.

The parts import downward: :mod:`~bff_dev.twins.okta.org` (the state) and the records of
:mod:`~bff_dev.twins.okta.model` at the bottom, the endpoints (``oidc``, ``mgmt``, ``hooks``,
``registration``) over them, each given the org and the parts it calls; this module assembles
them. ``provisioning`` (installed by ``bff dev`` and tests) sits on top of the twin.

Everything is in memory and per instance, so tests can run many twins side by side. Knobs are
plain attributes (``access_token_ttl``, ``refresh_leeway``, ``code_ttl`` ...) and may be changed
while the twin serves.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from bff_dev.twins.okta.activation import Activation
from bff_dev.twins.okta.errors import api_error_body
from bff_dev.twins.okta.faults import FaultInjector
from bff_dev.twins.okta.hooks import EventHooks
from bff_dev.twins.okta.idx import IdxEndpoints
from bff_dev.twins.okta.idx_registration import IdxRegistration
from bff_dev.twins.okta.mgmt import ManagementApi
from bff_dev.twins.okta.minter import Minter
from bff_dev.twins.okta.oidc import OidcEndpoints
from bff_dev.twins.okta.org import OktaOrg
from bff_dev.twins.okta.pages import Pages
from bff_dev.twins.okta.registration import Registration


class OktaTwin(OktaOrg):
    """An Okta org twin serving OIDC (custom authorization server ``default``) and the Management API.

    ``base_url`` is the org URL as clients see it (e.g. ``http://localhost:9001``); the issuer is
    ``{base_url}/oauth2/default``. The state and its knobs are :class:`OktaOrg`'s.
    """

    def __init__(self, base_url: str, *, users_file: Path | None = None) -> None:
        super().__init__(base_url, users_file=users_file)
        self.minter = Minter(self)
        self.pages = Pages(self.issuer, self.base_url)
        self.oidc = OidcEndpoints(self, minter=self.minter, pages=self.pages)
        self.hooks = EventHooks(self)
        self.mgmt = ManagementApi(self, hooks=self.hooks)
        self.registration = Registration(self, oidc=self.oidc, pages=self.pages, hooks=self.hooks)
        self.idx = IdxEndpoints(self, oidc=self.oidc)  # the Identity Engine (Interaction Code, IDX)
        self.idx.hooks = self.hooks  # lockouts, password changes, enrollments as LogEvents
        self.oidc.extra_grants["interaction_code"] = self.idx.interaction_code_grant
        self.idx_registration = IdxRegistration(self.idx, self.hooks)  # profile enrollment policy
        self.idx.extension = self.idx_registration
        self.activation = Activation(self.idx, self.hooks)  # the Users API's activation email and page
        self.mgmt.activation = self.activation

        routes: list[BaseRoute] = [*self.oidc.routes("/oauth2/default"), *self.mgmt.routes(),
                                   *self.registration.routes(), *self.idx.routes("/oauth2/default"),
                                   *self.idx_registration.routes(), *self.activation.routes()]
        self.app = Starlette(
            routes=routes,
            middleware=[Middleware(_FaultMiddleware, twin=self)],
            exception_handlers={HTTPException: self._http_error, Exception: self._server_error},
            lifespan=self._lifespan,
        )

    def add_routes(self, routes: Iterable[BaseRoute]) -> None:
        """Mount more endpoints (e.g. provisioning APIs) on the twin's app, even while serving."""
        self.app.router.routes.extend(routes)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if request.url.path.startswith("/api/"):
            code = {404: "E0000007", 405: "E0000022"}.get(status, "E0000009")
            summary = None
            if status == 404:
                summary = f"Not found: Resource not found: {request.url.path} (Resource)"
            return JSONResponse(api_error_body(code, summary), status_code=status)
        if status == 405:
            return JSONResponse({"error": "invalid_request", "error_description":
                                 "The endpoint does not support the provided HTTP method"}, status_code=405)
        return JSONResponse({"errorCode": "E0000022" if status == 405 else "E0000007",
                             "errorSummary": "Not found: Resource not found" if status == 404 else
                             "The endpoint does not support the provided HTTP method"}, status_code=status)

    async def _server_error(self, request: Request, exc: Exception) -> Response:
        self.counters["server_error"] += 1
        return JSONResponse(api_error_body("E0000009"), status_code=500)


class _FaultMiddleware:
    def __init__(self, app: ASGIApp, twin: OktaTwin) -> None:
        self.inner = FaultInjector(app, twin.counters)
        self.inner.faults = twin.faults  # shared list: fail_next() works after start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)
