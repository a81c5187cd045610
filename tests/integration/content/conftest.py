"""The content area over real loopback: the AEM twin served by uvicorn, real Redis, moto."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bff.app import create_app
from bff.settings import Settings
from bff_dev.serving import free_port, serve_asgi
from bff_dev.twins.aem import AemTwin

AUTHOR_TOKEN = "integration-author-token-0123456789"
HOOK_SECRET = "integration-hook-secret-0123456789ab"
REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.asynccontextmanager
async def running_aem_twin(**kwargs: Any) -> AsyncIterator[AemTwin]:
    """An :class:`AemTwin` on 127.0.0.1:<free port>; ``twin.base_url`` is set."""
    port = free_port()
    twin = AemTwin(author_token=AUTHOR_TOKEN, **kwargs)
    twin.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    async with contextlib.AsyncExitStack() as stack:
        await serve_asgi(stack, twin.app, port, name="aem-twin")
        yield twin


def aem_env(twin: AemTwin) -> dict[str, str]:
    base: str = twin.base_url  # type: ignore[attr-defined]
    return {
        "BFF_AEM_URL": base,
        "BFF_AEM_AUTHOR_URL": f"{base}/author",
        "BFF_AEM_AUTHOR_TOKEN": AUTHOR_TOKEN,
        "BFF_AEM_WEBHOOK_SECRET": HOOK_SECRET,
    }


@contextlib.asynccontextmanager
async def bff(
    settings: Settings, base_url: str = "https://app.example.test"
) -> AsyncIterator[httpx.AsyncClient]:
    """The BFF in-process (its outgoing calls go over real loopback HTTP)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
        async with app_client:
            app_client.app = app  # type: ignore[attr-defined]
            yield app_client


@pytest.fixture
async def aem() -> AsyncIterator[AemTwin]:
    async with running_aem_twin() as twin:
        yield twin
