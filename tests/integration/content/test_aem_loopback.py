"""The AEM client and /bff/content against the twin over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import time

import httpx

from bff.content.aem import AemClient, StaticToken
from bff.errors import GatewayTimeout, Unavailable
from bff_dev.twins.aem import AemTwin
from tests.integration.content.conftest import AUTHOR_TOKEN, aem_env, bff
from tests.support.env import make_settings


async def test_client_reads_publish_and_author_tiers_over_http(aem: AemTwin) -> None:
    base = aem.base_url  # type: ignore[attr-defined]
    async with httpx.AsyncClient() as http:
        publish = AemClient(http, base, "bff")
        author = AemClient(http, f"{base}/author", "bff", auth=StaticToken(AUTHOR_TOKEN), tier="author")
        published = await publish.fetch_copy("signin", "fr_ca")
        draft = await author.fetch_copy("signin", "en")
        assert published is not None and published.strings["email.label"] == "Courriel professionnel"
        assert draft is not None and draft.strings["title"] == "Welcome back"
        # uvicorn hands the twin the raw, still-encoded path: Adobe's encoding survived the trip.
        assert [c.variables for c in aem.calls] == [
            {"journey": "signin", "locale": "fr_ca"},
            {"journey": "signin", "locale": "en"},
        ]
        plain = await http.get(f"{base}/graphql/execute.json/bff/ui-copy;journey=common;locale=ja")
        assert plain.json()["data"]["uiCopyList"]["items"][0]["strings"]["nav.home"] == "ホーム"


async def test_client_timeouts_and_outages_over_http(aem: AemTwin) -> None:
    async with httpx.AsyncClient() as http:
        client = AemClient(http, aem.base_url, "bff", timeout=0.2, retries=1, backoff=0.01)  # type: ignore[attr-defined]
        aem.knobs["publish"].delay = 1.0
        started = time.monotonic()
        try:
            await client.fetch_copy("signin", "en")
        except GatewayTimeout:
            pass
        else:
            raise AssertionError("expected a timeout")
        assert time.monotonic() - started < 1.0
        aem.knobs["publish"].delay = 0
        aem.knobs["publish"].mode = "down"
        try:
            await client.fetch_copy("signin", "en")
        except Unavailable:
            pass
        else:
            raise AssertionError("expected Unavailable")
        dead = AemClient(http, "http://127.0.0.1:9", "bff", timeout=0.5, retries=1, backoff=0.01)
        try:
            await dead.fetch_copy("signin", "en")
        except Unavailable as exc:
            assert exc.instance_code == "aem_unreachable"


async def test_endpoint_over_loopback_with_outage_and_recovery(aem: AemTwin) -> None:
    settings = make_settings(**aem_env(aem), BFF_AEM_TIMEOUT="0.3", BFF_CONTENT_TTL="1")
    async with bff(settings) as client:
        first = await client.get("/bff/content/admin?locale=de")
        assert first.json()["source"] == "aem" and first.json()["strings"]["title"] == "Verwaltung"
        aem.knobs["publish"].mode = "down"
        await asyncio.sleep(1.1)  # past the TTL
        stale = await client.get("/bff/content/admin?locale=de")
        assert stale.status_code == 200 and stale.json()["source"] == "stale"
        cold = await client.get("/bff/content/signup?locale=es")
        assert cold.status_code == 200 and cold.json()["source"] == "bundled"
        aem.knobs["publish"].mode = "ok"
        await asyncio.sleep(1.1)  # past the failure hold-off (min(5, ttl))
        await client.get("/bff/content/admin?locale=de")  # stale again; refresh runs
        await asyncio.sleep(0.2)
        fresh = await client.get("/bff/content/admin?locale=de")
        assert fresh.json()["source"] == "cache"
