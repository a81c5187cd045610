"""The BFF in-process for the SPA's unit tests: no network (every outgoing call answers 503
from a MockTransport, so AEM falls back to the bundled copy), sessions from the test double."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bff.app import create_app
from bff.services import Services
from bff.spa.endpoints import SpaArea
from tests.support.env import make_settings
from tests.support.fake_sessions import FakeSessions

ORIGIN = "https://app.example.test"
BOOTSTRAP = re.compile(r'<script type="application/json" id="bootstrap" nonce="([^"]+)">(.*?)</script>', re.S)


def offline(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"error": "offline in unit tests"})


@dataclass
class Harness:
    client: httpx.AsyncClient
    sessions: FakeSessions
    services: Services

    @property
    def spa(self) -> SpaArea:
        area: SpaArea = self.services.spa
        return area


@asynccontextmanager
async def harness(copy: Mapping[str, Mapping[str, Any]] | None = None, **env: str) -> AsyncIterator[Harness]:
    """``copy``: journey → /bff/content body to serve as first-paint copy (else the content area's)."""
    settings = make_settings(BFF_AEM_RETRIES="0", **env)
    sessions = FakeSessions()
    holder: dict[str, Services] = {}

    def install(services: Services) -> Services:
        services = dataclasses.replace(services, sessions=sessions)
        holder["services"] = services
        if copy is not None:
            async def source(journey: str, requested: str, locale: str, *, preview: bool,
                             variation: str) -> Mapping[str, Any] | None:
                return copy.get(journey)

            services.spa.copy = source
        return services

    http = httpx.AsyncClient(transport=httpx.MockTransport(offline))
    app = create_app(settings, http=http, overrides=[install])
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 4000))
            async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
                yield Harness(client, sessions, holder["services"])
    finally:
        await http.aclose()


def csp_directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out
