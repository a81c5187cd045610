"""Helpers for the content area's unit tests: the BFF in-process with its HTTP client routed to
the AEM twin (``httpx.ASGITransport``: no sockets), and a fake session lookup for preview."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bff.app import create_app
from bff.content.endpoints import ContentArea
from bff.services import Services
from bff_dev.twins.aem import AemTwin
from tests.support.env import make_settings
from tests.support.fake_sessions import FakeSessions, principal

AUTHOR_TOKEN = "unit-author-token-0123456789"
HOOK_SECRET = "unit-hook-secret-0123456789abcdef"
PUBLIC = "https://app.example.test"


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    client: httpx.AsyncClient
    twin: AemTwin
    sessions: FakeSessions
    clock: Clock
    services: Services

    @property
    def area(self) -> ContentArea:
        return self.services.content

    def author_cookie(self) -> str:
        self.sessions.add(
            "carol-cookie",
            principal(
                login="carol@acme.test", email="carol@acme.test", groups=("Everyone", "content-authors")
            ),
        )
        return "carol-cookie"

    def user_cookie(self) -> str:
        self.sessions.add("bob-cookie", principal())
        return "bob-cookie"


@contextlib.asynccontextmanager
async def harness(**env: str) -> AsyncIterator[Harness]:
    twin = AemTwin(author_token=AUTHOR_TOKEN)
    sessions = FakeSessions()
    clock = Clock()
    holder: dict[str, Services] = {}
    settings = make_settings(
        BFF_AEM_AUTHOR_URL="https://publish.aem.example.test/author",
        BFF_AEM_AUTHOR_TOKEN=AUTHOR_TOKEN,
        BFF_AEM_WEBHOOK_SECRET=HOOK_SECRET,
        BFF_AEM_RETRIES="1",
        **{"BFF_CONTENT_VARIATIONS": "summer", **env},
    )

    def override(services: Services) -> Services:
        services = dataclasses.replace(services, sessions=sessions)
        services.content.service.cache.clock = clock
        holder["services"] = services
        return services

    upstream = httpx.AsyncClient(transport=httpx.ASGITransport(app=twin.app))
    app = create_app(settings, http=upstream, overrides=[override])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
            yield Harness(client, twin, sessions, clock, holder["services"])
    await upstream.aclose()


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as value:
        yield value


Factory = Callable[..., Any]
